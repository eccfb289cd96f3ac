// The local event source against a real SQS-compatible server: messages it received but never
// handed to an instance become visible again as soon as it stops, not a visibility timeout later.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { backpressureToEnv, resolveBackpressure } from '../../../lambdas/shared/config.ts';
import { createSqsClient } from '../../../lambdas/shared/queue.ts';
import { LocalEventSource } from '../../../local/event-source.ts';
import { ensureQueues, type LocalQueues } from '../../../local/queues.ts';
import { startTestSqs, type TestSqs } from '../../support/sqs.ts';

let server: TestSqs;
let sqs: SQSClient;
let queues: LocalQueues;
// Two instances and 12 messages, so the poller holds some ahead of them; a long visibility, so a held message
// left in flight would stay invisible for the whole test.
const backpressure = resolveBackpressure({ maxConcurrency: 2, reservedConcurrency: 2, batchSize: 1, workerTimeoutSeconds: 60 });

before(async () => {
  server = await startTestSqs();
  sqs = createSqsClient({ sqsEndpoint: server.endpoint, region: 'us-east-1' });
  queues = await ensureQueues(sqs, backpressure);
});

after(async () => {
  sqs.destroy();
  await server.stop();
});

async function visibleMessages(): Promise<number> {
  const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queues.queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(r.Attributes?.ApproximateNumberOfMessages ?? -1);
}

test('stopping releases the messages the poller held but never handed out', async () => {
  const total = 12;
  for (let i = 0; i < total; i += 10) {
    const entries = Array.from({ length: Math.min(10, total - i) }, (_, j) => ({ Id: String(j), MessageBody: JSON.stringify({ v: 1, n: i + j }) }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queues.queueUrl, Entries: entries }));
  }
  // The worker cannot reach its database, so every record it is given fails and stays in flight.
  const env = {
    ...process.env,
    DATABASE_URL: 'postgres://nobody:nothing@127.0.0.1:1/none',
    DATABASE_TLS: 'disable',
    WORK_QUEUE_URL: queues.queueUrl,
    AWS_ENDPOINT_URL_SQS: server.endpoint,
    EMIT_METRICS: 'false',
    LOG_LEVEL: 'error',
    ...backpressureToEnv(backpressure),
  };
  let invoked!: () => void;
  const firstInvocation = new Promise<void>((resolve) => (invoked = resolve));
  const source = new LocalEventSource({ sqs, queueUrl: queues.queueUrl, backpressure, env, onInvocation: () => invoked() });
  source.start();
  await firstInvocation;
  await source.stop();

  const handedOut = source.stats.recordsSucceeded + source.stats.recordsFailed;
  assert.ok(handedOut >= 1 && handedOut < total, `handed out ${handedOut}`);
  assert.equal(source.stats.recordsSucceeded, 0);
  // Without the release, the held ones (the poller receives up to 10 ahead) would be missing here.
  assert.equal(await visibleMessages(), total - handedOut);
});
