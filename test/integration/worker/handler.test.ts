// The deployed worker handler itself (middy + partial batch response) against a real PostgreSQL:
// a malformed record fails alone, its batch-mates commit; the last delivery marks a chunk failed.
// A chunk that cannot load is made with a trigger that raises an error: a value a target refuses
// (a CHECK) is set aside as a reject now, and no longer fails its chunk.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { encodeChunkMessage } from '../../../lambdas/shared/messages.ts';
import type { Pool } from '../../../lambdas/shared/db.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { assertExactOutput, createTestRun, openTestPool, preparedPipeline, range, seedGenerated } from '../../support/pipeline.ts';

const ALL = range(null, null);

/** A row trigger on output_table that raises an error (P0001) for the rows `condition` holds for. */
async function raiseOn(db: TestDatabase, name: string, condition: string): Promise<void> {
  await db.query(`CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN IF ${condition} THEN RAISE EXCEPTION '${name}: row % refused', NEW.id; END IF; RETURN NEW; END $$`);
  await db.query(`CREATE TRIGGER ${name} BEFORE INSERT ON output_table FOR EACH ROW EXECUTE FUNCTION ${name}()`);
}

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

function record(id: string, body: string, receiveCount = 1): SQSRecord {
  return {
    messageId: id, receiptHandle: `rh-${id}`, body, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q', awsRegion: 'us-east-1',
    messageAttributes: {},
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'test', ApproximateFirstReceiveTimestamp: '0' },
  };
}

