// The pg-fanout stack: database access (a target, optionally a separate source), the chunk queue
// and its DLQ, the coordinator on a schedule, the worker behind the queue, and the alarms and
// dashboard. Every setting arrives as one validated PipelineSettings object (infra/settings.ts), the
// pipeline module (if any) already imported and checked (infra/pipeline-bundle.ts); nothing here
// looks anything up.
import { Annotations, CfnOutput, CfnParameter, CfnRule, Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { backpressureToEnv, indexBuildToEnv, SOURCE_CONNECTIONS_PER_WORKER, TARGET_CONNECTIONS_PER_WORKER } from '../lambdas/shared/config.ts';
import { ChunkWorker } from './constructs/chunk-worker.ts';
import { Coordinator } from './constructs/coordinator.ts';
import { DatabaseAccess } from './constructs/database-access.ts';
import { PipelineMonitoring } from './constructs/pipeline-monitoring.ts';
import { WorkQueue } from './constructs/work-queue.ts';
import {
  builtinPipelineName,
  COORDINATOR_HANDLER,
  PACKAGE_ENTRY,
  WORKER_HANDLER,
  writeBundleEntries,
  type BundledPipeline,
} from './pipeline-bundle.ts';
import type { PipelineSettings } from './settings.ts';

/** The Lambda entry points of the built-in pipeline, bundled as they are. */
export const WORKER_ENTRY = WORKER_HANDLER;
export const COORDINATOR_ENTRY = COORDINATOR_HANDLER;

export interface PipelineStackProps extends StackProps {
  /** Every setting, read from the CDK context by readSettings. */
  readonly settings: PipelineSettings;
  /**
   * The module `settings.pipelineModule` names, imported by loadBundledPipeline; it is bundled into
   * both functions.
   * @default - the built-in name split over `settings.tables`
   */
  readonly pipeline?: BundledPipeline;
}

/** Connections a run can hold at once on each database (README.md, "Sizing concurrency"). */
export interface ConnectionBudget {
  /** On the target database (targets and ledger): the only database when there is no separate source. */
  readonly target: number;
  /** On the separate source database; undefined when the source is the target database. */
  readonly source?: number;
}

/**
 * Per side: every worker holds one connection to the source and one to the target (COPY out and
 * COPY in at once), the coordinator one to each. One database carries both sides.
 */
export function connectionBudget(workers: number, separateSource: boolean): ConnectionBudget {
  const source = workers * SOURCE_CONNECTIONS_PER_WORKER + 1;
  const target = workers * TARGET_CONNECTIONS_PER_WORKER + 1;
  return separateSource ? { target, source } : { target: target + source };
}

export class PipelineStack extends Stack {
  readonly database: DatabaseAccess;
  readonly workQueue: WorkQueue;
  readonly worker: ChunkWorker;
  readonly coordinator: Coordinator;
  readonly monitoring: PipelineMonitoring;
  /** What the ledger, the logs and the metrics' `Pipeline` dimension call the pipeline these functions run. */
  readonly pipelineName: string;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const s = props.settings;
    const pipeline = props.pipeline;
    if (s.pipelineModule !== pipeline?.file) {
      throw new Error(
        `settings.pipelineModule (${s.pipelineModule ?? 'none'}) and props.pipeline (${pipeline?.file ?? 'none'}) disagree: ` +
          'pass the pipeline loadBundledPipeline(settings.pipelineModule) returned, as infra/app.ts does.',
      );
    }

    this.database = new DatabaseAccess(this, 'Database', {
      database: s.database,
      source: s.sourceDatabase,
      rdsProxy: s.rdsProxy,
      tls: s.databaseTls,
      logRetention: s.logRetentionDays,
    });
    this.workQueue = new WorkQueue(this, 'WorkQueue', { backpressure: s.backpressure });

    let tableEnvironment: Record<string, string> = {};
    if (pipeline === undefined) {
      const builtin = builtinPipelineName(s.tables);
      this.pipelineName = builtin.name;
      tableEnvironment = { SOURCE_TABLE: s.tables.sourceTable, TARGET_TABLE: s.tables.targetTable, KEY_COLUMN: s.tables.keyColumn };
      if (builtin.unqualified.length > 0) {
        Annotations.of(this).addWarningV2(
          'pg-fanout:unqualified-table',
          `${builtin.unqualified.join(' and ')} ${builtin.unqualified.length === 1 ? 'has' : 'have'} no schema: the dashboard and alarms read the metrics of ` +
            `pipeline "${builtin.name}", assuming public; schema-qualify them (e.g. -c sourceTable=public.input_table) so they match what the workers report.`,
        );
      }
    } else {
      this.pipelineName = pipeline.name;
    }
    // The pipeline module is bundled, never named by PIPELINE_MODULE: the package holds no source tree to load it from.
    const entries = pipeline === undefined ? { worker: WORKER_ENTRY, coordinator: COORDINATOR_ENTRY } : writeBundleEntries(pipeline);
    const moduleAliases = pipeline === undefined ? undefined : { 'pg-fanout': PACKAGE_ENTRY };

    const environment: Record<string, string> = {
      ...this.database.environment,
      ...tableEnvironment,
      WORK_QUEUE_URL: this.workQueue.queue.queueUrl,
      DEAD_LETTER_QUEUE_URL: this.workQueue.deadLetterQueue.queueUrl,
      ...backpressureToEnv(s.backpressure),
      // Both functions: the coordinator writes these into the index build steps it plans, workers run them.
      ...indexBuildToEnv(s.indexBuild),
      METRICS_NAMESPACE: s.metricsNamespace,
    };
    const network = { vpc: this.database.vpc, vpcSubnets: this.database.vpcSubnets, securityGroups: this.database.securityGroups };

    this.worker = new ChunkWorker(this, 'Worker', {
      entry: entries.worker,
      moduleAliases,
      queue: this.workQueue.queue,
      backpressure: s.backpressure,
      memorySize: s.workerMemoryMb,
      environment,
      ...network,
      logRetention: s.logRetentionDays,
      logLevel: s.logLevel,
    });
    this.coordinator = new Coordinator(this, 'Coordinator', {
      entry: entries.coordinator,
      moduleAliases,
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

    // Grants: the worker consumes through its event source, and sends what it enqueues at run time
    // (the parts of a chunk it split, the next steps of a full refresh): SendMessage only, which also
    // covers SendMessageBatch. Both functions read both database secrets.
    this.database.grantConnect(this.worker.function);
    this.database.grantConnect(this.coordinator.function);
    this.workQueue.queue.grant(this.worker.function, 'sqs:SendMessage');
    this.workQueue.queue.grantSendMessages(this.coordinator.function);
    // The coordinator reads queue depths to report a run's progress and to see chunks parked in the DLQ.
    this.workQueue.queue.grant(this.coordinator.function, 'sqs:GetQueueAttributes');
    this.workQueue.deadLetterQueue.grant(this.coordinator.function, 'sqs:GetQueueAttributes');

    this.monitoring = new PipelineMonitoring(this, 'Monitoring', {
      pipelineName: this.pipelineName,
      metricsNamespace: s.metricsNamespace,
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
    if (this.database.sourceSecret) new CfnOutput(this, 'SourceDatabaseSecretArn', { value: this.database.sourceSecret.secretArn });
    new CfnOutput(this, 'PipelineName', {
      value: this.pipelineName,
      description: `What the ledger (etl.runs.pipeline), the logs and the Pipeline dimension of the ${s.metricsNamespace} metrics call the pipeline`,
    });
    this.reportConnections(s);
    if (this.database.demo) {
      new CfnOutput(this, 'DemoClusterArn', {
        value: this.database.demo.cluster.clusterArn,
        description: 'For the RDS Data API: aws rds-data execute-statement --resource-arn <this> --secret-arn <DatabaseSecretArn> --database pgfanout --sql …',
      });
    }
    if (this.database.proxy) new CfnOutput(this, 'ProxyEndpoint', { value: this.database.proxy.endpoint });
  }

  /** The connections a run needs on each database, as outputs (README.md, "Sizing concurrency"). */
  private reportConnections(s: PipelineSettings): void {
    const { maxConcurrency, reservedConcurrency } = s.backpressure;
    const separate = s.sourceDatabase !== undefined;
    const budget = connectionBudget(maxConcurrency, separate);
    const ceiling = connectionBudget(reservedConcurrency, separate);
    const output = (id: string, where: string, value: number, worst: number, perWorker: number, coordinator: number) =>
      new CfnOutput(this, id, {
        value: String(value),
        description:
          `Connections a run holds on ${where} at most: maxConcurrency ${maxConcurrency} x ${perWorker} per worker + ${coordinator} (coordinator); ` +
          `${worst} if the worker were invoked up to reservedConcurrency ${reservedConcurrency}. Add your headroom; see README.md ("Sizing concurrency").`,
      });
    if (budget.source === undefined) {
      output('DatabaseConnections', 'the database', budget.target, ceiling.target, SOURCE_CONNECTIONS_PER_WORKER + TARGET_CONNECTIONS_PER_WORKER, 2);
    } else {
      output('SourceDatabaseConnections', 'the source database', budget.source, ceiling.source ?? budget.source, SOURCE_CONNECTIONS_PER_WORKER, 1);
      output('TargetDatabaseConnections', 'the target database', budget.target, ceiling.target, TARGET_CONNECTIONS_PER_WORKER, 1);
    }
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
