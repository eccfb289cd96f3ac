// The chunk operation against a real PostgreSQL: exact output, redo in sequence and concurrently,
// a batch's per-chunk counts, two pipelines sharing etl.rejects, rejects spilled past 4 MB, a failed
// chunk redriven, bigint extremes, a backend killed mid-COPY, and names refused before they reach SQL.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { copyChunk, copyChunksTogether, type ChunkContext } from '../../../lambdas/worker/copy-chunk.ts';
import { listChunks } from '../../../lambdas/shared/ledger.ts';
import { withClient, type Pool } from '../../../lambdas/shared/db.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import {
  assertExactOutput, chunkContext, createInputTable, createTestRun, openTestPool, preparedPipeline, range, seedGenerated,
} from '../../support/pipeline.ts';

const MIN_BIGINT = -(2n ** 63n);
const MAX_BIGINT = 2n ** 63n - 1n;
const ALL = range(null, null);

const CORPUS: { name: string | null; age: number | null }[] = [
  { name: 'Ada Lovelace', age: 36 },
  { name: 'Plato', age: null },
  { name: '  Grace   Brewster  Hopper  ', age: 85 },
  { name: '', age: 1 },
  { name: ' \t\n ', age: 2 },
  { name: null, age: 3 },
  { name: 'Tab\tSeparated\tName', age: 4 },
  { name: 'New\nLine', age: 5 },
  { name: 'Carriage\r\nReturn', age: 6 },
  { name: 'Back\\slash \\N', age: 7 },
  { name: '\\N', age: 8 },
  { name: 'O\'Brien "Quoted"', age: 9 },
  { name: 'Zoë\u00a0Ångström', age: 10 },
  { name: '山田\u3000太郎', age: 11 },
  { name: '😀 🎉emoji  party', age: 12 },
  { name: '\u00a0\u3000', age: 13 },
  { name: `${'x'.repeat(12_000)} ${'y'.repeat(12_000)}`, age: 14 },
  { name: 'Only\u2028Line', age: 15 },
  { name: '\ufeffBOM Name', age: 16 },
  { name: 'a\u180eb', age: 17 },
];

/**
 * output_table with a trigger that raises an error (SQLSTATE P0001, not a refused value, which
 * would be set aside as a reject) for every row aged 200 or more: a chunk that cannot load.
 */
async function createRaisingTarget(db: TestDatabase): Promise<void> {
  await db.query('CREATE TABLE output_table (id bigint PRIMARY KEY, first_name text, last_name text, age int)');
  await db.query(`CREATE OR REPLACE FUNCTION refuse_old() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN IF NEW.age >= 200 THEN RAISE EXCEPTION 'age % is not a human age', NEW.age; END IF; RETURN NEW; END $$`);
  await db.query('CREATE TRIGGER refuse_old BEFORE INSERT ON output_table FOR EACH ROW EXECUTE FUNCTION refuse_old()');
}

