// The stack synthesized from cdk.json's default context, bundled once: every property the deploy
// contract names, asserted on the template (no snapshot), plus the Lambda package itself.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import {
  CONNECTIONS_PER_WORKER,
  DEFAULT_BACKPRESSURE,
  DEFAULT_INDEX_BUILD,
  DEFAULT_TABLES,
  minimumVisibility,
  SOURCE_CONNECTIONS_PER_WORKER,
  TARGET_CONNECTIONS_PER_WORKER,
} from '../../lambdas/shared/config.ts';
import { connectionBudget } from '../../infra/pipeline-stack.ts';
import { CA_BUNDLE_FILE, CA_BUNDLE_PATH_IN_LAMBDA } from '../../infra/rds-ca-bundle.ts';
import { dashboardWidgets, resourceId, synthPipeline, type Synthesized } from './helpers.ts';

let synth: Synthesized;
let template: Template;
let ids: { worker: string; coordinator: string; queue: string; dlq: string; topic: string };

before(() => {
  synth = synthPipeline({}, { bundle: true });
  template = synth.template;
  ids = {
    worker: resourceId(template, 'AWS::Lambda::Function', 'WorkerFunction'),
    coordinator: resourceId(template, 'AWS::Lambda::Function', 'CoordinatorFunction'),
    queue: resourceId(template, 'AWS::SQS::Queue', 'WorkQueueAD'),
    dlq: resourceId(template, 'AWS::SQS::Queue', 'WorkQueueDeadLetterQueue'),
    topic: resourceId(template, 'AWS::SNS::Topic', 'MonitoringAlarmTopic'),
  };
});
after(() => synth.dispose());

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('work queue and dead-letter queue', () => {
  test('redrive to the DLQ after maxReceiveCount (>= 5) receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: arnOf(ids.dlq), maxReceiveCount: DEFAULT_BACKPRESSURE.maxReceiveCount },
    });
    assert.ok(DEFAULT_BACKPRESSURE.maxReceiveCount >= 5);
  });

  test('visibility timeout is at least 6 x worker timeout + batching window', () => {
    const queue = template.findResources('AWS::SQS::Queue')[ids.queue];
    const visibility = queue?.Properties.VisibilityTimeout as number;
    assert.equal(visibility, minimumVisibility(DEFAULT_BACKPRESSURE));
    const worker = template.findResources('AWS::Lambda::Function')[ids.worker];
    const timeout = worker?.Properties.Timeout as number;
    const window = template.findResources('AWS::Lambda::EventSourceMapping');
    const batching = Object.values(window)[0]?.Properties.MaximumBatchingWindowInSeconds as number;
    assert.ok(visibility >= 6 * timeout + batching, `${visibility} < 6 x ${timeout} + ${batching}`);
  });

  test('both queues are encrypted at rest and keep messages 14 days', () => {
    for (const id of [ids.queue, ids.dlq]) {
      const props = template.findResources('AWS::SQS::Queue')[id]?.Properties;
      assert.equal(props?.SqsManagedSseEnabled, true, id);
      assert.equal(props?.MessageRetentionPeriod, 14 * 24 * 3600, id);
    }
  });

  test('both queues deny every request that is not over TLS', () => {
    for (const id of [ids.queue, ids.dlq]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Resource: arnOf(id),
            }),
          ]),
        },
      });
    }
  });
});

