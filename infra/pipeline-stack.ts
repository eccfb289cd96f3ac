// The pg-fanout stack: database access, the chunk queue and its DLQ, the coordinator on a
// schedule, the worker behind the queue, and the alarms and dashboard. Every setting arrives as
// one validated PipelineSettings object (infra/settings.ts); nothing here looks anything up.
import { CfnOutput, CfnParameter, CfnRule, Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import { backpressureToEnv } from '../lambdas/shared/config.ts';
import { ChunkWorker } from './constructs/chunk-worker.ts';
import { Coordinator } from './constructs/coordinator.ts';
import { DatabaseAccess } from './constructs/database-access.ts';
import { PipelineMonitoring } from './constructs/pipeline-monitoring.ts';
import { WorkQueue } from './constructs/work-queue.ts';
import type { PipelineSettings } from './settings.ts';

/** The Lambda entry points, bundled as they are. */
export const WORKER_ENTRY = fileURLToPath(new URL('../lambdas/worker/handler.ts', import.meta.url));
export const COORDINATOR_ENTRY = fileURLToPath(new URL('../lambdas/coordinator/handler.ts', import.meta.url));

export interface PipelineStackProps extends StackProps {
  /** Every setting, read from the CDK context by readSettings. */
  readonly settings: PipelineSettings;
}

export class PipelineStack extends Stack {
  readonly database: DatabaseAccess;
  readonly workQueue: WorkQueue;
  readonly worker: ChunkWorker;
  readonly coordinator: Coordinator;
  readonly monitoring: PipelineMonitoring;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const s = props.settings;

    this.database = new DatabaseAccess(this, 'Database', { database: s.database, rdsProxy: s.rdsProxy, tls: s.databaseTls, logRetention: s.logRetentionDays });
    this.workQueue = new WorkQueue(this, 'WorkQueue', { backpressure: s.backpressure });

    const environment: Record<string, string> = {
      ...this.database.environment,
      SOURCE_TABLE: s.tables.sourceTable,
      TARGET_TABLE: s.tables.targetTable,
      KEY_COLUMN: s.tables.keyColumn,
      WORK_QUEUE_URL: this.workQueue.queue.queueUrl,
      DEAD_LETTER_QUEUE_URL: this.workQueue.deadLetterQueue.queueUrl,
      ...backpressureToEnv(s.backpressure),
    };
    const network = { vpc: this.database.vpc, vpcSubnets: this.database.vpcSubnets, securityGroups: this.database.securityGroups };

    this.worker = new ChunkWorker(this, 'Worker', {
      entry: WORKER_ENTRY,
      queue: this.workQueue.queue,
      backpressure: s.backpressure,
      memorySize: s.workerMemoryMb,
      environment,
      ...network,
      logRetention: s.logRetentionDays,
      logLevel: s.logLevel,
    });
    this.coordinator = new Coordinator(this, 'Coordinator', {
      entry: COORDINATOR_ENTRY,
      memorySize: s.coordinatorMemoryMb,
      timeout: Duration.seconds(s.coordinatorTimeoutSeconds),
      scheduleExpression: s.schedule.expression,
      scheduleTimeZone: s.schedule.timeZone,
      scheduleMode: s.schedule.mode,
      scheduleEnabled: s.schedule.enabled,
      environment,
      ...network,
      logRetention: s.logRetentionDays,
      logLevel: s.logLevel,
    });

    // Grants: the worker's queue permissions come from its event source; nothing else is granted.
    this.database.grantConnect(this.worker.function);
    this.database.grantConnect(this.coordinator.function);
    this.workQueue.queue.grantSendMessages(this.coordinator.function);
    // The coordinator reads queue depths to report a run's progress and to see chunks parked in the DLQ.
    this.workQueue.queue.grant(this.coordinator.function, 'sqs:GetQueueAttributes');
    this.workQueue.deadLetterQueue.grant(this.coordinator.function, 'sqs:GetQueueAttributes');

    this.monitoring = new PipelineMonitoring(this, 'Monitoring', {
      workQueue: this.workQueue.queue,
      deadLetterQueue: this.workQueue.deadLetterQueue,
      worker: this.worker.function,
      coordinator: this.coordinator.function,
      oldestMessageAge: Duration.seconds(s.alarmOldestMessageAgeSeconds),
      alarmEmail: s.alarmEmail,
    });

    if (s.database.kind === 'existing' && s.database.placeholder) this.refuseToDeploy();

    new CfnOutput(this, 'CoordinatorFunctionName', {
      value: this.coordinator.function.functionName,
      description: 'Start a run by hand: aws lambda invoke --function-name <this> --payload \'{"mode":"full"}\' --cli-binary-format raw-in-base64-out out.json',
    });
    new CfnOutput(this, 'WorkerFunctionName', { value: this.worker.function.functionName });
    new CfnOutput(this, 'WorkQueueUrl', { value: this.workQueue.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.workQueue.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'DatabaseSecretArn', { value: this.database.secret.secretArn });
    if (this.database.demo) {
      new CfnOutput(this, 'DemoClusterArn', {
        value: this.database.demo.cluster.clusterArn,
        description: 'For the RDS Data API: aws rds-data execute-statement --resource-arn <this> --secret-arn <DatabaseSecretArn> --database pgfanout --sql …',
      });
    }
    if (this.database.proxy) new CfnOutput(this, 'ProxyEndpoint', { value: this.database.proxy.endpoint });
  }

  /**
   * Without database context the template carries placeholder IDs. It still synthesizes (for review
   * and cdk-nag), but this CloudFormation rule fails the deployment before any resource is created.
   */
  private refuseToDeploy(): void {
    const parameter = new CfnParameter(this, 'DatabaseContextMissing', {
      type: 'String',
      default: 'true',
      allowedValues: ['true'],
      description: 'Set because the stack was synthesized without database context; see README.md ("Deploy to AWS").',
    });
    new CfnRule(this, 'RequireDatabaseContext', {
      assertions: [
        {
          assert: Fn.conditionNot(Fn.conditionEquals(parameter.valueAsString, 'true')),
          assertDescription:
            'pg-fanout was synthesized without a database: redeploy with -c databaseSecretArn=... -c vpcId=... -c subnetIds=... ' +
            '-c securityGroupId=... (your PostgreSQL) or -c demoDatabase=true (a try-out Aurora cluster). See README.md ("Deploy to AWS").',
        },
      ],
    });
  }
}
