// The stack under other contexts (no bundling): an existing database by ID, the demo database,
// RDS Proxy in front of either, and `-c` overrides reaching the resources they configure.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { EXISTING, resourceId, synthPipeline, type Synthesized } from './helpers.ts';

const made: Synthesized[] = [];
const synth = (overrides: Record<string, unknown>) => {
  const s = synthPipeline(overrides);
  made.push(s);
  return s;
};
after(() => {
  for (const s of made) s.dispose();
});

const functionEnv = (s: Synthesized, prefix: string) =>
  s.template.findResources('AWS::Lambda::Function')[resourceId(s.template, 'AWS::Lambda::Function', prefix)]?.Properties.Environment.Variables;

describe('existing database by ID', () => {
  const s = synth({ ...EXISTING, databaseSecretKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' });
  const t = s.template;

  test('the functions run in the given subnets with the given security group', () => {
    for (const prefix of ['WorkerFunction', 'CoordinatorFunction']) {
      t.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.anyValue(),
        VpcConfig: { SubnetIds: EXISTING.subnetIds.split(','), SecurityGroupIds: [EXISTING.securityGroupId] },
      });
      assert.equal(functionEnv(s, prefix).DATABASE_SECRET_ARN, EXISTING.databaseSecretArn);
    }
  });

  test('read access is granted on exactly that secret, and decrypt on its key via Secrets Manager only', () => {
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: EXISTING.databaseSecretArn }),
          Match.objectLike({
            Action: 'kms:Decrypt',
            Resource: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
            Condition: {
              StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
            },
          }),
        ]),
      },
    });
  });

  test('no placeholder guard, no VPC or database created, no proxy', () => {
    assert.equal((t.toJSON().Rules as Record<string, unknown>).RequireDatabaseContext, undefined);
    t.resourceCountIs('AWS::EC2::VPC', 0);
    t.resourceCountIs('AWS::RDS::DBCluster', 0);
    t.resourceCountIs('AWS::RDS::DBProxy', 0);
    t.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    assert.equal(functionEnv(s, 'WorkerFunction').DATABASE_HOST, undefined);
  });
});

describe('demo database (-c demoDatabase=true)', () => {
  const s = synth({ demoDatabase: 'true' });
  const t = s.template;

  test('an encrypted Aurora Serverless v2 PostgreSQL that scales to zero, TLS forced, Data API on', () => {
    t.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      StorageEncrypted: true,
      EnableHttpEndpoint: true,
      EnableIAMDatabaseAuthentication: true,
      DatabaseName: 'pgfanout',
      ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 4 },
    });
    t.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless', PubliclyAccessible: false });
    t.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', { Parameters: { 'rds.force_ssl': '1' } });
  });

  test('its own VPC with no NAT, flow logs, and endpoints for Secrets Manager and SQS', () => {
    t.resourceCountIs('AWS::EC2::VPC', 1);
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.resourceCountIs('AWS::EC2::InternetGateway', 0);
    t.resourceCountIs('AWS::EC2::FlowLog', 1);
    for (const service of ['secretsmanager', 'sqs']) {
      t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, `.${service}`]] },
        PrivateDnsEnabled: true,
      });
    }
  });

  test('the cluster admits the functions on its port, the endpoints admit them on 443, and the functions read the generated secret', () => {
    const clientGroup = resourceId(t, 'AWS::EC2::SecurityGroup', 'DatabaseDemoClientSecurityGroup');
    const cluster = resourceId(t, 'AWS::RDS::DBCluster', 'DatabaseDemoCluster');
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: { 'Fn::GetAtt': [cluster, 'Endpoint.Port'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [clientGroup, 'GroupId'] },
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 443,
      ToPort: 443,
      SourceSecurityGroupId: { 'Fn::GetAtt': [clientGroup, 'GroupId'] },
    });
    const attachment = resourceId(t, 'AWS::SecretsManager::SecretTargetAttachment', 'DatabaseDemoClusterSecretAttachment');
    t.hasResourceProperties('AWS::SecretsManager::SecretTargetAttachment', { TargetType: 'AWS::RDS::DBCluster', TargetId: { Ref: cluster } });
    for (const prefix of ['WorkerFunction', 'CoordinatorFunction']) {
      assert.deepEqual(functionEnv(s, prefix).DATABASE_SECRET_ARN, { Ref: attachment });
      assert.equal(functionEnv(s, prefix).DATABASE_TLS, 'verify-full');
    }
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('worker'),
      VpcConfig: { SecurityGroupIds: [{ 'Fn::GetAtt': [clientGroup, 'GroupId'] }], SubnetIds: Match.anyValue() },
    });
  });

  test('no placeholder guard', () => {
    assert.equal((t.toJSON().Rules as Record<string, unknown>).RequireDatabaseContext, undefined);
  });
});