describe('worker function', () => {
  test('Node.js 22 on ARM64 with reserved concurrency, memory and timeout from the config', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('worker'),
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      ReservedConcurrentExecutions: DEFAULT_BACKPRESSURE.reservedConcurrency,
      MemorySize: 1024,
      Timeout: DEFAULT_BACKPRESSURE.workerTimeoutSeconds,
    });
  });

  test('logs structured JSON into its own log group with a retention, at INFO so EMF lines survive', () => {
    const logGroup = resourceId(template, 'AWS::Logs::LogGroup', 'WorkerFunctionLogGroup');
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const props = template.findResources('AWS::Lambda::Function')[ids.worker]?.Properties;
    assert.deepEqual(props?.LoggingConfig, {
      LogFormat: 'JSON',
      ApplicationLogLevel: 'INFO',
      SystemLogLevel: 'INFO',
      LogGroup: { Ref: logGroup },
    });
    assert.equal(template.findResources('AWS::Logs::LogGroup')[logGroup]?.Properties.RetentionInDays, 30);
  });

  test('gets every setting the runtime config reads, TLS verify-full against the shipped CA bundle', () => {
    const env = template.findResources('AWS::Lambda::Function')[ids.worker]?.Properties.Environment.Variables;
    assert.equal(env.DATABASE_TLS, 'verify-full');
    assert.equal(env.DATABASE_CA_FILE, CA_BUNDLE_PATH_IN_LAMBDA);
    assert.equal(env.DATABASE_CA_FILE, `/var/task/${CA_BUNDLE_FILE}`);
    assert.match(env.DATABASE_SECRET_ARN, /^arn:aws:secretsmanager:/);
    assert.deepEqual(env.WORK_QUEUE_URL, { Ref: ids.queue });
    assert.deepEqual(env.DEAD_LETTER_QUEUE_URL, { Ref: ids.dlq });
    assert.equal(env.SOURCE_TABLE, DEFAULT_TABLES.sourceTable);
    assert.equal(env.TARGET_TABLE, DEFAULT_TABLES.targetTable);
    assert.equal(env.KEY_COLUMN, DEFAULT_TABLES.keyColumn);
    assert.equal(env.CHUNK_ROWS, String(DEFAULT_BACKPRESSURE.chunkRows));
    assert.equal(env.MAX_CONCURRENCY, String(DEFAULT_BACKPRESSURE.maxConcurrency));
    assert.equal(env.VISIBILITY_TIMEOUT_SECONDS, String(minimumVisibility(DEFAULT_BACKPRESSURE)));
    assert.equal(env.LOG_LEVEL, 'info');
    assert.equal(env.NODE_OPTIONS, '--enable-source-maps');
    assert.equal(env.INDEX_BUILD_MEMORY_MB, String(DEFAULT_INDEX_BUILD.memoryMb));
    assert.equal(env.INDEX_BUILD_PARALLEL_WORKERS, String(DEFAULT_INDEX_BUILD.parallelWorkers));
    assert.equal(env.METRICS_NAMESPACE, 'PgFanout');
  });

  test('runs the built-in pipeline: no pipeline module named in its environment, one database', () => {
    for (const id of [ids.worker, ids.coordinator]) {
      const env = template.findResources('AWS::Lambda::Function')[id]?.Properties.Environment.Variables as Record<string, unknown>;
      assert.equal(env.PIPELINE_MODULE, undefined, id);
      assert.equal(env.SOURCE_DATABASE_SECRET_ARN, undefined, id);
      assert.equal(env.SOURCE_DATABASE_HOST, undefined, id);
    }
  });

  test('runs in the database VPC with the given subnets and security group', () => {
    const props = template.findResources('AWS::Lambda::Function')[ids.worker]?.Properties;
    assert.deepEqual(props?.VpcConfig, { SubnetIds: ['subnet-00000000000000000', 'subnet-00000000000000001'], SecurityGroupIds: ['sg-00000000000000000'] });
  });
});

describe('SQS event source', () => {
  test('batch size, batching window, partial batch responses, maxConcurrency <= reserved concurrency', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(ids.queue),
      FunctionName: { Ref: ids.worker },
      BatchSize: DEFAULT_BACKPRESSURE.batchSize,
      MaximumBatchingWindowInSeconds: DEFAULT_BACKPRESSURE.maxBatchingWindowSeconds,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: DEFAULT_BACKPRESSURE.maxConcurrency },
    });
    const mapping = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))[0];
    const reserved = template.findResources('AWS::Lambda::Function')[ids.worker]?.Properties.ReservedConcurrentExecutions as number;
    assert.ok((mapping?.Properties.ScalingConfig.MaximumConcurrency as number) <= reserved);
  });
});

