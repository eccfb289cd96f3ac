// Plays the Lambda SQS event source mapping: a poller long-polls the work queue ahead of the
// functions (as Lambda's pollers do), instances take SQS events of up to the batch size from what
// it holds, at most `maxConcurrency` worker sandboxes run at once, the records that succeeded are
// deleted and failed ones reappear after the visibility timeout (and, past maxReceiveCount, move to
// the DLQ by the queue's redrive policy).
import { setTimeout as sleep } from 'node:timers/promises';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { BackpressureConfig } from '../lambdas/shared/config.ts';
import { WorkerSandbox, type InvokeOutcome } from './worker-sandbox.ts';

/** How long a succeeded message may wait to be deleted with others (it is invisible for far longer). */
const DELETE_DELAY_MS = 100;

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
  /**
   * Received, not yet handed to an instance: up to 10 (one full receive), but never more than 5
   * batches per instance, so a held message's invocation still ends inside its visibility timeout
   * (6 x the function timeout: at most 5 invocations' wait, then its own).
   */
  readonly #held: Message[] = [];
  readonly #holdLimit: number;
  readonly #refillBelow: number;
  #wake = new Signal();
  #running = false;
  #loops: Promise<void>[] = [];
  // Aborts the long poll in flight, so stopping does not wait out a receive wait.
  #polling = new AbortController();
  readonly #toDelete: Message[] = [];
  #deleting: Promise<void> | undefined;

  constructor(options: EventSourceOptions) {
    this.#options = options;
    this.sandboxes = Array.from({ length: options.backpressure.maxConcurrency }, () => new WorkerSandbox(options.env));
    const { maxConcurrency, batchSize } = options.backpressure;
    this.#holdLimit = Math.min(5 * maxConcurrency * batchSize, Math.max(10, maxConcurrency * batchSize));
    this.#refillBelow = Math.min(this.#holdLimit, maxConcurrency * batchSize);
  }

  get peakWorkerRssBytes(): number {
    return Math.max(0, ...this.sandboxes.map((s) => s.peakRssBytes));
  }

  /** CPU time of every worker instance (ms), as they last reported it. */
  get workerCpuMs(): number {
    return this.sandboxes.reduce((sum, s) => sum + s.cpuMs, 0);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#polling = new AbortController();
    // Instances are started up front, like provisioned concurrency: a run measures chunks, not cold starts.
    for (const sandbox of this.sandboxes) void sandbox.warm();
    this.#loops = [this.#receive(), ...this.sandboxes.map((sandbox) => this.#serve(sandbox))];
  }

  /**
   * Stops polling, lets in-flight invocations finish, deletes what succeeded, makes the messages
   * received but not yet handed out visible again at once, then stops the sandboxes.
   */
  async stop(): Promise<void> {
    this.#running = false;
    this.#polling.abort();
    this.#wake.notify();
    await Promise.all(this.#loops);
    await this.#deleting;
    await this.#flushDeletes();
    await this.#release(this.#held.splice(0));
    await Promise.all(this.sandboxes.map((s) => s.stop()));
  }

  async #receive(): Promise<void> {
    const { sqs, queueUrl } = this.#options;
    while (this.#running) {
      // Refill only when the held messages no longer give every instance a batch: receives of
      // up to 10 instead of one per invocation.
      if (this.#held.length >= this.#refillBelow) {
        await this.#wake.next();
        continue;
      }
      const room = this.#holdLimit - this.#held.length;
      try {
        const r = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: Math.min(10, room), WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
          { abortSignal: this.#polling.signal },
        );
        const got = r.Messages ?? [];
        if (!this.#running) {
          await this.#release(got);
          return;
        }
        if (got.length > 0) {
          this.#held.push(...got);
          this.#wake.notify();
        }
      } catch (error) {
        if (!this.#running) return;
        process.stderr.write(`event source: receive from ${queueUrl} failed: ${(error as Error).message}; retrying\n`);
        await sleep(1000);
      }
    }
  }

  async #serve(sandbox: WorkerSandbox): Promise<void> {
    const { backpressure } = this.#options;
    while (this.#running) {
      const messages = await this.#takeBatch();
      if (messages.length === 0) continue;
      const outcome = await sandbox.invoke(toSqsEvent(messages, this.#options.queueArn ?? this.#options.queueUrl), backpressure.workerTimeoutSeconds * 1000);
      this.stats.invocations += 1;
      const failed = failedIds(outcome, messages);
      if (outcome.kind === 'timeout') this.stats.timeouts += 1;
      if (outcome.kind === 'crashed') this.stats.crashes += 1;
      const succeeded = messages.filter((m) => !failed.has(m.MessageId!));
      this.stats.recordsSucceeded += succeeded.length;
      this.stats.recordsFailed += failed.size;
      // Deleted in the background, batched with other instances' (a late delete only means a
      // duplicate delivery, which the worker skips as done).
      this.#delete(succeeded);
      this.#options.onInvocation?.(outcome, messages.length, sandbox);
    }
  }

  /** Up to batchSize held messages: waits for the first, for more only while the batching window is open. */
  async #takeBatch(): Promise<Message[]> {
    const { batchSize, maxBatchingWindowSeconds } = this.#options.backpressure;
    while (this.#running && this.#held.length === 0) await this.#wake.next();
    if (!this.#running) return [];
    const batch = this.#held.splice(0, batchSize);
    const deadline = Date.now() + maxBatchingWindowSeconds * 1000;
    while (this.#running && batch.length > 0 && batch.length < batchSize && Date.now() < deadline) {
      const timer = new AbortController();
      await Promise.race([this.#wake.next(), sleep(deadline - Date.now(), undefined, { signal: timer.signal }).catch(() => undefined)]);
      timer.abort();
      batch.push(...this.#held.splice(0, batchSize - batch.length));
    }
    // Room for the poller to fetch ahead again.
    this.#wake.notify();
    return batch;
  }

  #delete(messages: Message[]): void {
    if (messages.length === 0) return;
    this.#toDelete.push(...messages);
    // Gathered for up to DELETE_DELAY_MS into batches of 10; stop() deletes what is left.
    this.#deleting ??= (this.#toDelete.length >= 10 ? Promise.resolve() : sleep(DELETE_DELAY_MS))
      .then(() => this.#flushDeletes())
      .finally(() => (this.#deleting = undefined));
  }

  async #flushDeletes(): Promise<void> {
    const { sqs, queueUrl } = this.#options;
    while (this.#toDelete.length > 0) {
      const part = this.#toDelete.splice(0, 10);
      await sqs
        .send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: part.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })) }))
        .catch((error: Error) => process.stderr.write(`event source: delete failed (${error.message}); the chunk will be redelivered and skipped\n`));
    }
  }

  /** Messages received but never handed out become visible again now, not after their visibility timeout. */
  async #release(messages: Message[]): Promise<void> {
    const { sqs, queueUrl } = this.#options;
    for (let i = 0; i < messages.length; i += 10) {
      const part = messages.slice(i, i + 10);
      await sqs
        .send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: part.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })) }))
        .catch(() => undefined);
    }
  }
}

/** Wakes everyone waiting on it; waiting again needs a new notify. */
class Signal {
  #waiting: (() => void)[] = [];

  next(): Promise<void> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  notify(): void {
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

function failedIds(outcome: InvokeOutcome, messages: Message[]): Set<string> {
  if (outcome.kind !== 'response') return new Set(messages.map((m) => m.MessageId!));
  return new Set(outcome.response.batchItemFailures.map((f) => f.itemIdentifier));
}

/** SQS messages as the Lambda event source hands them to a function. */
export function toSqsEvent(messages: Message[], sourceArn: string): SQSEvent {
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