describe('copyChunk', () => {
  let db: TestDatabase;
  let pool: Pool;
  before(async () => {
    db = await createTestDatabase();
    pool = await openTestPool(db, 4);
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  test('moves an adversarial corpus exactly as the spec says, rejects included', async () => {
    await db.query('DROP TABLE IF EXISTS input_table, output_table');
    await db.query('TRUNCATE etl.rejects').catch(() => undefined);
    await createInputTable(db, CORPUS.map((r, i) => ({ id: BigInt(i + 1), ...r })));
    const p = await preparedPipeline(pool);
    const runId = await createTestRun(pool, p, [ALL]);
    const result = await copyChunk(chunkContext(pool, p), { runId, chunkNo: 0, ...ALL });
    assert.equal(result.skipped, false);
    assert.equal(result.rowsRead, CORPUS.length);
    const exact = await assertExactOutput(db);
    assert.equal(exact.rejected, 4, 'empty, whitespace-only (ASCII), NULL and whitespace-only (U+00A0/U+3000) are rejected');
    assert.equal(result.rowsWritten, exact.written);
    assert.equal(result.rowsRejected, exact.rejected);
    const [chunk] = await withClient(pool, (c) => listChunks(c, runId));
    assert.equal(chunk?.status, 'done');
    assert.equal(chunk?.rowsRead, BigInt(CORPUS.length));
    const lastName = await db.query(`SELECT last_name FROM output_table WHERE id = 3`);
    assert.equal(lastName.rows[0]?.last_name, 'Brewster  Hopper', 'inner whitespace of the last name is kept');
  });

  describe('on 20,000 generated rows in four chunks', () => {
    let ctx: ChunkContext;
    // Each test below starts from this table; the kill test adds rows and removes them again.
    const bounds = [null, 5001n, 10001n, 15001n, null] as const;
    before(async () => {
      await db.query('DROP TABLE IF EXISTS input_table, output_table');
      await db.query('TRUNCATE etl.rejects');
      await seedGenerated(db, 20_000);
      ctx = chunkContext(pool, await preparedPipeline(pool));
    });

    test('run twice in sequence leaves exactly one copy, the second a no-op', async () => {
      const runId = await createTestRun(pool, ctx.pipeline, [range(null, 5001)]);
      const first = await copyChunk(ctx, { runId, chunkNo: 0, ...range(null, 5001) });
      const second = await copyChunk(ctx, { runId, chunkNo: 0, ...range(null, 5001) });
      assert.equal(first.skipped, false);
      assert.equal(second.skipped, true);
      await assertExactOutput(db, { hi: 5001n });
      const [chunk] = await withClient(pool, (c) => listChunks(c, runId));
      assert.equal(chunk?.attempts, 1, 'a delivery of a done chunk is not an attempt');
      await db.query(`UPDATE etl.runs SET status = 'cancelled' WHERE run_id = $1`, [runId]);
    });

    test('a redelivered done chunk, or a message whose range the ledger does not have, touches no target row', async () => {
      const runId = await createTestRun(pool, ctx.pipeline, [range(null, 5001)]);
      await copyChunk(ctx, { runId, chunkNo: 0, ...range(null, 5001) });
      // Another transaction holds a row of the range: a DELETE of the range would wait for it.
      const holder = await pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT * FROM output_table WHERE id = 42 FOR UPDATE');
        const waited = (p: Promise<unknown>) => Promise.race([p.then(() => 'returned', (e: Error) => e.name), sleep(3000).then(() => 'waited for the row lock')]);
        assert.equal(await waited(copyChunk(ctx, { runId, chunkNo: 0, ...range(null, 5001) })), 'returned');
        // The chunk pending again in an open run: only the range differs from the ledger's.
        await db.query(`UPDATE etl.chunks SET status = 'pending' WHERE run_id = $1`, [runId]);
        await db.query(`UPDATE etl.runs SET status = 'running', finished_at = NULL WHERE run_id = $1`, [runId]);
        assert.equal(await waited(copyChunk(ctx, { runId, chunkNo: 0, ...range(null, 4001) })), 'InvalidMessageError');
      } finally {
        await holder.query('ROLLBACK');
        holder.release();
      }
      await assertExactOutput(db, { hi: 5001n });
      await db.query(`UPDATE etl.runs SET status = 'cancelled' WHERE run_id = $1`, [runId]);
    });

    test('a new run over the same range replaces rows instead of duplicating them', async () => {
      await db.query(`UPDATE input_table SET name = 'Changed Name' WHERE id = 42`);
      const runId = await createTestRun(pool, ctx.pipeline, [range(null, 5001)]);
      await copyChunk(ctx, { runId, chunkNo: 0, ...range(null, 5001) });
      await assertExactOutput(db, { hi: 5001n });
      const rejectRuns = await db.query(`SELECT DISTINCT run_id FROM etl.rejects WHERE source_key[1]::bigint < 5001`);
      assert.deepEqual(rejectRuns.rows.map((r) => r.run_id), [runId], 'rejects of the range are replaced, not added');
      await db.query(`UPDATE etl.runs SET status = 'cancelled' WHERE run_id = $1`, [runId]);
    });

    test('run concurrently by two workers leaves exactly one copy of every row', async () => {
      const chunks = bounds.slice(0, -1).map((lo, i) => range(lo, bounds[i + 1]!));
      const runId = await createTestRun(pool, ctx.pipeline, chunks);
      // Two workers, each with its own two connections, given the same chunks at the same time.
      const pools = [await openTestPool(db, 2), await openTestPool(db, 2)];
      try {
        const results = await Promise.all(
          pools.map(async (workerPool) => {
            const done = [];
            for (const [i, c] of chunks.entries()) done.push(await copyChunk({ ...ctx, source: workerPool, target: workerPool }, { runId, chunkNo: i, ...c }));
            return done;
          }),
        );
        assert.equal(results.flat().filter((r) => !r.skipped).length, chunks.length, 'each chunk committed exactly once');
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
      await assertExactOutput(db);
      const run = await db.query(`SELECT status, rows_read::int, chunks_done FROM etl.runs WHERE run_id = $1`, [runId]);
      assert.deepEqual(run.rows[0], { status: 'completed', rows_read: 20_000, chunks_done: 4 });
    });

    test('a batch of chunks copied in one transaction records each chunk\'s own counts in the ledger', async () => {
      const chunks = [range(null, 1000), range(1000, 4000), range(4000, 4500), range(4500, null)];
      const runId = await createTestRun(pool, ctx.pipeline, chunks);
      const outcomes = await copyChunksTogether(ctx, chunks.map((c, chunkNo) => ({ runId, chunkNo, ...c })));
      assert.deepEqual(outcomes.map((o) => o.kind), ['done', 'done', 'done', 'done']);
      await assertExactOutput(db);
      // The generated rows rejected by the spec are the NULL and the '  ' names.
      const ledger = await db.query<{ ledger: number[]; source: number[] }>(
        `SELECT ARRAY[c.rows_read, c.rows_written, c.rows_rejected]::int[] AS ledger,
                (SELECT ARRAY[count(*), count(*) FILTER (WHERE name IS NOT NULL AND btrim(name) <> ''), count(*) FILTER (WHERE name IS NULL OR btrim(name) = '')]::int[]
                   FROM input_table i WHERE (c.lo IS NULL OR i.id >= c.lo[1]::bigint) AND (c.hi IS NULL OR i.id < c.hi[1]::bigint)) AS source
           FROM etl.chunks c WHERE run_id = $1 ORDER BY chunk_no`, [runId]);
      assert.deepEqual(ledger.rows.map((r) => r.source), [[999, 978, 21], [3000, 2936, 64], [500, 489, 11], [15501, 15169, 332]], 'rows, written and rejected per range');
      assert.deepEqual(ledger.rows.map((r) => r.ledger), ledger.rows.map((r) => r.source), 'each chunk\'s rows_read, rows_written, rows_rejected');
    });

    test('a backend terminated mid-COPY rolls back everything and the chunk stays retryable', async () => {
      await db.query('TRUNCATE output_table');
      await db.query('TRUNCATE etl.rejects');
      await db.query(`INSERT INTO output_table VALUES (7, 'Keep', 'Me', 1)`);
      await db.query(`INSERT INTO input_table SELECT g, 'Bulk Row ' || g, 30 FROM generate_series(100000, 700000) g`);
      const runId = await createTestRun(pool, ctx.pipeline, [ALL]);
      let killed = 0;
      const killer = (async () => {
        for (let i = 0; i < 2000 && killed === 0; i += 1) {
          const r = await db.query(
            `SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity
              WHERE datname = current_database() AND application_name = 'pg-fanout-test' AND query LIKE 'COPY "public"."output_table"%' AND state = 'active'`);
          killed = r.rows.filter((x) => x.t).length;
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await assert.rejects(copyChunk(ctx, { runId, chunkNo: 0, ...ALL }), (error: Error) => {
        assert.equal(error.name, 'ChunkFailedError');
        assert.match(error.message, new RegExp(`chunk 0 \\[-inf, \\+inf\\) of run ${runId}`));
        assert.match(error.message, /connection was lost|terminat/i, 'the error names the cause');
        return true;
      });
      await killer;
      assert.equal(killed, 1, 'the loading backend was terminated mid-COPY');
      const out = await db.query(`SELECT id::int, first_name FROM output_table`);
      assert.deepEqual(out.rows, [{ id: 7, first_name: 'Keep' }], 'nothing partial is visible');
      const [chunk] = await withClient(pool, (c) => listChunks(c, runId));
      assert.equal(chunk?.status, 'pending');
      assert.match(chunk?.lastError ?? '', /connection was lost|terminat/i);

      const retry = await copyChunk(ctx, { runId, chunkNo: 0, ...ALL });
      assert.equal(retry.rowsRead, 20_000 + 600_001);
      await assertExactOutput(db);
      await db.query('DELETE FROM input_table WHERE id >= 100000');
    });
  });

  test("a chunk clears only its own pipeline's rejects: another pipeline's in the same key range stay", async () => {
    const rows = (rejectEvery: number) => Array.from({ length: 200 }, (_, i) => ({ id: BigInt(i + 1), name: (i + 1) % rejectEvery === 0 ? null : `Name ${i + 1}`, age: i }));
    await createInputTable(db, rows(5), 'public.input_a');
    await createInputTable(db, rows(7), 'public.input_b');
    const a = await preparedPipeline(pool, { sourceTable: 'public.input_a', targetTable: 'public.output_a', keyColumn: 'id' });
    const b = await preparedPipeline(pool, { sourceTable: 'public.input_b', targetTable: 'public.output_b', keyColumn: 'id' });
    const runB = await createTestRun(pool, b, [ALL]);
    await copyChunk(chunkContext(pool, b), { runId: runB, chunkNo: 0, ...ALL });
    const runA = await createTestRun(pool, a, [ALL]);
    await copyChunk(chunkContext(pool, a), { runId: runA, chunkNo: 0, ...ALL });
    const perPipeline = await db.query(`SELECT pipeline, count(*)::int AS n FROM etl.rejects WHERE pipeline IN ($1, $2) GROUP BY 1 ORDER BY 1`, [a.name, b.name]);
    assert.deepEqual(perPipeline.rows, [{ pipeline: a.name, n: 40 }, { pipeline: b.name, n: 28 }]);
    assert.deepEqual(await assertExactOutput(db, { source: 'public.input_b', target: 'public.output_b', pipeline: b.name }), { written: 172, rejected: 28 });
    assert.deepEqual(await assertExactOutput(db, { source: 'public.input_a', target: 'public.output_a', pipeline: a.name }), { written: 160, rejected: 40 });
  });

  test('a chunk with more than 4 MB of rejects (spilled to a temporary file) writes every reject', async () => {
    await db.query('DROP TABLE IF EXISTS input_table, output_table');
    await db.query('TRUNCATE etl.rejects');
    // Whitespace-only names are rejected with their raw value: 500 rejects of 12 kB each.
    await db.query('CREATE TABLE input_table (id bigint PRIMARY KEY, name text, age int)');
    await db.query(`INSERT INTO input_table SELECT g, CASE WHEN g % 2 = 1 THEN repeat(E' \\t', 6000) ELSE 'Row ' || g END, g % 90
                      FROM generate_series(1, 1000) g`);
    const p = await preparedPipeline(pool);
    const runId = await createTestRun(pool, p, [ALL]);
    const result = await copyChunk(chunkContext(pool, p), { runId, chunkNo: 0, ...ALL });
    assert.equal(result.rowsRejected, 500);
    const size = await db.query(`SELECT count(*)::int AS n, sum(octet_length(source_row->>'name'))::int AS bytes FROM etl.rejects`);
    assert.equal(size.rows[0]?.n, 500, 'rejects in etl.rejects');
    assert.ok(size.rows[0]?.bytes > 4 * 1024 * 1024, 'more than the spool holds in memory');
    assert.deepEqual(await assertExactOutput(db), { written: 500, rejected: 500 });
  });

  test('bigint extremes: keys at -2^63 and 2^63-1 and beyond 2^53 move without overflow', async () => {
    await db.query('DROP TABLE IF EXISTS input_table, output_table');
    const keys = [MIN_BIGINT, MIN_BIGINT + 1n, -1n, 0n, 2n ** 53n + 1n, 2n ** 53n + 3n, MAX_BIGINT - 1n, MAX_BIGINT];
    await createInputTable(db, keys.map((id, i) => ({ id, name: `K${i} Key`, age: i })));
    const p = await preparedPipeline(pool);
    // Bounded at both extremes (not unbounded): the bounds themselves go through SQL as bigint literals.
    const chunks = [range(MIN_BIGINT, 0n), range(0n, 2n ** 53n + 2n), range(2n ** 53n + 2n, MAX_BIGINT), range(MAX_BIGINT, null)];
    const runId = await createTestRun(pool, p, chunks);
    const ctx = chunkContext(pool, p);
    const counts = [];
    for (const [i, c] of chunks.entries()) counts.push((await copyChunk(ctx, { runId, chunkNo: i, ...c })).rowsRead);
    assert.deepEqual(counts, [3, 2, 2, 1]);
    const ids = await db.query<{ id: string }>('SELECT id::text FROM output_table ORDER BY output_table.id');
    assert.deepEqual(ids.rows.map((r) => BigInt(r.id)), keys);
    await assertExactOutput(db);
  });

  test('an error the target raises while loading (not a value it refuses) fails the chunk, names it, and writes nothing', async () => {
    await db.query('DROP TABLE IF EXISTS input_table, output_table');
    await createInputTable(db, [{ id: 1n, name: 'Fine Row', age: 1 }, { id: 2n, name: 'Bad Row', age: 999 }]);
    await createRaisingTarget(db);
    const p = await preparedPipeline(pool);
    const runId = await createTestRun(pool, p, [ALL]);
    await assert.rejects(copyChunk(chunkContext(pool, p), { runId, chunkNo: 0, ...ALL }, { lastAttempt: true }),
      /chunk 0 .* failed and was rolled back: .*age 999 is not a human age/);
    assert.equal((await db.query('SELECT count(*)::int AS n FROM output_table')).rows[0]?.n, 0);
    assert.equal((await db.query('SELECT count(*)::int AS n FROM etl.rejects WHERE run_id = $1', [runId])).rows[0]?.n, 0);
    const run = await db.query(`SELECT status, last_error FROM etl.runs WHERE run_id = $1`, [runId]);
    assert.equal(run.rows[0]?.status, 'failed', 'the last attempt marks the chunk, and so the run, failed');
    assert.match(run.rows[0]?.last_error, /chunk 0/);
  });

  // Before the redesign a CHECK violation failed the chunk (as above). Now a value a target refuses
  // is set aside: the row goes to etl.rejects with PostgreSQL's message, and the chunk commits the rest.
  test('a value the target refuses (a CHECK) sets that source row aside in etl.rejects; the rest of the chunk commits', async () => {
    await db.query('DROP TABLE IF EXISTS input_table, output_table');
    await createInputTable(db, [{ id: 1n, name: 'Fine Row', age: 1 }, { id: 2n, name: 'Bad Row', age: 999 }, { id: 3n, name: 'Also Fine', age: 3 }]);
    await db.query('CREATE TABLE output_table (id bigint PRIMARY KEY, first_name text, last_name text, age int CHECK (age < 200))');
    const p = await preparedPipeline(pool);
    const runId = await createTestRun(pool, p, [ALL]);
    const result = await copyChunk(chunkContext(pool, p), { runId, chunkNo: 0, ...ALL }, { lastAttempt: true });
    assert.deepEqual([result.rowsRead, result.rowsWritten, result.rowsRejected], [3, 2, 1]);
    const out = await db.query(`SELECT id::int, first_name FROM output_table ORDER BY id`);
    assert.deepEqual(out.rows, [{ id: 1, first_name: 'Fine' }, { id: 3, first_name: 'Also' }]);
    const rejected = await db.query(`SELECT source_key, target, reason, source_row->>'name' AS name, (source_row->>'age')::int AS age FROM etl.rejects WHERE run_id = $1`, [runId]);
    assert.equal(rejected.rows.length, 1);
    assert.deepEqual({ ...rejected.rows[0], reason: undefined }, { source_key: ['2'], target: 'public.output_table', reason: undefined, name: 'Bad Row', age: 999 });
    assert.match(rejected.rows[0]?.reason, /public\.output_table refused the row: .*check constraint/);
    const run = await db.query(`SELECT status, rows_rejected::int FROM etl.runs WHERE run_id = $1`, [runId]);
    assert.deepEqual(run.rows[0], { status: 'completed', rows_rejected: 1 });
  });

  test('a chunk failed for good that a redrive then copies leaves its run completed, with no failed chunk', async () => {
    await db.query('DROP TABLE IF EXISTS input_table, output_table');
    await createInputTable(db, Array.from({ length: 20 }, (_, i) => ({ id: BigInt(i + 1), name: i === 3 ? null : `Row ${i + 1}`, age: i === 14 ? 999 : i })));
    await createRaisingTarget(db);
    const ctx = chunkContext(pool, await preparedPipeline(pool));
    const runId = await createTestRun(pool, ctx.pipeline, [range(null, 11), range(11, null)]);
    const run = async () => (await db.query(
      `SELECT status, chunks_total, chunks_done, chunks_failed, rows_read::int, rows_written::int, rows_rejected::int, retries, last_error
         FROM etl.runs WHERE run_id = $1`, [runId])).rows[0]!;
    await copyChunk(ctx, { runId, chunkNo: 0, ...range(null, 11) });
    await assert.rejects(copyChunk(ctx, { runId, chunkNo: 1, ...range(11, null) }, { lastAttempt: true }), /age 999 is not a human age/);
    const { last_error: failure, ...failed } = await run();
    assert.deepEqual(failed, { status: 'failed', chunks_total: 2, chunks_done: 1, chunks_failed: 1, rows_read: 10, rows_written: 9, rows_rejected: 1, retries: 0 });
    assert.match(failure, /chunk 1 .*age 999 is not a human age/);

    // The data is fixed and the DLQ redriven: the worker copies the failed chunk with no reopen first.
    await db.query('UPDATE input_table SET age = 14 WHERE id = 15');
    const redriven = await copyChunk(ctx, { runId, chunkNo: 1, ...range(11, null) });
    assert.deepEqual(await run(), {
      status: 'completed', chunks_total: 2, chunks_done: 2, chunks_failed: 0, rows_read: 20, rows_written: 19, rows_rejected: 1, retries: 1, last_error: null,
    });
    assert.equal(redriven.runStatus, 'completed');
    await assertExactOutput(db);
  });

  describe('names from configuration', () => {
    test('quoted, schema-qualified names with dots and capitals work', async () => {
      await db.query('CREATE SCHEMA "My Schema"');
      await db.query('CREATE TABLE "My Schema"."in.put" ("Key" bigint PRIMARY KEY, name text, age int)');
      await db.query(`INSERT INTO "My Schema"."in.put" VALUES (1, 'Quoted Table', 5), (2, 'One', 6)`);
      const p = await preparedPipeline(pool, { sourceTable: '"My Schema"."in.put"', targetTable: '"My Schema"."Out"', keyColumn: '"Key"' });
      const runId = await createTestRun(pool, p, [ALL]);
      await copyChunk(chunkContext(pool, p), { runId, chunkNo: 0, ...ALL });
      const out = await db.query(`SELECT "Key"::int, first_name, last_name FROM "My Schema"."Out" ORDER BY 1`);
      assert.deepEqual(out.rows, [{ Key: 1, first_name: 'Quoted', last_name: 'Table' }, { Key: 2, first_name: 'One', last_name: null }]);
    });

    test('a hostile table name is refused before any SQL runs with it, and harms nothing', async () => {
      await db.query('CREATE TABLE IF NOT EXISTS x (a int)');
      for (const hostile of ['input_table; DROP TABLE x; --', 'input_table"; DROP TABLE x; --', '"input_table; DROP TABLE x; --"']) {
        await assert.rejects(
          preparedPipeline(pool, { sourceTable: hostile, targetTable: 'output_table', keyColumn: 'id' }),
          (e: Error) => e.name === 'SchemaError' && e.message.includes('SOURCE_TABLE') && /Use a plain name|does not exist/.test(e.message),
        );
      }
      await assert.rejects(preparedPipeline(pool, { sourceTable: 'input_table', targetTable: 'output_table', keyColumn: 'id; DROP TABLE x' }), /KEY_COLUMN/);
      assert.equal((await db.query(`SELECT to_regclass('public.x') IS NOT NULL AS present`)).rows[0]?.present, true);
    });

    test('a missing source, a missing key column and an incompatible target are refused with the fix', async () => {
      await db.query('DROP TABLE IF EXISTS input_table, output_table');
      await createInputTable(db, [{ id: 1n, name: 'A B', age: 1 }]);
      await assert.rejects(preparedPipeline(pool, { sourceTable: 'nope', targetTable: 'output_table', keyColumn: 'id' }),
        /SOURCE_TABLE nope does not exist .*create it or set SOURCE_TABLE/);
      await assert.rejects(preparedPipeline(pool, { sourceTable: 'input_table', targetTable: 'output_table', keyColumn: 'ident' }),
        /KEY_COLUMN "ident" is not a column of public\.input_table: set KEY_COLUMN to its unique key/);
      await db.query('CREATE TABLE output_table (id bigint PRIMARY KEY, first_name int, last_name text, age int)');
      await assert.rejects(preparedPipeline(pool, { sourceTable: 'input_table', targetTable: 'output_table', keyColumn: 'id' }),
        /TARGET_TABLE\.first_name is declared text but public\.output_table\."first_name" is integer: change the column \(ALTER TABLE public\.output_table ALTER COLUMN "first_name" TYPE text\)/);
      await db.query('CREATE TABLE big_age (id bigint PRIMARY KEY, name text, age bigint)');
      await assert.rejects(preparedPipeline(pool, { sourceTable: 'big_age', targetTable: 'output_table', keyColumn: 'id' }),
        /SOURCE_TABLE\.age is declared integer but public\.big_age\."age" is bigint: convert it \(ALTER TABLE public\.big_age ALTER COLUMN "age" TYPE integer\)/);
      await db.query('CREATE TABLE null_key (id bigint UNIQUE, name text, age int)');
      await assert.rejects(preparedPipeline(pool, { sourceTable: 'null_key', targetTable: 'output_table', keyColumn: 'id' }),
        /KEY_COLUMN "id" of public\.null_key allows NULL: .*ALTER TABLE "public"\."null_key" ALTER COLUMN "id" SET NOT NULL/);
      await db.query('CREATE TABLE no_key (id bigint NOT NULL, name text, age int)');
      await assert.rejects(preparedPipeline(pool, { sourceTable: 'no_key', targetTable: 'output_table', keyColumn: 'id' }),
        /KEY_COLUMN "id" of public\.no_key has no unique index: .*ALTER TABLE "public"\."no_key" ADD PRIMARY KEY \("id"\)/);
      await db.query('DROP TABLE output_table');
      await db.query('CREATE TABLE output_table (id bigint PRIMARY KEY, first_name text, last_name text, age int, loaded_by text NOT NULL)');
      await assert.rejects(preparedPipeline(pool, { sourceTable: 'input_table', targetTable: 'output_table', keyColumn: 'id' }),
        /public\.output_table\."loaded_by" is NOT NULL without a default, and pg-fanout does not write it: .*SET DEFAULT/);
      await db.query(`ALTER TABLE output_table ALTER COLUMN loaded_by SET DEFAULT 'pg-fanout'`);
      await preparedPipeline(pool, { sourceTable: 'input_table', targetTable: 'output_table', keyColumn: 'id' });
      await db.query('DROP TABLE output_table');
      await db.query('CREATE TABLE output_table (ident bigint PRIMARY KEY, first_name text, last_name text, age int)');
      await assert.rejects(preparedPipeline(pool, { sourceTable: 'input_table', targetTable: 'output_table', keyColumn: 'id' }),
        /TARGET_TABLE\.id: public\.output_table has no column "id": add it \(ALTER TABLE public\.output_table ADD COLUMN "id" bigint\)/);
    });
  });
});
