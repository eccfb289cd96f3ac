// The coordinator's run start against a real PostgreSQL and a real SQS-compatible server: chunks
// of exactly CHUNK_ROWS rows on skewed data, a plan longer than one enqueue page, one run per
// pipeline under simultaneous triggers, a send failure part-way that leaves a run the next trigger
// finishes enqueuing, and append runs planned from the high-water mark. Full runs here rewrite in
// place (the old full run): what is planned and enqueued does not depend on how a run writes.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { PurgeQueueCommand, ReceiveMessageCommand, DeleteMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { resolveBackpressure } from '../../../lambdas/shared/config.ts';
import type { Pool } from '../../../lambdas/shared/db.ts';
import { createSqsClient } from '../../../lambdas/shared/queue.ts';
import { decodeChunkMessage } from '../../../lambdas/shared/messages.ts';
import { resumeRun, startRun as startAnyRun, type CoordinatorDeps, type StartOptions } from '../../../lambdas/coordinator/start-run.ts';
import type { RunMode } from '../../../lambdas/shared/config.ts';
import { ensureQueues } from '../../../local/queues.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startTestSqs, type TestSqs } from '../../support/sqs.ts';
import { startSqsFaultProxy } from '../../support/sqs-fault-proxy.ts';
import { openTestPool, preparedPipeline } from '../../support/pipeline.ts';

/** A run as the tests before the redesign started one: a full run writes in place. */
function startRun(deps: CoordinatorDeps, mode: RunMode, options: StartOptions = { refresh: 'in-place' }) {
  return startAnyRun(deps, mode, options);
}

/** An input row `i` in chunk `c`'s range (one-part text keys, NULL unbounded). */
const IN_CHUNK = `(c.lo IS NULL OR i.id >= c.lo[1]::bigint) AND (c.hi IS NULL OR i.id < c.hi[1]::bigint)`;

async function drain(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!r.Messages?.length) return bodies;
    bodies.push(...r.Messages.map((m) => m.Body!));
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: r.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
}

