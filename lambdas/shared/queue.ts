// The only module that talks to SQS: the client (AWS, LocalStack or fauxqs by endpoint) and sending
// chunk messages in batches of 10 with failed entries retried.
import { setTimeout as sleep } from 'node:timers/promises';
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { PipelineConfig } from './config.ts';
import { PgFanoutError } from './errors.ts';

export function createSqsClient(config: Pick<PipelineConfig, 'sqsEndpoint' | 'region'> & Partial<Pick<PipelineConfig, 'hasExplicitCredentials'>>): SQSClient {
  return new SQSClient({
    region: config.region,
    ...(config.sqsEndpoint !== undefined
      ? {
          endpoint: config.sqsEndpoint,
          // Local endpoints accept any credentials; real ones come from the default chain.
          credentials: config.hasExplicitCredentials ? undefined : { accessKeyId: 'test', secretAccessKey: 'test' },
        }
      : {}),
  });
}

export interface OutgoingMessage {
  /** Unique within one call; used as the batch entry id. */
  readonly id: string;
  readonly body: string;
}

const MAX_BATCH = 10;

/**
 * Send every message; entries SQS reports failed are retried with backoff. Resolves when all are
 * accepted, rejects naming the entries that never were (the caller's ledger still lists them).
 */
export async function sendAll(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly OutgoingMessage[],
  options: { attempts?: number; onBatchSent?: (ids: string[]) => Promise<void> } = {},
): Promise<void> {
  const attempts = options.attempts ?? 5;
  for (let i = 0; i < messages.length; i += MAX_BATCH) {
    const batch = messages.slice(i, i + MAX_BATCH);
    let pending: SendMessageBatchRequestEntry[] = batch.map((m) => ({ Id: m.id, MessageBody: m.body }));
    let lastErrors: string[] = [];
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      if (attempt > attempts) {
        throw new PgFanoutError(`SQS refused ${pending.length} chunk message(s) after ${attempts} attempts (${lastErrors.join('; ')}): the run stays resumable; check the queue ${queueUrl} and resume the run.`);
      }
      if (attempt > 1) await sleep(100 * 2 ** (attempt - 2));
      try {
        const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
        const failed = new Set((result.Failed ?? []).map((f) => f.Id));
        lastErrors = (result.Failed ?? []).map((f) => `${f.Id}: ${f.Code} ${f.Message ?? ''}`.trim());
        pending = pending.filter((e) => failed.has(e.Id));
      } catch (error) {
        lastErrors = [(error as Error).message];
      }
    }
    await options.onBatchSent?.(batch.map((m) => m.id));
  }
}
