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
  const dlqUrl = await createOrReuse(sqs, names.deadLetter, { MessageRetentionPeriod: String(14 * 24 * 3600) });
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const attributes = {
    VisibilityTimeout: String(backpressure.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(4 * 24 * 3600),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: attrs.Attributes?.QueueArn, maxReceiveCount: String(backpressure.maxReceiveCount) }),
  };
  return { queueUrl: await createOrReuse(sqs, names.work, attributes), deadLetterQueueUrl: dlqUrl };
}

/** An existing queue with other attributes (made by an earlier run or by hand) is used as it is. */
async function createOrReuse(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  try {
    return (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
  } catch (error) {
    // AWS names it QueueNameExists; some emulators prefix the namespace.
    if (!/QueueNameExists$/.test((error as { name?: string }).name ?? '')) throw error;
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
  }
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return { visible: Number(r.Attributes?.ApproximateNumberOfMessages ?? 0), inFlight: Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
}
