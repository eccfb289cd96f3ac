// The chunk queue and its dead-letter queue. The visibility timeout and receive count come from the
// shared backpressure config, whose rules (visibility >= 6 x worker timeout + batching window,
// maxReceiveCount >= 5) were already checked when the settings were read.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BackpressureConfig } from '../../lambdas/shared/config.ts';

export interface WorkQueueProps {
  /** Visibility timeout and receive count. */
  readonly backpressure: Pick<BackpressureConfig, 'visibilityTimeoutSeconds' | 'maxReceiveCount'>;
  /**
   * How long an unprocessed chunk message is kept. Long, so a paused or throttled run loses nothing.
   * @default Duration.days(14), the SQS maximum
   */
  readonly retentionPeriod?: Duration;
  /**
   * What happens to the queues when the stack is deleted (their messages are transient).
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class WorkQueue extends Construct {
  /** One message per chunk, consumed by the worker's event source. */
  readonly queue: Queue;
  /** Chunks that failed maxReceiveCount times; the operator's alarm watches it. */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    const retentionPeriod = props.retentionPeriod ?? Duration.days(14);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.backpressure.visibilityTimeoutSeconds),
      retentionPeriod,
      removalPolicy,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.backpressure.maxReceiveCount },
    });
  }
}
