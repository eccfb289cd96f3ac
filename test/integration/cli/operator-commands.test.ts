// `pg-fanout resume`, `verify` and `redrive` as real processes against a real PostgreSQL and SQS
// server, and every operator command's answer to bad arguments: one line, a non-zero exit.
// `verify` is the deep check now: each chunk read again, put through the pipeline, compared row
// for row with where the run writes (a full refresh's new table while it copies).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetQueueAttributesCommand, PurgeQueueCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { resolveBackpressure } from '../../../lambdas/shared/config.ts';
import { createSqsClient } from '../../../lambdas/shared/queue.ts';
import { ensureQueues, type LocalQueues } from '../../../local/queues.ts';
import { runCli } from '../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startTestSqs, type TestSqs } from '../../support/sqs.ts';
import { seedGenerated } from '../../support/pipeline.ts';

async function visible(sqs: SQSClient, url: string): Promise<number> {
  const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(r.Attributes?.ApproximateNumberOfMessages ?? 0);
}

describe('operator commands', () => {
  let db: TestDatabase;
  let server: TestSqs;
  let sqs: SQSClient;
  let queues: LocalQueues;
  let env: Record<string, string>;
  before(async () => {
    db = await createTestDatabase();
    await seedGenerated(db, 10_000);
    server = await startTestSqs();
    sqs = createSqsClient({ sqsEndpoint: server.endpoint, region: 'us-east-1' });
    queues = await ensureQueues(sqs, resolveBackpressure());
    env = { DATABASE_URL: db.url, AWS_ENDPOINT_URL_SQS: server.endpoint, WORK_QUEUE_URL: queues.queueUrl, DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl, CHUNK_ROWS: '2500' };
  });
  after(async () => {
    await server?.stop();
    await db?.drop();
  });

  test('resume re-sends the chunks of a run whose messages were lost; verify names the chunks not yet landed', async () => {
    const started = await runCli(['run', '--mode', 'full'], env);
    assert.equal(started.code, 0, started.stderr);
    const runId = /run ([0-9a-f-]{36}) started \(full\): 4 chunks enqueued/.exec(started.stdout)![1]!;
    assert.equal(await visible(sqs, queues.queueUrl), 4);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queues.queueUrl }));
    assert.equal(await visible(sqs, queues.queueUrl), 0, 'the messages are lost');

    const resumed = await runCli(['resume', runId], env);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`run ${runId}: 4 chunk\\(s\\) re-sent; status running`));
    assert.equal(await visible(sqs, queues.queueUrl), 4);

    const verify = await runCli(['verify', runId], env);
    assert.equal(verify.code, 1, 'nothing has landed yet');
    assert.match(verify.stderr, /^verify: 4 chunk\(s\) differ: 0, 1, 2, 3; resume the run to redo them, or start a new run\n$/);
    // [1, 2501) holds 2500 rows: 53 rejected by the spec (25 '  ' names, 28 NULL), 2447 split.
    assert.match(verify.stdout, new RegExp('DIFFERS chunk 0 \\[-inf, 2501\\): public\\.output_table holds 0 rows, the pipeline gives 2447 now \\(2447 missing, 0 not expected\\); ' +
      'etl\\.rejects holds 0 rows, the pipeline gives 53 now \\(53 missing, 0 not expected\\)\n'));
    assert.match(verify.stdout, /^run [0-9a-f-]{36} \(running\): 10,000 source rows read again, 0 target rows and 0 rejects compared, 4 chunks\n/);
  });

  test('redrive moves every DLQ message back, deleting each only after the work queue took it', async () => {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queues.queueUrl }));
    for (let i = 0; i < 13; i += 1) await sqs.send(new SendMessageCommand({ QueueUrl: queues.deadLetterQueueUrl, MessageBody: `dead ${i}` }));
    const r = await runCli(['redrive'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /moved 13 message\(s\) back to the work queue/);
    assert.equal(await visible(sqs, queues.deadLetterQueueUrl), 0);
    assert.equal(await visible(sqs, queues.queueUrl), 13);
  });

  for (const [args, message] of [
    [['verify'], /^pg-fanout: verify needs a RUN_ID \(a uuid\): find it with `pg-fanout status`\.\n$/],
    [['verify', 'last-tuesday'], /^pg-fanout: verify: RUN_ID "last-tuesday" is not a run id/],
    [['resume'], /^pg-fanout: resume needs a RUN_ID/],
    [['resume', '1234'], /^pg-fanout: resume: RUN_ID "1234" is not a run id/],
    [['redrive', '--everything'], /^pg-fanout: redrive: Unknown option '--everything'.*see `pg-fanout redrive --help`\.\n$/],
    [['status', '--interval', '0'], /^pg-fanout: status: --interval "0" must be a positive number of seconds\.\n$/],
    [['status', 'a', 'b'], /^pg-fanout: status: unexpected argument "b"/],
    [['run', '--mode', 'sometimes'], /^pg-fanout: --mode is "sometimes": use "incremental", "full" or "append"\.\n$/],
    [['cancel'], /^pg-fanout: cancel needs a RUN_ID/],
    [['cancel', 'everything'], /^pg-fanout: cancel: RUN_ID "everything" is not a run id/],
    [['local', '--run', 'yesterday'], /^pg-fanout: --run "yesterday" is not a run id/],
    [['frobnicate'], /^pg-fanout: unknown command "frobnicate"/],
  ] as const) {
    test(`pg-fanout ${args.join(' ')}: one line, exit 2`, async () => {
      const r = await runCli([...args], env);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    });
  }

  test('every command has --help', async () => {
    for (const command of ['local', 'run', 'status', 'verify', 'resume', 'redrive', 'cancel']) {
      const r = await runCli([command, '--help'], env);
      assert.equal(r.code, 0, `${command} --help`);
      assert.match(r.stdout, new RegExp(`pg-fanout ${command}`));
    }
  });
});