describe('coordinator and schedule', () => {
  test('the coordinator runs one at a time, on the same runtime, in the same VPC', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('coordinator'),
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: 1,
      MemorySize: 512,
      Timeout: 300,
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      VpcConfig: { SubnetIds: ['subnet-00000000000000000', 'subnet-00000000000000001'], SecurityGroupIds: ['sg-00000000000000000'] },
    });
  });

  test('an enabled EventBridge Scheduler schedule sends {"mode":"incremental"} daily', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 day)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      Target: Match.objectLike({ Arn: arnOf(ids.coordinator), Input: JSON.stringify({ mode: 'incremental' }) }),
    });
  });
});

describe('least-privilege IAM', () => {
  const policyOf = (functionId: string) => {
    const role = template.findResources('AWS::Lambda::Function')[functionId]?.Properties.Role['Fn::GetAtt'][0] as string;
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role),
    );
    assert.equal(policies.length, 1);
    return { role, statements: policies[0]?.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[] };
  };
  const actions = (statements: { Action: string | string[] }[]) => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

  test('function roles carry no AWS managed policies, only grants', () => {
    for (const id of [ids.worker, ids.coordinator]) {
      const { role } = policyOf(id);
      assert.equal(template.findResources('AWS::IAM::Role')[role]?.Properties.ManagedPolicyArns, undefined);
    }
  });

  test('the worker may consume the work queue, send to it, read the secret and write its own log group, nothing more', () => {
    const { statements } = policyOf(ids.worker);
    assert.deepEqual(actions(statements).sort(), [
      'ec2:AssignPrivateIpAddresses',
      'ec2:CreateNetworkInterface',
      'ec2:DeleteNetworkInterface',
      'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeSubnets',
      'ec2:UnassignPrivateIpAddresses',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ]);
    const logs = statements.find((s) => actions([s]).includes('logs:PutLogEvents'));
    assert.deepEqual(logs?.Resource, arnOf(resourceId(template, 'AWS::Logs::LogGroup', 'WorkerFunctionLogGroup')));
    const sqs = statements.find((s) => actions([s]).includes('sqs:ReceiveMessage'));
    assert.deepEqual(sqs?.Resource, arnOf(ids.queue));
    // It enqueues the parts of chunks it splits and the next steps of a full refresh: on the work queue only.
    const send = statements.filter((s) => actions([s]).includes('sqs:SendMessage'));
    assert.equal(send.length, 1);
    assert.deepEqual(send[0]?.Resource, arnOf(ids.queue));
  });

  test('the coordinator may send to the work queue and read queue depths, not consume', () => {
    const { statements } = policyOf(ids.coordinator);
    const granted = actions(statements);
    assert.ok(granted.includes('sqs:SendMessage'));
    assert.ok(granted.includes('secretsmanager:GetSecretValue'));
    assert.equal(granted.includes('sqs:ReceiveMessage'), false);
    assert.equal(granted.includes('sqs:DeleteMessage'), false);
    const send = statements.find((s) => actions([s]).includes('sqs:SendMessage'));
    assert.deepEqual(send?.Resource, arnOf(ids.queue));
  });

  test('the schedule may invoke the coordinator only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'lambda:InvokeFunction',
            Effect: 'Allow',
            Resource: [arnOf(ids.coordinator), { 'Fn::Join': ['', [arnOf(ids.coordinator), ':*']] }],
          },
        ],
      },
    });
  });
});

