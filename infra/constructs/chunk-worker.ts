// The worker: one PipelineFunction fed by the work queue. Backpressure lives here — reserved
// concurrency caps the function, the event source's maxConcurrency caps how many run at once
// (each holding CONNECTIONS_PER_WORKER database connections), and failed records come back one by
// one through reportBatchItemFailures instead of failing the whole batch.
import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BackpressureConfig } from '../../lambdas/shared/config.ts';
import { PipelineFunction, placementOf, type FunctionPlacementProps } from './pipeline-function.ts';

export interface ChunkWorkerProps extends FunctionPlacementProps {
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
      ...placementOf(props),
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
