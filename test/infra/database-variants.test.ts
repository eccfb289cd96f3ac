// The stack under other contexts (no bundling): an existing database by ID, the demo database,
// RDS Proxy in front of either, a separate source database, and `-c` overrides reaching the
// resources they configure.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { dashboardWidgets, EXISTING, resourceId, SOURCE, synthPipeline, type Synthesized } from './helpers.ts';

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

describe('a separate source database (-c sourceDatabaseSecretArn=…)', () => {
  const TARGET_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const SOURCE_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/5678abcd-12ab-34cd-56ef-1234567890ab';
  const SOURCE_GROUP = 'sg-0ddddddddddddddd4';
  const s = synth({
    ...EXISTING,
    databaseSecretKeyArn: TARGET_KEY,
    ...SOURCE,
    sourceDatabaseSecretKeyArn: SOURCE_KEY,
    sourceSecurityGroupId: SOURCE_GROUP,
    rdsProxy: 'true',
    databaseClusterId: 'ledger-cluster',
  });
  const t = s.template;
  const policyStatements = (prefix: string) => {
    const role = t.findResources('AWS::Lambda::Function')[resourceId(t, 'AWS::Lambda::Function', prefix)]?.Properties.Role['Fn::GetAtt'][0] as string;
    return Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Condition?: unknown }[]);
  };

  test('both functions get its secret and host; the target keeps DATABASE_SECRET_ARN and the proxy endpoint', () => {
    const proxy = resourceId(t, 'AWS::RDS::DBProxy', 'DatabaseProxy');
    for (const prefix of ['WorkerFunction', 'CoordinatorFunction']) {
      const env = functionEnv(s, prefix);
      assert.equal(env.SOURCE_DATABASE_SECRET_ARN, SOURCE.sourceDatabaseSecretArn, prefix);
      assert.equal(env.SOURCE_DATABASE_HOST, SOURCE.sourceDatabaseHost, prefix);
      assert.equal(env.DATABASE_SECRET_ARN, EXISTING.databaseSecretArn, prefix);
      assert.deepEqual(env.DATABASE_HOST, { 'Fn::GetAtt': [proxy, 'Endpoint'] }, prefix);
    }
  });

  test('both functions may read both secrets, and decrypt each with its own key via Secrets Manager only', () => {
    for (const prefix of ['WorkerFunction', 'CoordinatorFunction']) {
      const statements = policyStatements(prefix);
      const reads = statements.filter((st) => JSON.stringify(st.Action) === JSON.stringify(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']));
      // minimizePolicies may merge statements that differ only in their resources.
      const resourcesOf = (list: typeof statements) => list.flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource])).sort();
      assert.deepEqual(resourcesOf(reads), [EXISTING.databaseSecretArn, SOURCE.sourceDatabaseSecretArn].sort(), prefix);
      const decrypts = statements.filter((st) => st.Action === 'kms:Decrypt');
      assert.deepEqual(resourcesOf(decrypts), [SOURCE_KEY, TARGET_KEY].sort(), prefix);
      for (const st of decrypts) {
        assert.deepEqual(st.Condition, { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } });
      }
    }
  });

  test('the functions also wear the security group the source admits; the proxy in front of the target does not', () => {
    for (const prefix of ['WorkerFunction', 'CoordinatorFunction']) {
      const props = t.findResources('AWS::Lambda::Function')[resourceId(t, 'AWS::Lambda::Function', prefix)]?.Properties;
      assert.deepEqual(props?.VpcConfig, { SubnetIds: EXISTING.subnetIds.split(','), SecurityGroupIds: [EXISTING.securityGroupId, SOURCE_GROUP] }, prefix);
    }
    const proxy = Object.values(t.findResources('AWS::RDS::DBProxy'))[0]?.Properties;
    assert.equal(JSON.stringify(proxy?.VpcSecurityGroupIds).includes(SOURCE_GROUP), false);
    assert.equal(JSON.stringify(t.findResources('AWS::EC2::SecurityGroupIngress')).includes(SOURCE_GROUP), false);
  });

  test('the RDS Proxy reads the target secret only', () => {
    const proxyRole = resourceId(t, 'AWS::IAM::Role', 'DatabaseProxyRole');
    const statements = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === proxyRole))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Resource: unknown }[]);
    const resources = JSON.stringify(statements.map((st) => st.Resource));
    assert.ok(resources.includes(EXISTING.databaseSecretArn));
    assert.equal(resources.includes(SOURCE.sourceDatabaseSecretArn), false);
    assert.equal(resources.includes(SOURCE_KEY), false);
  });

  test('outputs: the source secret and the connections each database needs, per side', () => {
    const outputs = t.toJSON().Outputs as Record<string, { Value: unknown; Description?: string }>;
    assert.equal(outputs.SourceDatabaseSecretArn?.Value, SOURCE.sourceDatabaseSecretArn);
    assert.equal(outputs.SourceDatabaseConnections?.Value, '3');
    assert.equal(outputs.TargetDatabaseConnections?.Value, '3');
    assert.equal(outputs.DatabaseConnections, undefined);
    assert.match(outputs.SourceDatabaseConnections?.Description ?? '', /on the source database at most: maxConcurrency 2 x 1 per worker \+ 1 \(coordinator\); 5 if/);
  });

  test('without a host, no SOURCE_DATABASE_HOST: the functions connect to the host in the source secret', () => {
    const plain = synth({ ...EXISTING, sourceDatabaseSecretArn: SOURCE.sourceDatabaseSecretArn });
    for (const prefix of ['WorkerFunction', 'CoordinatorFunction']) {
      assert.equal(functionEnv(plain, prefix).SOURCE_DATABASE_SECRET_ARN, SOURCE.sourceDatabaseSecretArn);
      assert.equal(functionEnv(plain, prefix).SOURCE_DATABASE_HOST, undefined);
    }
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

  test('-c indexBuildMemoryMb and -c indexBuildParallelWorkers reach both functions (planned by the coordinator, run by workers)', () => {
    const s = synth({ indexBuildMemoryMb: '2048', indexBuildParallelWorkers: '4' });
    for (const prefix of ['WorkerFunction', 'CoordinatorFunction']) {
      assert.equal(functionEnv(s, prefix).INDEX_BUILD_MEMORY_MB, '2048', prefix);
      assert.equal(functionEnv(s, prefix).INDEX_BUILD_PARALLEL_WORKERS, '4', prefix);
    }
  });

  test('-c scheduleMode=append: the schedule sends an append run', () => {
    synth({ scheduleMode: 'append' }).template.hasResourceProperties('AWS::Scheduler::Schedule', { Target: Match.objectLike({ Input: '{"mode":"append"}' }) });
  });

  test('-c metricsNamespace: the worker writes there, the dashboard and the rejected-rows alarm read there', () => {
    const s = synth({ metricsNamespace: 'Staging/PgFanout' });
    assert.equal(functionEnv(s, 'WorkerFunction').METRICS_NAMESPACE, 'Staging/PgFanout');
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RowsRejected', Namespace: 'Staging/PgFanout' });
    const namespaces = new Set(dashboardWidgets(s.template).flatMap((w) => (w.properties.metrics ?? []).map((m) => m[0])));
    assert.ok(namespaces.has('Staging/PgFanout'));
    assert.equal(namespaces.has('PgFanout'), false);
  });

  test('-c sourceTable/targetTable: the Pipeline dimension is "source -> target" as the catalog prints them', () => {
    // Unquoted names fold to lower case, quoted ones keep theirs and are shown quoted, as in SQL.
    const s = synth({ sourceTable: 'Sales."Order Lines"', targetTable: 'staging.orders_split' });
    const name = 'sales."Order Lines" -> staging.orders_split';
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RowsRejected', Dimensions: [{ Name: 'Pipeline', Value: name }] });
    assert.equal((s.template.toJSON().Outputs as Record<string, { Value: unknown }>).PipelineName?.Value, name);
    assert.equal(functionEnv(s, 'WorkerFunction').SOURCE_TABLE, 'Sales."Order Lines"');
  });

  test('an unqualified table is shown in public, with a warning to qualify it', () => {
    const s = synth({ sourceTable: 'input_table' });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RowsRejected',
      Dimensions: [{ Name: 'Pipeline', Value: 'public.input_table -> public.output_table' }],
    });
    const warnings = s.stack.node.metadata.filter((m) => m.type === 'aws:cdk:warning').map((m) => String(m.data));
    assert.ok(warnings.some((w) => /sourceTable has no schema: .*schema-qualify/.test(w)), warnings.join('\n'));
  });

  test('-c stackName names the stack and its dashboard', () => {
    const s = synth({ stackName: 'PgFanoutStaging' });
    assert.equal(s.stack.stackName, 'PgFanoutStaging');
    s.template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'PgFanoutStaging' });
  });
});