describe('coordinator startRun', () => {
  let db: TestDatabase;
  let pool: Pool;
  let server: TestSqs;
  let sqs: SQSClient;
  let queueUrl: string;
  let deps: CoordinatorDeps;
  before(async () => {
    db = await createTestDatabase();
    pool = await openTestPool(db);
    server = await startTestSqs();
    sqs = createSqsClient({ sqsEndpoint: server.endpoint, region: 'us-east-1' });
    queueUrl = (await ensureQueues(sqs, resolveBackpressure())).queueUrl;
    // 99% of keys in one dense block, 1% spread thinly up to 10^15.
    await db.query(`CREATE TABLE input_table (id bigint PRIMARY KEY, name text, age int)`);
    await db.query(`INSERT INTO input_table SELECT g, 'A B', 1 FROM generate_series(1, 99000) g`);
    await db.query(`INSERT INTO input_table SELECT 1000000 + g * 999999999999, 'A B', 1 FROM generate_series(1, 1000) g`);
    deps = {
      source: pool, target: pool, sqs, queueUrl, pipeline: await preparedPipeline(pool), chunkRows: 5000, indexBuild: { memoryMb: 64, parallelWorkers: 0 },
      staleEnqueueMs: 60_000, lostMessagesMs: 600_000,
    };
  });
  beforeEach(async () => {
    await db.query(`UPDATE etl.runs SET status = 'cancelled' WHERE status = 'running'`);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  });
  after(async () => {
    await pool.end();
    await server.stop();
    await db.drop();
  });

  /** Source rows in each chunk's range, counted in SQL, in chunk order. */
  async function rowsPerChunk(runId: string): Promise<number[]> {
    const sizes = await db.query<{ n: number }>(
      `SELECT (SELECT count(*)::int FROM input_table i WHERE ${IN_CHUNK}) AS n
         FROM etl.chunks c WHERE run_id = $1 ORDER BY chunk_no`, [runId]);
    return sizes.rows.map((r) => r.n);
  }

  test('chunks follow skewed data: exactly CHUNK_ROWS rows each, one message each', async () => {
    const result = await startRun(deps, 'full');
    assert.equal(result.started, true);
    assert.deepEqual(await rowsPerChunk(result.runId), Array(20).fill(5000));
    const bodies = (await drain(sqs, queueUrl)).map(decodeChunkMessage);
    assert.deepEqual(bodies.map((b) => b.chunkNo).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
    const first = bodies.find((b) => b.chunkNo === 0)!;
    assert.equal(first.lo, null, 'a full run covers the whole key domain, so stale target rows are replaced too');
    assert.equal(bodies.find((b) => b.chunkNo === 19)!.hi, null);
  });

  test('on skewed data every chunk holds exactly CHUNK_ROWS rows but the last, which holds the rest', async () => {
    const result = await startRun({ ...deps, chunkRows: 3000 }, 'full');
    const sizes = await rowsPerChunk(result.runId);
    assert.deepEqual(sizes, [...Array(33).fill(3000), 1000], 'rows per chunk, counted in SQL');
    const planned = await db.query<{ n: number }>(`SELECT rows_planned::int AS n FROM etl.chunks WHERE run_id = $1 ORDER BY chunk_no`, [result.runId]);
    assert.deepEqual(planned.rows.map((r) => r.n), sizes, 'rows_planned of each chunk');
  });

  test('a run of more than one enqueue page (500 chunks) is enqueued whole: one message per chunk', async () => {
    const result = await startRun({ ...deps, chunkRows: 150 }, 'full');
    assert.equal(result.chunks, Math.ceil(100_000 / 150));
    assert.ok(result.chunks > 500, 'the plan must span more than one page');
    const chunkNos = (await drain(sqs, queueUrl)).map((b) => decodeChunkMessage(b).chunkNo);
    assert.equal(chunkNos.length, result.chunks, 'messages in the queue');
    assert.deepEqual(chunkNos.sort((a, b) => a - b), Array.from({ length: result.chunks }, (_, i) => i), 'one message per chunk');
    const run = await db.query(`SELECT chunks_enqueued, chunks_total, enqueue_complete FROM etl.runs WHERE run_id = $1`, [result.runId]);
    assert.deepEqual(run.rows[0], { chunks_enqueued: result.chunks, chunks_total: result.chunks, enqueue_complete: true });
    assert.equal(result.enqueued, result.chunks);
  });

  test('two triggers at the same instant start exactly one run', async () => {
    const other = await openTestPool(db);
    try {
      const results = await Promise.all([startRun(deps, 'full'), startRun({ ...deps, source: other, target: other }, 'full')]);
      assert.equal(results[0].runId, results[1].runId);
      assert.deepEqual(results.map((r) => r.started).sort(), [false, true]);
      const runs = await db.query(`SELECT count(*)::int AS n FROM etl.runs WHERE status = 'running'`);
      assert.equal(runs.rows[0]?.n, 1);
      assert.equal((await drain(sqs, queueUrl)).length, 20, 'one message per chunk, not two');
    } finally {
      await other.end();
    }
  });

  test('a send failure part-way leaves a resumable run; the next trigger sends only what is missing', async () => {
    const proxy = await startSqsFaultProxy(server.endpoint, { failSendsAfter: 1 });
    try {
      const broken = { ...deps, sqs: createSqsClient({ sqsEndpoint: proxy.endpoint, region: 'us-east-1' }) };
      await assert.rejects(startRun(broken, 'full'), /SQS refused 10 chunk message\(s\) after 5 attempts .*the run stays resumable/);
    } finally {
      await proxy.stop();
    }
    const run = await db.query(`SELECT run_id, enqueue_complete, chunks_enqueued FROM etl.runs WHERE status = 'running'`);
    assert.equal(run.rows[0]?.enqueue_complete, false);
    assert.equal(run.rows[0]?.chunks_enqueued, 10, 'the first batch of 10 went out and is recorded');

    const fresh = await startRun(deps, 'full');
    assert.equal(fresh.started, false, 'a trigger while the run is active starts nothing');
    assert.equal(fresh.enqueued, 0, 'enqueue progress is recent: another coordinator may still be sending');
    const takeover = await startRun({ ...deps, staleEnqueueMs: 0 }, 'full');
    assert.equal(takeover.runId, run.rows[0]?.run_id);
    assert.equal(takeover.enqueued, 10);
    const chunkNos = (await drain(sqs, queueUrl)).map((b) => decodeChunkMessage(b).chunkNo).sort((a, b) => a - b);
    assert.deepEqual(chunkNos, Array.from({ length: 20 }, (_, i) => i), 'every chunk enqueued exactly once');
    const after = await db.query(`SELECT enqueue_complete FROM etl.runs WHERE run_id = $1`, [takeover.runId]);
    assert.equal(after.rows[0]?.enqueue_complete, true);
  });

  test('resume re-sends every chunk that is not done and skips done ones', async () => {
    const started = await startRun(deps, 'full');
    await drain(sqs, queueUrl); // the messages are "lost"
    await db.query(`UPDATE etl.chunks SET status = 'done' WHERE run_id = $1 AND chunk_no < 15`, [started.runId]);
    const resumed = await resumeRun(deps, started.runId);
    assert.equal(resumed.enqueued, 5);
    const chunkNos = (await drain(sqs, queueUrl)).map((b) => decodeChunkMessage(b).chunkNo).sort((a, b) => a - b);
    assert.deepEqual(chunkNos, [15, 16, 17, 18, 19]);
  });

  test('a trigger re-sends the unfinished chunks of a run that has gone quiet for longer than every delivery could take', async () => {
    const started = await startRun(deps, 'full');
    await drain(sqs, queueUrl); // a purged queue: the messages are gone
    await db.query(`UPDATE etl.chunks SET status = 'done' WHERE run_id = $1 AND chunk_no < 17`, [started.runId]);
    const recent = await startRun(deps, 'full');
    assert.equal(recent.enqueued, 0, 'a run that settled a chunk recently is left alone');
    const quiet = await startRun({ ...deps, lostMessagesMs: 0 }, 'full');
    assert.equal(quiet.runId, started.runId);
    assert.equal(quiet.started, false);
    assert.equal(quiet.enqueued, 3);
    const chunkNos = (await drain(sqs, queueUrl)).map((b) => decodeChunkMessage(b).chunkNo).sort((a, b) => a - b);
    assert.deepEqual(chunkNos, [17, 18, 19]);
  });

  /** A full run as its workers leave it: every chunk done, completed; its messages consumed. Returns its high-water mark. */
  async function completedFullRun(): Promise<bigint> {
    const full = await startRun(deps, 'full');
    await db.query(`UPDATE etl.chunks SET status = 'done' WHERE run_id = $1`, [full.runId]);
    await db.query(`UPDATE etl.runs SET status = 'completed', finished_at = now() WHERE run_id = $1`, [full.runId]);
    await drain(sqs, queueUrl);
    const hwm = await db.query<{ h: string }>(`SELECT high_water_mark[1] AS h FROM etl.runs WHERE run_id = $1`, [full.runId]);
    return BigInt(hwm.rows[0]!.h);
  }

  // The `append` mode: keys above the last run's high-water mark. Keys of any type have no "mark +
  // 1", so its first chunk starts at the first key above the mark, read in the planning snapshot.
  test('append with nothing above the mark plans no chunks and completes at once', async () => {
    await completedFullRun();
    const app = await startRun(deps, 'append');
    assert.equal(app.mode, 'append');
    assert.equal(app.chunks, 0);
    assert.equal(app.enqueued, 0);
    assert.equal(app.status, 'completed');
  });

  test('append after a completed run covers only keys above its high-water mark', async () => {
    const hwm = await completedFullRun();
    await db.query(`INSERT INTO input_table SELECT 2000000000000000 + g, 'New Row', 1 FROM generate_series(1, 7000) g`);
    try {
      const app = await startRun(deps, 'append');
      assert.equal(app.mode, 'append');
      assert.equal(app.chunks, 2, '7000 new rows at 5000 per chunk');
      const covered = await db.query<{ n: number; min: string }>(
        `SELECT count(*)::int AS n, min(i.id)::text AS min FROM etl.chunks c JOIN input_table i ON ${IN_CHUNK} WHERE c.run_id = $1`, [app.runId]);
      assert.equal(BigInt(covered.rows[0]!.min) > hwm, true, `the chunks start above the mark ${hwm}, not at ${covered.rows[0]!.min}`);
      assert.equal(covered.rows[0]?.n, 7000, 'the chunks cover exactly the new rows');
      assert.deepEqual(await rowsPerChunk(app.runId), [5000, 2000], 'each chunk holds the rows it plans');
    } finally {
      await db.query(`DELETE FROM input_table WHERE id > 2000000000000000`);
    }
  });

  test('append plans exactly the rows above the high-water mark, not the row at it', async () => {
    await completedFullRun();
    const added = 7003;
    await db.query(`INSERT INTO input_table SELECT 2000000000000000 + g, 'New Row', 1 FROM generate_series(1, $1::int) g`, [added]);
    try {
      const app = await startRun(deps, 'append');
      const run = await db.query<{ rows_planned: string }>(`SELECT rows_planned::text FROM etl.runs WHERE run_id = $1`, [app.runId]);
      assert.equal(run.rows[0]?.rows_planned, String(added));
      const chunks = await db.query<{ lo: string[] | null; planned: number }>(
        `SELECT c.lo, c.rows_planned::int AS planned FROM etl.chunks c WHERE run_id = $1 ORDER BY chunk_no`, [app.runId]);
      assert.deepEqual(chunks.rows.map((c) => c.planned), [5000, 2003], 'each chunk plans the rows in its range');
      // Counting from the row at the mark would start the second chunk one new key early.
      assert.deepEqual(chunks.rows[1]?.lo, [String(2000000000000000n + 5001n)], 'the second chunk starts at the 5001st new key');
    } finally {
      await db.query(`DELETE FROM input_table WHERE id > 2000000000000000`);
    }
  });
});