const context = { functionName: 'worker', awsRequestId: 'test', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

describe('worker handler', () => {
  let db: TestDatabase;
  let pool: Pool;
  let handler: Handler;
  before(async () => {
    db = await createTestDatabase();
    pool = await openTestPool(db);
    await seedGenerated(db, 9000);
    process.env.DATABASE_URL = db.url;
    process.env.MAX_RECEIVE_COUNT = '5';
    process.env.EMIT_METRICS = 'false';
    process.env.LOG_LEVEL = 'error';
    handler = (await import('../../../lambdas/worker/handler.ts')).handler as unknown as Handler;
  });
  after(async () => {
    await pool.end();
    const { closeAllPools } = await import('../../../lambdas/shared/db.ts');
    await closeAllPools();
    await db.drop();
  });

  test('a malformed or unknown record fails alone; its batch-mates commit', async () => {
    const p = await preparedPipeline(pool);
    const chunks = [range(null, 3001), range(3001, 6001), range(6001, null)];
    const runId = await createTestRun(pool, p, chunks);
    const body = (i: number) => encodeChunkMessage({ runId, chunkNo: i, ...chunks[i]! });
    const response = await handler({
      Records: [
        record('good-0', body(0)),
        record('not-json', '{oops'),
        record('good-1', body(1)),
        record('unknown-chunk', encodeChunkMessage({ runId, chunkNo: 7, ...range(1, 2) })),
        record('good-2', body(2)),
      ],
    }, context);
    assert.deepEqual(response.batchItemFailures.map((f) => f.itemIdentifier).sort(), ['not-json', 'unknown-chunk']);
    const together = await db.query(`SELECT count(DISTINCT xmin::text)::int AS transactions, max(attempts)::int AS attempts FROM etl.chunks WHERE run_id = $1`, [runId]);
    assert.deepEqual(together.rows[0], { transactions: 1, attempts: 1 }, 'the good chunks of the batch committed in one transaction, each attempted once');
    const run = await db.query(`SELECT status, chunks_done FROM etl.runs WHERE run_id = $1`, [runId]);
    assert.deepEqual(run.rows[0], { status: 'completed', chunks_done: 3 });
    await assertExactOutput(db);
  });

  test('the same batch delivered again is a no-op that succeeds', async () => {
    const p = await preparedPipeline(pool);
    const runId = await createTestRun(pool, p, [ALL]);
    const event = { Records: [record('a', encodeChunkMessage({ runId, chunkNo: 0, ...ALL }))] };
    assert.deepEqual((await handler(event, context)).batchItemFailures, []);
    const xmin = await db.query(`SELECT max(xmin::text::bigint) AS x FROM output_table`);
    assert.deepEqual((await handler(event, context)).batchItemFailures, []);
    assert.deepEqual((await db.query(`SELECT max(xmin::text::bigint) AS x FROM output_table`)).rows, xmin.rows, 'nothing rewritten');
  });

  test('a failure on the last delivery before the DLQ marks the chunk and its run failed, naming the chunk', async () => {
    await raiseOn(db, 'age_small', 'NEW.age >= 80');
    try {
      const p = await preparedPipeline(pool);
      const runId = await createTestRun(pool, p, [ALL]);
      const event = (n: number) => ({ Records: [record('poison', encodeChunkMessage({ runId, chunkNo: 0, ...ALL }), n)] });
      // Even a batch whose every record failed answers with a partial batch response, not an error.
      assert.deepEqual((await handler(event(1), context)).batchItemFailures, [{ itemIdentifier: 'poison' }]);
      let chunk = await db.query(`SELECT status, attempts FROM etl.chunks WHERE run_id = $1`, [runId]);
      assert.deepEqual(chunk.rows[0], { status: 'pending', attempts: 1 });
      assert.deepEqual((await handler(event(5), context)).batchItemFailures, [{ itemIdentifier: 'poison' }]);
      chunk = await db.query(`SELECT status, attempts, last_error FROM etl.chunks WHERE run_id = $1`, [runId]);
      assert.equal(chunk.rows[0]?.status, 'failed');
      assert.match(chunk.rows[0]?.last_error, /chunk 0 .*age_small: row \d+ refused/);
      const run = await db.query(`SELECT status, last_error FROM etl.runs WHERE run_id = $1`, [runId]);
      assert.equal(run.rows[0]?.status, 'failed');
      assert.match(run.rows[0]?.last_error, /chunk 0/);
    } finally {
      await db.query(`DROP TRIGGER age_small ON output_table`);
    }
  });

  test('a batch whose transaction fails is copied chunk by chunk: the poison chunk fails alone, each attempt counted once', async () => {
    await db.query(`TRUNCATE output_table, etl.rejects`);
    // One row of the middle chunk breaks a constraint of the target.
    const poisonId = (await db.query(`SELECT min(id)::int AS id FROM input_table WHERE id >= 3001 AND age >= 0`)).rows[0]!.id as number;
    await raiseOn(db, 'not_that_row', `NEW.id = ${poisonId}`);
    try {
      const p = await preparedPipeline(pool);
      const chunks = [range(null, 3001), range(3001, 6001), range(6001, null)];
      const runId = await createTestRun(pool, p, chunks);
      const body = (i: number) => encodeChunkMessage({ runId, chunkNo: i, ...chunks[i]! });
      const response = await handler({ Records: [record('c0', body(0)), record('c1', body(1)), record('c2', body(2))] }, context);
      assert.deepEqual(response.batchItemFailures, [{ itemIdentifier: 'c1' }]);
      const ledger = await db.query(`SELECT chunk_no, status, attempts FROM etl.chunks WHERE run_id = $1 ORDER BY chunk_no`, [runId]);
      assert.deepEqual(ledger.rows, [
        { chunk_no: 0, status: 'done', attempts: 1 },
        { chunk_no: 1, status: 'pending', attempts: 1 },
        { chunk_no: 2, status: 'done', attempts: 1 },
      ]);
      await assertExactOutput(db, { hi: 3001n });
      await assertExactOutput(db, { lo: 6001n });
      assert.equal((await db.query(`SELECT count(*)::int AS n FROM output_table WHERE id >= 3001 AND id < 6001`)).rows[0]?.n, 0);
      await db.query(`UPDATE etl.runs SET status = 'cancelled' WHERE run_id = $1`, [runId]);
    } finally {
      await db.query(`DROP TRIGGER not_that_row ON output_table`);
    }
  });
});
