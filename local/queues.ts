// Creates the work queue and its DLQ on the local (or given) SQS endpoint with the attributes the
// stack gives them: visibility from the backpressure config and the redrive policy.
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { BackpressureConfig } from '../lambdas/shared/config.ts';

export interface LocalQueues {
  queueUrl: string;
  deadLetterQueueUrl: string;
}

export const QUEUE_NAMES = { work: 'pg-fanout-work', deadLetter: 'pg-fanout-dlq' } as const;

export async function ensureQueues(sqs: SQSClient, backpressure: BackpressureConfig, names = QUEUE_NAMES): Promise<LocalQueues> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: names.deadLetter, Attributes: { MessageRetentionPeriod: String(14 * 24 * 3600) } }));
  const dlqUrl = dlq.QueueUrl!;
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const attributes = {
    VisibilityTimeout: String(backpressure.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(4 * 24 * 3600),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: attrs.Attributes?.QueueArn, maxReceiveCount: String(backpressure.maxReceiveCount) }),
  };
  try {
    const work = await sqs.send(new CreateQueueCommand({ QueueName: names.work, Attributes: attributes }));
    return { queueUrl: work.QueueUrl!, deadLetterQueueUrl: dlqUrl };
  } catch (error) {
    // An existing queue with other attributes (a previous run's settings): use it as it is.
    if ((error as { name?: string }).name !== 'QueueNameExists') throw error;
    const work = await sqs.send(new GetQueueUrlCommand({ QueueName: names.work }));
    return { queueUrl: work.QueueUrl!, deadLetterQueueUrl: dlqUrl };
  }
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return { visible: Number(r.Attributes?.ApproximateNumberOfMessages ?? 0), inFlight: Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
}