describe('RDS Proxy (-c rdsProxy=true)', () => {
  test('in front of the demo cluster: TLS required, functions connect to its endpoint', () => {
    const s = synth({ demoDatabase: 'true', rdsProxy: 'true' });
    const proxy = resourceId(s.template, 'AWS::RDS::DBProxy', 'DatabaseProxy');
    s.template.hasResourceProperties('AWS::RDS::DBProxy', { EngineFamily: 'POSTGRESQL', RequireTLS: true });
    for (const prefix of ['WorkerFunction', 'CoordinatorFunction']) {
      assert.deepEqual(functionEnv(s, prefix).DATABASE_HOST, { 'Fn::GetAtt': [proxy, 'Endpoint'] });
    }
    s.template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', { DBClusterIdentifiers: [Match.anyValue()] });
  });

  test('in front of an existing Aurora cluster, wearing the functions security group too', () => {
    const s = synth({ ...EXISTING, rdsProxy: 'true', databaseClusterId: 'orders-cluster' });
    s.template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', { DBClusterIdentifiers: ['orders-cluster'] });
    s.template.hasResourceProperties('AWS::RDS::DBProxy', {
      RequireTLS: true,
      VpcSubnetIds: EXISTING.subnetIds.split(','),
      VpcSecurityGroupIds: Match.arrayWith([EXISTING.securityGroupId]),
    });
    s.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 5432,
      SourceSecurityGroupId: EXISTING.securityGroupId,
    });
  });

  test('in front of an existing RDS instance', () => {
    const s = synth({ ...EXISTING, rdsProxy: 'true', databaseInstanceId: 'orders-db' });
    s.template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', { DBInstanceIdentifiers: ['orders-db'] });
  });
});

describe('context overrides reach the resources', () => {
  test('-c maxConcurrency=8 raises reserved concurrency with it (reservedConcurrency: auto)', () => {
    const s = synth({ maxConcurrency: '8' });
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 8 } });
    s.template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('worker'), ReservedConcurrentExecutions: 8 });
  });

  test('-c workerTimeoutSeconds=600 -c maxBatchingWindowSeconds=5 -c batchSize=20 moves the visibility timeout with them', () => {
    const s = synth({ workerTimeoutSeconds: '600', maxBatchingWindowSeconds: '5', batchSize: '20', workerMemoryMb: '2048' });
    s.template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 6 * 600 + 5 });
    s.template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('worker'), Timeout: 600, MemorySize: 2048 });
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 20, MaximumBatchingWindowInSeconds: 5 });
  });

  test('-c scheduleEnabled=false keeps the schedule but disables it; mode, expression and zone are passed through', () => {
    const s = synth({ scheduleEnabled: 'false', scheduleMode: 'full', scheduleExpression: 'cron(0 2 * * ? *)', scheduleTimeZone: 'Europe/Berlin' });
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      State: 'DISABLED',
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      Target: Match.objectLike({ Input: '{"mode":"full"}' }),
    });
  });

  test('-c logLevel=debug lowers Lambda\'s filter too; -c logRetentionDays=7 and alarm settings apply', () => {
    const s = synth({ logLevel: 'debug', logRetentionDays: '7', alarmEmail: 'ops@example.com', alarmOldestMessageAgeSeconds: '900' });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: Match.objectLike({ ApplicationLogLevel: 'DEBUG' }),
      Environment: { Variables: Match.objectLike({ LOG_LEVEL: 'debug' }) },
    });
    s.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    s.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 900 });
  });

  test('-c stackName names the stack and its dashboard', () => {
    const s = synth({ stackName: 'PgFanoutStaging' });
    assert.equal(s.stack.stackName, 'PgFanoutStaging');
    s.template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'PgFanoutStaging' });
  });
});
