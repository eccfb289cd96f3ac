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

/** Batches sent at once: a big plan's messages go out in a fraction of the round trips' time. */
const MAX_IN_FLIGHT = 8;

/**
 * Send every message, in batches of 10 with up to 8 batches in flight; entries SQS reports failed
 * are retried with backoff. Resolves when all are accepted, rejects naming the entries that never
 * were (the caller's ledger still lists them). `onSent` gets the ids SQS accepted, once, before the
 * promise settles, also when it rejects.
 */
export async function sendAll(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly OutgoingMessage[],
  options: { attempts?: number; onSent?: (ids: string[]) => Promise<void> } = {},
): Promise<void> {
  const attempts = options.attempts ?? 5;
  const batches: OutgoingMessage[][] = [];
  for (let i = 0; i < messages.length; i += MAX_BATCH) batches.push(messages.slice(i, i + MAX_BATCH));
  const sent: string[] = [];
  let failure: unknown;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < batches.length) {
      const batch = batches[next++]!;
      try {
        await sendBatch(sqs, queueUrl, batch, attempts);
        for (const m of batch) sent.push(m.id);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_IN_FLIGHT, batches.length) }, lane));
  if (sent.length > 0) await options.onSent?.(sent);
  if (failure !== undefined) throw failure;
}

async function sendBatch(sqs: SQSClient, queueUrl: string, batch: readonly OutgoingMessage[], attempts: number): Promise<void> {
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
}
