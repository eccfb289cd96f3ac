// The worker: one PipelineFunction fed by the work queue. Backpressure lives here — reserved
// concurrency caps the function, the event source's maxConcurrency caps how many run at once
// (each holding CONNECTIONS_PER_WORKER database connections), and failed records come back one by
// one through reportBatchItemFailures instead of failing the whole batch.
import { Duration } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BackpressureConfig, PipelineConfig } from '../../lambdas/shared/config.ts';
import { PipelineFunction } from './pipeline-function.ts';

export interface ChunkWorkerProps {
  /** Path of the worker handler module. */
  readonly entry: string;
  /** The chunk queue the event source reads. */
  readonly queue: IQueue;
  /** Batch size, batching window, concurrency and timeout, already checked by the shared config. */
  readonly backpressure: BackpressureConfig;
  /**
   * Memory in MB.
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Environment variables (database, tables, queues, backpressure).
   * @default {}
   */
  readonly environment?: Record<string, string>;
  /**
   * VPC of the database.
   * @default - not in a VPC
   */
  readonly vpc?: IVpc;
  /**
   * Subnets for the function.
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: SubnetSelection;
  /**
   * Security groups the database admits.
   * @default - a new security group, when `vpc` is set
   */
  readonly securityGroups?: ISecurityGroup[];
  /**
   * Log retention.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * LOG_LEVEL of the handler.
   * @default 'info'
   */
  readonly logLevel?: PipelineConfig['logLevel'];
}

export class ChunkWorker extends Construct {
  readonly function: PipelineFunction;
  readonly eventSource: SqsEventSource;

  constructor(scope: Construct, id: string, props: ChunkWorkerProps) {
    super(scope, id);
    const bp = props.backpressure;
    this.function = new PipelineFunction(this, 'Function', {
      entry: props.entry,
      description: 'pg-fanout worker: COPY one key range out, transform it, COPY it into the target table',
      memorySize: props.memorySize,
      timeout: Duration.seconds(bp.workerTimeoutSeconds),
      reservedConcurrentExecutions: bp.reservedConcurrency,
      environment: props.environment,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
    });
    this.eventSource = new SqsEventSource(props.queue, {
      batchSize: bp.batchSize,
      maxBatchingWindow: Duration.seconds(bp.maxBatchingWindowSeconds),
      maxConcurrency: bp.maxConcurrency,
      reportBatchItemFailures: true,
    });
    this.function.addEventSource(this.eventSource);
  }
}