describe('alarms and dashboard', () => {
  const alarmOn = (metricName: string, dimension: Record<string, unknown>, threshold: number) =>
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: metricName,
      Dimensions: [dimension],
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: ids.topic }],
    });

  test('DLQ depth > 0', () =>
    alarmOn('ApproximateNumberOfMessagesVisible', { Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.dlq, 'QueueName'] } }, 1));
  test('worker errors', () => alarmOn('Errors', { Name: 'FunctionName', Value: { Ref: ids.worker } }, 1));
  test('worker throttles', () => alarmOn('Throttles', { Name: 'FunctionName', Value: { Ref: ids.worker } }, 1));
  test('coordinator errors', () => alarmOn('Errors', { Name: 'FunctionName', Value: { Ref: ids.coordinator } }, 1));
  test('age of the oldest chunk message', () =>
    alarmOn('ApproximateAgeOfOldestMessage', { Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.queue, 'QueueName'] } }, 3600));

  test('rows rejected, read with the Pipeline dimension of the built-in pipeline', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'PgFanout',
      MetricName: 'RowsRejected',
      Dimensions: [{ Name: 'Pipeline', Value: 'public.input_table -> public.output_table' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      AlarmActions: [{ Ref: ids.topic }],
    });
  });

  test('alarms notify an SNS topic that is KMS-encrypted and TLS-only', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
        ]),
      },
    });
  });

  test('the dashboard graphs rows/s, queue depth, in-flight, errors and the DLQ', () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    assert.equal(dashboards.length, 1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const needle of [
      'Rows per second',
      'PERIOD(rowswritten)',
      '\\"PgFanout\\",\\"RowsWritten\\"',
      'RowsRead',
      'RowsRejected',
      'ChunkDuration',
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesNotVisible',
      'ConcurrentExecutions',
      'Errors',
      'Throttles',
      'Dead-letter queue',
    ]) {
      assert.ok(body.includes(needle), `dashboard lacks ${needle}`);
    }
  });

  test('every chunk metric on the dashboard is read with the Pipeline dimension', () => {
    const widgets = dashboardWidgets(template);
    const chunkMetrics = widgets.flatMap((w) => w.properties.metrics ?? []).filter((m) => m[0] === 'PgFanout');
    // rows read/written/rejected per second, duration p50/p99/max, rows rejected
    assert.equal(chunkMetrics.length, 7);
    for (const metric of chunkMetrics) {
      assert.deepEqual(metric.slice(2, 4), ['Pipeline', 'public.input_table -> public.output_table'], JSON.stringify(metric));
    }
  });
});

describe('default context without a database', () => {
  test('synthesizes with placeholders and a CloudFormation rule that refuses to deploy them', () => {
    const rules = template.toJSON().Rules as Record<string, { Assertions: { Assert: unknown; AssertDescription: string }[] }>;
    const guard = rules.RequireDatabaseContext;
    assert.ok(guard, 'no RequireDatabaseContext rule');
    assert.deepEqual(guard.Assertions[0]?.Assert, { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'DatabaseContextMissing' }, 'true'] }] });
    assert.match(guard.Assertions[0]?.AssertDescription ?? '', /-c databaseSecretArn=.*-c demoDatabase=true/);
    template.hasParameter('DatabaseContextMissing', { Default: 'true', AllowedValues: ['true'] });
  });

  test('needs no lookup: the cloud assembly asks for no missing context and the VPC is imported by ID', () => {
    assert.equal(synth.app.synth().manifest.missing, undefined);
    assert.equal(JSON.stringify(template.toJSON()).includes('dummy-value-for-'), false);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::RDS::DBCluster', 0);
  });
});

