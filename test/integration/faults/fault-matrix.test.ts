// Faults injected for real into a running pipeline (real processes, PostgreSQL and SQS server), each
// ending with a row-by-row reconciliation of input against output + rejects. Runs that rely on
// slow COPYs or on a trigger of output_table are full runs in place: a shadow refresh loads a new
// table, which has neither.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../../../lambdas/shared/queue.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { runCli, startCli } from '../../support/cli.ts';
import { startTestSqs, type TestSqs } from '../../support/sqs.ts';
import { startSqsFaultProxy } from '../../support/sqs-fault-proxy.ts';
import { assertExactOutput, seedGenerated, slowCopies } from '../../support/pipeline.ts';
import { waitFor, workerSandboxPids } from '../../support/processes.ts';

const activeWorkerCopies = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pg-fanout-worker' AND state = 'active' AND query LIKE 'COPY "public"."output_table"%'`;

async function queueUrls(sqs: SQSClient): Promise<{ work: string; dlq: string }> {
  const work = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'pg-fanout-work' }))).QueueUrl!;
  const dlq = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'pg-fanout-dlq' }))).QueueUrl!;
  return { work, dlq };
}

async function depth(sqs: SQSClient, url: string): Promise<number> {
  const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(r.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

describe('fault matrix', () => {
  let db: TestDatabase;
  let server: TestSqs;
  let sqs: SQSClient;
  let env: Record<string, string>;
  before(async () => {
    db = await createTestDatabase();
  });
  beforeEach(async () => {
    await db.query('DROP TABLE IF EXISTS input_table, output_table CASCADE');
    await db.query(`DO $$ BEGIN IF to_regclass('etl.rejects') IS NOT NULL THEN TRUNCATE etl.rejects; UPDATE etl.runs SET status = 'cancelled' WHERE status = 'running'; END IF; END $$`);
    await server?.stop();
    server = await startTestSqs();
    sqs = createSqsClient({ sqsEndpoint: server.endpoint, region: 'us-east-1' });
    env = { DATABASE_URL: db.url, AWS_ENDPOINT_URL_SQS: server.endpoint };
  });
  after(async () => {
    await server?.stop();
    await db.drop();
  });

  test('a worker instance killed with SIGKILL mid-COPY: its chunk is retried by another instance', async () => {
    await seedGenerated(db, 120_000);
    await slowCopies(db, 0.3);
    // One chunk per invocation: each worker is in its own slow COPY at the same time, round after round.
    const { child, done } = startCli(['local', '--mode', 'full', '--in-place', '--chunk-rows', '20000', '--batch-size', '1', '--worker-timeout', '2'], env);
    await waitFor('two workers mid-COPY', async () => (await db.query(activeWorkerCopies)).rows.length === 2);
    const victims = workerSandboxPids(child.pid!);
    assert.equal(victims.length, 2, 'two isolated worker instances');
    process.kill(victims[0]!, 'SIGKILL');
    const r = await done;
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const retried = await db.query(`SELECT count(*)::int AS n FROM etl.chunks c JOIN etl.runs r USING (run_id) WHERE r.status = 'completed' AND c.attempts > 1`);
    assert.ok(retried.rows[0]!.n >= 1, 'the killed instance\'s chunk was attempted again');
    await assertExactOutput(db);
  });

  test('database backends terminated mid-COPY: the chunks roll back, are retried and end exact', async () => {
    await seedGenerated(db, 120_000);
    await slowCopies(db, 0.3);
    const { done } = startCli(['local', '--mode', 'full', '--in-place', '--chunk-rows', '20000', '--worker-timeout', '2'], env);
    let terminated = 0;
    for (let round = 0; round < 2; round += 1) {
      const pids = await waitFor('a worker mid-COPY', async () => {
        const rows = (await db.query(activeWorkerCopies)).rows;
        return rows.length > 0 ? rows : undefined;
      });
      const t = await db.query('SELECT pg_terminate_backend($1) AS ok', [pids[0]!.pid]);
      if (t.rows[0]?.ok) terminated += 1;
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.equal(terminated, 2);
    const r = await done;
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const errors = await db.query(`SELECT count(*)::int AS n FROM etl.chunks c JOIN etl.runs r USING (run_id) WHERE r.status = 'completed' AND c.attempts > 1`);
    assert.ok(errors.rows[0]!.n >= 1);
    await assertExactOutput(db);
  });

  test('visibility timeout shorter than a chunk: two workers hold one chunk, one copy lands', async () => {
    // One chunk and two workers: the idle one receives the chunk again while the other still copies it.
    await seedGenerated(db, 20_000);
    await slowCopies(db, 2.5); // well past the 1 s visibility timeout, whatever the machine's speed
    // The config refuses this setting, so the queue is made by hand, as a misconfigured deployment would.
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'pg-fanout-dlq' }));
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn;
    await sqs.send(new CreateQueueCommand({ QueueName: 'pg-fanout-work', Attributes: { VisibilityTimeout: '1', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: '50' }) } }));
    const r = await runCli(['local', '--mode', 'full', '--in-place', '--chunk-rows', '20000', '--worker-timeout', '60'], { ...env, LOG_LEVEL: 'info' });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const runId = /run ([0-9a-f-]{36}): completed/.exec(r.stdout)![1];
    const chunks = await db.query(`SELECT count(*)::int AS n, min(duration_ms)::int AS shortest FROM etl.chunks WHERE run_id = $1`, [runId]);
    assert.equal(chunks.rows[0]?.n, 1);
    assert.ok(chunks.rows[0]!.shortest > 1000, `every chunk outlived the 1 s visibility timeout (${chunks.rows[0]!.shortest} ms)`);
    assert.match(r.stdout, /"message":"chunk already done"/, 'a second worker was handed a chunk that the first one committed, and wrote nothing');
    await assertExactOutput(db);
  });

  test('a poison chunk reaches the DLQ after maxReceiveCount, the rest commits, the run fails naming it; after the fix redrive completes it exactly', async () => {
    await seedGenerated(db, 20_000);
    await db.query(`UPDATE input_table SET age = 999 WHERE id = 12345`);
    // A value a target refuses (a CHECK) is set aside as a reject now; an error the target raises fails the chunk.
    await db.query(`CREATE TABLE output_table (id bigint PRIMARY KEY, first_name text, last_name text, age int)`);
    await db.query(`CREATE FUNCTION plausible_age() RETURNS trigger LANGUAGE plpgsql AS $$
                      BEGIN IF NEW.age >= 200 THEN RAISE EXCEPTION 'plausible_age: % is no age', NEW.age; END IF; RETURN NEW; END $$`);
    await db.query(`CREATE TRIGGER plausible_age BEFORE INSERT ON output_table FOR EACH ROW EXECUTE FUNCTION plausible_age()`);
    // One chunk per invocation: the good chunks commit on their first delivery instead of going through a
    // batch that the poison row fails every time (and one by one after it, within the 1 s timeout).
    const failed = await runCli(['local', '--mode', 'full', '--in-place', '--chunk-rows', '2000', '--batch-size', '1', '--worker-timeout', '1'], env);
    assert.equal(failed.code, 1, failed.stdout);
    assert.match(failed.stderr, /run [0-9a-f-]{36} failed: chunk 6 \[12001, 14001\) .*plausible_age: 999 is no age/);
    assert.match(failed.stdout, /chunks 9\/10 done, 1 failed, retries \d+, DLQ depth 1/);
    const runId = /run ([0-9a-f-]{36}) failed/.exec(failed.stderr)![1]!;
    const urls = await queueUrls(sqs);
    assert.equal(await depth(sqs, urls.dlq), 1);
    await assertExactOutput(db, { hi: 12001n });
    await assertExactOutput(db, { lo: 14001n });
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM output_table WHERE id >= 12001 AND id < 14001`)).rows[0]?.n, 0, 'nothing of the poison chunk is visible');

    const status = await runCli(['status', runId], env);
    assert.equal(status.code, 1);
    assert.match(status.stdout, /failed chunk 6 \[12001, 14001\) after 5 attempt\(s\): .*plausible_age/);

    await db.query(`DROP TRIGGER plausible_age ON output_table`);
    const redrive = await runCli(['redrive'], { ...env, WORK_QUEUE_URL: urls.work, DEAD_LETTER_QUEUE_URL: urls.dlq });
    assert.equal(redrive.code, 0, redrive.stderr);
    assert.match(redrive.stdout, /moved 1 message\(s\) back to the work queue/);
    assert.equal(await depth(sqs, urls.dlq), 0);
    const finish = await runCli(['local', '--run', runId, '--worker-timeout', '1'], env);
    assert.equal(finish.code, 0, finish.stderr + finish.stdout);
    assert.match(finish.stdout, new RegExp(`run ${runId}: completed`));
    await assertExactOutput(db);
    const verify = await runCli(['verify', runId], env);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /verified: the targets and etl\.rejects hold exactly what the pipeline makes of the source, row for row/);
  });

  test('the coordinator killed mid-enqueue, then the run resumed: exact', async () => {
    await seedGenerated(db, 40_000);
    // 667 chunks: the enqueue marks the ledger per page of 500, so the kill lands after the first
    // page is recorded and before the rest is (the slow SQS stretches that to a second or more).
    const slow = await startSqsFaultProxy(server.endpoint, { delaySendsMs: 300 });
    try {
      const { child, done } = startCli(['local', '--mode', 'full', '--chunk-rows', '60', '--worker-timeout', '2'], { ...env, AWS_ENDPOINT_URL_SQS: slow.endpoint });
      await waitFor('enqueue under way', async () => {
        const r = await db.query(`SELECT chunks_enqueued AS n, chunks_total AS t FROM etl.runs WHERE status = 'running'`).catch(() => ({ rows: [] as { n: number; t: number }[] }));
        const n = r.rows[0]?.n ?? 0;
        return n >= 500 && n < (r.rows[0]?.t ?? 0);
      }, 60_000, 10);
      child.kill('SIGKILL');
      await done;
    } finally {
      await slow.stop();
    }
    const mid = await db.query(`SELECT enqueue_complete, chunks_enqueued, chunks_total FROM etl.runs WHERE status = 'running'`);
    assert.equal(mid.rows[0]?.enqueue_complete, false, 'killed mid-enqueue');
    const r = await runCli(['local', '--chunk-rows', '60', '--worker-timeout', '2'], env);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /was interrupted: resuming it/);
    await assertExactOutput(db);
  });

  test('two triggers at the same instant: exactly one run', async () => {
    await seedGenerated(db, 5000);
    const urls = { work: (await sqs.send(new CreateQueueCommand({ QueueName: 'pg-fanout-work' }))).QueueUrl! };
    const cliEnv = { ...env, WORK_QUEUE_URL: urls.work };
    const [a, b] = await Promise.all([runCli(['run', '--mode', 'full'], cliEnv), runCli(['run', '--mode', 'full'], cliEnv)]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const ids = [a.stdout, b.stdout].map((s) => /run ([0-9a-f-]{36})/.exec(s)![1]);
    assert.equal(ids[0], ids[1], 'both triggers name the same run');
    assert.ok([a.stdout, b.stdout].some((s) => /already active/.test(s)));
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM etl.runs WHERE status = 'running'`)).rows[0]?.n, 1);
  });
});
