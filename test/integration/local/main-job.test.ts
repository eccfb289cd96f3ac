// The main job end to end through the real handlers, a real PostgreSQL and a real SQS-compatible
// server: exact output row by row, duplicated and reordered delivery, a poison chunk, kill -9 and
// a re-run, and incremental and append runs. A first run (the default mode, incremental, with no
// run to capture changes since) is a full shadow refresh; the kill test runs in place so its slow
// COPY trigger (slowCopies) is on the table being loaded.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { runCli, startCli } from '../../support/cli.ts';
import { startTestSqs } from '../../support/sqs.ts';
import { startSqsFaultProxy } from '../../support/sqs-fault-proxy.ts';
import { assertExactOutput, insertInput, seedGenerated, slowCopies } from '../../support/pipeline.ts';

const FAST = ['--worker-timeout', '2'];

describe('pg-fanout local (the main job)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });

  test('a full run of 200k rows in small chunks lands every row exactly as specified', async () => {
    await seedGenerated(db, 200_000);
    await db.settle(); // the next run's counts are exact
    const r = await runCli(['local', '--chunk-rows', '5000', '--concurrency', '2', '--batch-size', '3', '--verify', ...FAST], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no completed run of this definition of public\.input_table -> public\.output_table to capture changes since: this run is a full refresh/);
    assert.match(r.stdout, /run [0-9a-f-]{36}: completed \(full refresh: built beside the targets, indexed, swapped in\)/);
    assert.match(r.stdout, /chunks 40\/40 done/);
    assert.match(r.stdout, /checked in every chunk's transaction/);
    // What the whole-table reconciliation said, now from the deep verification: every source row read again and compared.
    assert.match(r.stdout, /deep verification: exact — 200,000 source rows read again, put through the pipeline and compared row for row with the targets and etl\.rejects over 40 chunk\(s\)/);
    const exact = await assertExactOutput(db);
    assert.equal(exact.written + exact.rejected, 200_000);
    assert.ok(exact.rejected > 0, 'the generated input includes rows the spec rejects');
  });

  test('re-running after a success changes nothing and says so', async () => {
    const before = await db.query(`SELECT count(*)::int AS n, max(xmin::text::bigint) AS x FROM output_table`);
    await db.settle();
    const r = await runCli(['local', '--chunk-rows', '5000', ...FAST], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /completed \(incremental: every change since the last run\)/);
    assert.match(r.stdout, /nothing changed since the last run/);
    const afterRun = await db.query(`SELECT count(*)::int AS n, max(xmin::text::bigint) AS x FROM output_table`);
    assert.deepEqual(afterRun.rows[0], before.rows[0], 'no output row was rewritten');
  });

  // The old incremental mode (keys above the last run's high-water mark) is `append` now; the
  // default incremental mode captures changes. Both read exactly the 3,000 new rows here.
  test('incremental mode (the default) reads only the rows changed since the last run: the new ones', async () => {
    await insertInput(db, Array.from({ length: 3000 }, (_, i) => ({ id: 300_000n + BigInt(i), name: i % 100 === 0 ? '' : `New Person${i}`, age: 20 })));
    const r = await runCli(['local', '--chunk-rows', '1000', ...FAST], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /rows read 3,000, written 2,970, rejected 30/);
    const run = await db.query(`SELECT mode, rows_read::int FROM etl.runs ORDER BY created_at DESC LIMIT 1`);
    assert.deepEqual(run.rows[0], { mode: 'incremental', rows_read: 3000 });
    await assertExactOutput(db);
  });

  test('append mode picks up only rows above the last high-water mark', async () => {
    await insertInput(db, Array.from({ length: 3000 }, (_, i) => ({ id: 400_000n + BigInt(i), name: i % 100 === 0 ? '' : `Newer Person${i}`, age: 21 })));
    const r = await runCli(['local', '--mode', 'append', '--chunk-rows', '1000', ...FAST], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /completed \(append: keys above the last run\)/);
    const run = await db.query(`SELECT mode, rows_read::int FROM etl.runs ORDER BY created_at DESC LIMIT 1`);
    await assertExactOutput(db);
    assert.deepEqual(run.rows[0], { mode: 'append', rows_read: 3000 });
    assert.match(r.stdout, /rows read 3,000, written 2,970, rejected 30/);
  });

  test('every message delivered twice and out of order: still exact', async () => {
    await db.query('DROP TABLE input_table, output_table CASCADE');
    await db.query('TRUNCATE etl.rejects');
    await seedGenerated(db, 30_000);
    const sqs = await startTestSqs();
    const proxy = await startSqsFaultProxy(sqs.endpoint, { duplicateSends: true, reverseOrder: true });
    try {
      const r = await runCli(['local', '--mode', 'full', '--chunk-rows', '1000', '--batch-size', '4', ...FAST], { DATABASE_URL: db.url, AWS_ENDPOINT_URL_SQS: proxy.endpoint });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(proxy.batches >= 3, 'chunk messages went through the duplicating proxy');
      const chunks = await db.query(`SELECT count(*)::int AS n, sum(attempts)::int AS attempts FROM etl.chunks c JOIN etl.runs r USING (run_id) WHERE r.status = 'completed' AND r.mode = 'full' AND r.created_at = (SELECT max(created_at) FROM etl.runs)`);
      assert.equal(chunks.rows[0]?.n, 30);
      await assertExactOutput(db);
    } finally {
      await proxy.stop();
      await sqs.stop();
    }
  });

  test('kill -9 of the local runtime mid-run, then a re-run: resumes and ends exact', async () => {
    await db.query('DROP TABLE input_table, output_table CASCADE');
    await db.query('TRUNCATE etl.rejects');
    await seedGenerated(db, 150_000);
    await slowCopies(db, 0.02); // the run is still going when it is killed
    const { child, done } = startCli(['local', '--mode', 'full', '--in-place', '--chunk-rows', '1500', ...FAST], { DATABASE_URL: db.url });
    for (let i = 0; i < 600; i += 1) {
      const n = await db.query(`SELECT count(*) FILTER (WHERE c.status = 'done')::int AS n FROM etl.chunks c JOIN etl.runs r USING (run_id) WHERE r.status = 'running'`);
      if ((n.rows[0]?.n ?? 0) >= 10) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    const killed = await done;
    assert.equal(killed.signal, 'SIGKILL');
    const mid = await db.query(`SELECT count(*) FILTER (WHERE c.status = 'done')::int AS done, count(*)::int AS total FROM etl.chunks c JOIN etl.runs r USING (run_id) WHERE r.status = 'running'`);
    assert.ok(mid.rows[0]!.done >= 10 && mid.rows[0]!.done < mid.rows[0]!.total, `killed mid-run (${JSON.stringify(mid.rows[0])})`);

    const r = await runCli(['local', '--chunk-rows', '1500', ...FAST], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /was interrupted: resuming it/);
    const runs = await db.query(`SELECT status, count(*)::int AS n FROM etl.runs WHERE mode = 'full' AND created_at > now() - interval '5 minutes' GROUP BY 1`);
    assert.ok(runs.rows.some((x) => x.status === 'completed'));
    await assertExactOutput(db);
  });

  test('an existing empty input_table is processed as it is, never seeded', async () => {
    await db.query('DROP TABLE input_table, output_table CASCADE');
    await db.query('CREATE TABLE input_table (id bigint PRIMARY KEY, name text, age int)');
    const r = await runCli(['local', '--mode', 'full', ...FAST], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /seeding/);
    assert.match(r.stdout, /rows read 0, written 0, rejected 0/);
    assert.equal((await db.query('SELECT count(*)::int AS n FROM input_table')).rows[0]?.n, 0);
  });

  test('a configured SOURCE_TABLE that does not exist is an error, never seeded', async () => {
    const r = await runCli(['local', ...FAST], { DATABASE_URL: db.url, SOURCE_TABLE: 'public.no_such_table' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SOURCE_TABLE public\.no_such_table does not exist/);
    assert.equal((await db.query(`SELECT to_regclass('public.no_such_table') AS t`)).rows[0]?.t, null);
  });

  test('bad flags are explained in one line with a non-zero exit', async () => {
    const r = await runCli(['local', '--chunk-rows', 'lots'], { DATABASE_URL: db.url });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--chunk-rows is "lots": give a whole number/);
    const c = await runCli(['local', '--concurrency', '0'], { DATABASE_URL: db.url });
    assert.equal(c.code, 1);
    assert.match(c.stderr, /maxConcurrency is 0: it must be a whole number from 1 to 1000/);
  });
});
