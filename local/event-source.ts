// Plays the Lambda SQS event source mapping: long-polls the work queue, builds SQS events of up to
// the batch size, runs at most `maxConcurrency` worker sandboxes at once, deletes the records that
// succeeded and leaves failed ones to reappear after the visibility timeout (and, past
// maxReceiveCount, to be moved to the DLQ by the queue's redrive policy).
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { BackpressureConfig } from '../lambdas/shared/config.ts';
import { WorkerSandbox, type InvokeOutcome } from './worker-sandbox.ts';

export interface EventSourceStats {
  invocations: number;
  recordsSucceeded: number;
  recordsFailed: number;
  timeouts: number;
  crashes: number;
}

export interface EventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn?: string;
  backpressure: BackpressureConfig;
  /** Environment of each sandbox (the worker function's environment). */
  env: NodeJS.ProcessEnv;
  /** Called after each invocation; for progress and fault-injection tests. */
  onInvocation?: (outcome: InvokeOutcome, records: number, sandbox: WorkerSandbox) => void;
}

export class LocalEventSource {
  readonly stats: EventSourceStats = { invocations: 0, recordsSucceeded: 0, recordsFailed: 0, timeouts: 0, crashes: 0 };
  readonly sandboxes: WorkerSandbox[];
  readonly #options: EventSourceOptions;
  #running = false;
  #loops: Promise<void>[] = [];
  // Aborts the long polls in flight, so stopping does not wait out a receive wait.
  #polling = new AbortController();

  constructor(options: EventSourceOptions) {
    this.#options = options;
    this.sandboxes = Array.from({ length: options.backpressure.maxConcurrency }, () => new WorkerSandbox(options.env));
  }

  get peakWorkerRssBytes(): number {
    return Math.max(0, ...this.sandboxes.map((s) => s.peakRssBytes));
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#polling = new AbortController();
    // Instances are started up front, like provisioned concurrency: a run measures chunks, not cold starts.
    for (const sandbox of this.sandboxes) void sandbox.warm();
    this.#loops = this.sandboxes.map((sandbox) => this.#poll(sandbox));
  }

  /** Stops polling, lets in-flight invocations finish, then stops the sandboxes. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#polling.abort();
    await Promise.all(this.#loops);
    await Promise.all(this.sandboxes.map((s) => s.stop()));
  }

  async #poll(sandbox: WorkerSandbox): Promise<void> {
    const { sqs, queueUrl, backpressure } = this.#options;
    while (this.#running) {
      let messages: Message[];
      try {
        messages = await this.#receiveBatch();
      } catch (error) {
        if (!this.#running) return;
        process.stderr.write(`event source: receive from ${queueUrl} failed: ${(error as Error).message}; retrying\n`);
        await sleep(1000);
        continue;
      }
      if (messages.length === 0) continue;
      const outcome = await sandbox.invoke(toSqsEvent(messages, this.#options.queueArn ?? queueUrl), backpressure.workerTimeoutSeconds * 1000);
      this.stats.invocations += 1;
      const failed = failedIds(outcome, messages);
      if (outcome.kind === 'timeout') this.stats.timeouts += 1;
      if (outcome.kind === 'crashed') this.stats.crashes += 1;
      const succeeded = messages.filter((m) => !failed.has(m.MessageId!));
      this.stats.recordsSucceeded += succeeded.length;
      this.stats.recordsFailed += failed.size;
      if (succeeded.length > 0) {
        // A delete that fails only means a duplicate delivery later, which the worker skips as done.
        await deleteAll(sqs, queueUrl, succeeded).catch((error: Error) => process.stderr.write(`event source: delete failed (${error.message}); the chunk will be redelivered and skipped\n`));
      }
      this.#options.onInvocation?.(outcome, messages.length, sandbox);
    }
  }

  /** Up to batchSize messages: one receive of ≤10, more only while the batching window is open. */
  async #receiveBatch(): Promise<Message[]> {
    const { sqs, queueUrl, backpressure } = this.#options;
    const deadline = Date.now() + backpressure.maxBatchingWindowSeconds * 1000;
    const batch: Message[] = [];
    do {
      const r = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(10, backpressure.batchSize - batch.length),
          WaitTimeSeconds: batch.length === 0 ? 1 : 0,
          MessageSystemAttributeNames: ['All'],
        }),
        { abortSignal: this.#polling.signal },
      );
      const got = r.Messages ?? [];
      batch.push(...got);
      if (got.length === 0 && batch.length > 0 && Date.now() >= deadline) break;
      if (got.length === 0 && batch.length === 0) break;
    } while (this.#running && batch.length < backpressure.batchSize && Date.now() < deadline);
    return batch;
  }
}

function failedIds(outcome: InvokeOutcome, messages: Message[]): Set<string> {
  if (outcome.kind !== 'response') return new Set(messages.map((m) => m.MessageId!));
  return new Set(outcome.response.batchItemFailures.map((f) => f.itemIdentifier));
}

function toSqsEvent(messages: Message[], sourceArn: string): SQSEvent {
  return {
    Records: messages.map(
      (m): SQSRecord => ({
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body ?? '',
        attributes: {
          ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
          SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
          SenderId: m.Attributes?.SenderId ?? 'local',
          ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: m.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: sourceArn,
        awsRegion: 'us-east-1',
      }),
    ),
  };
}

async function deleteAll(sqs: SQSClient, queueUrl: string, messages: Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const part = messages.slice(i, i + 10);
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: part.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }));
  }
}