describe('the Lambda package', () => {
  const assetDir = (functionId: string) => {
    const key = template.findResources('AWS::Lambda::Function')[functionId]?.Properties.Code.S3Key as string;
    return join(synth.outdir, `asset.${key.replace(/\.zip$/, '')}`);
  };

  test('is an ESM bundle whose banner gives CommonJS dependencies a require', () => {
    for (const id of [ids.worker, ids.coordinator]) {
      const code = readFileSync(join(assetDir(id), 'index.mjs'), 'utf8');
      assert.match(code.split('\n')[0] ?? '', /^import \{ createRequire as \w+ \} from 'node:module'; const require = \w+\(import\.meta\.url\);$/);
    }
  });

  test('leaves pg-native out (pg only tries to require it) and bundles pg itself', () => {
    const map = JSON.parse(readFileSync(join(assetDir(ids.worker), 'index.mjs.map'), 'utf8')) as { sources: string[] };
    assert.equal(map.sources.some((s) => s.includes('node_modules/pg-native/')), false);
    assert.equal(map.sources.some((s) => s.includes('node_modules/pg/')), true);
    assert.match(readFileSync(join(assetDir(ids.worker), 'index.mjs'), 'utf8'), /["']pg-native["']/);
  });

  test('without -c pipeline bundles the handlers as they are: the built-in pipeline, no generated entry, no module', () => {
    for (const id of [ids.worker, ids.coordinator]) {
      const map = JSON.parse(readFileSync(join(assetDir(id), 'index.mjs.map'), 'utf8')) as { sources: string[] };
      assert.ok(map.sources.some((s) => s.endsWith('lambdas/pipeline/builtin-name-split.ts')));
      assert.equal(map.sources.some((s) => s.includes('pg-fanout-entries') || s.includes('test/fixtures/')), false, id);
    }
  });

  test('loads in Node.js as Lambda loads it: ESM imports, bundled CommonJS requires, exported handler', () => {
    for (const id of [ids.worker, ids.coordinator]) {
      const dir = assetDir(id);
      const templateEnv = template.findResources('AWS::Lambda::Function')[id]?.Properties.Environment.Variables as Record<string, unknown>;
      const literalEnv = Object.fromEntries(Object.entries(templateEnv).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
      const result = spawnSync(
        process.execPath,
        ['--input-type=module', '-e', `const m = await import(${JSON.stringify(pathToFileURL(join(dir, 'index.mjs')).href)}); console.log(typeof m.handler);`],
        {
          cwd: dir,
          encoding: 'utf8',
          timeout: 30_000,
          env: {
            PATH: process.env.PATH,
            ...literalEnv,
            DATABASE_CA_FILE: join(dir, CA_BUNDLE_FILE), // /var/task in Lambda
            WORK_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/work',
            DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/dlq',
            AWS_REGION: 'us-east-1',
            AWS_EC2_METADATA_DISABLED: 'true',
          },
        },
      );
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout.trim(), 'function');
    }
  });

  test('ships the RDS CA bundle next to the handler, with the current RDS and RDS Proxy roots', () => {
    for (const id of [ids.worker, ids.coordinator]) {
      const path = join(assetDir(id), CA_BUNDLE_FILE);
      assert.ok(existsSync(path), `${path} missing`);
      const pems = readFileSync(path, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
      assert.ok(pems.length >= 100, `only ${pems.length} certificates`);
      const subjects = pems.map((pem) => new X509Certificate(pem).subject);
      assert.ok(subjects.some((s) => s.includes('CN=Amazon RDS us-east-1 Root CA RSA2048 G1')));
      assert.ok(subjects.some((s) => s.includes('CN=Amazon RDS eu-west-1 Root CA ECC384 G1')));
      assert.ok(subjects.some((s) => s.includes('CN=Amazon Root CA 1')), 'RDS Proxy root missing');
    }
  });
});

describe('the connection budget', () => {
  test('per side: maxConcurrency x 1 per worker + 1 for the coordinator; one database carries both sides', () => {
    assert.equal(SOURCE_CONNECTIONS_PER_WORKER + TARGET_CONNECTIONS_PER_WORKER, CONNECTIONS_PER_WORKER);
    assert.deepEqual(connectionBudget(2, true), { source: 3, target: 3 });
    assert.deepEqual(connectionBudget(2, false), { target: 6 });
    assert.deepEqual(connectionBudget(68, false), { target: 138 });
  });

  test('the stack reports it for the defaults (one database), with the ceiling at reserved concurrency', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown; Description?: string }>;
    assert.equal(outputs.DatabaseConnections?.Value, String(DEFAULT_BACKPRESSURE.maxConcurrency * CONNECTIONS_PER_WORKER + 2));
    assert.match(outputs.DatabaseConnections?.Description ?? '', /maxConcurrency 2 x 2 per worker \+ 2 \(coordinator\); 10 if the worker were invoked up to reservedConcurrency 4/);
    assert.equal(outputs.SourceDatabaseConnections, undefined);
    assert.equal(outputs.PipelineName?.Value, 'public.input_table -> public.output_table');
  });
});
