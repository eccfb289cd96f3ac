// Change capture against real OLTP writers: while writer processes insert (some in transactions
// held open across a run's planning, some inside savepoints), insert ids pre-allocated with
// nextval() seconds earlier, update and delete, scheduled incremental runs (real `pg-fanout local`
// processes) follow one another; once the writers stop, runs continue until one finds nothing to
// do, and every source row is compared with the target and etl.rejects: exact. Then the same with
// a worker killed with SIGKILL and a loading backend terminated in the middle of incremental runs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../../lambdas/shared/config.ts';
import { withClient } from '../../../lambdas/shared/db.ts';
import { openPipeline, type OpenedPipeline } from '../../../lambdas/pipeline/open-pipeline.ts';
import { checkRows } from '../../../local/row-check.ts';
import { runCli, startCli } from '../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { waitFor, workerSandboxPids } from '../../support/processes.ts';

const WRITER = fileURLToPath(new URL('../../support/oltp-writer.ts', import.meta.url));
const RUN = ['local', '--chunk-rows', '4000', '--concurrency', '2', '--worker-timeout', '3'];

interface Writer { stop(): void; done: Promise<void> }
const running: Writer[] = [];

/** A writer that runs until stopped (or `seconds`, a backstop); stopping lets its open transactions commit. */
function startWriter(url: string, seed: number, seconds: number): Writer {
  const child = spawn(process.execPath, [WRITER, url, String(seed), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const done = new Promise<void>((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`)))));
  const writer = { stop: () => void child.kill('SIGTERM'), done };
  running.push(writer);
  return writer;
}

async function seed(db: TestDatabase, rows: number): Promise<void> {
  await db.query(`CREATE TABLE input_table (id bigserial PRIMARY KEY, name text, age int)`);
  await db.query(`INSERT INTO input_table (name, age) SELECT CASE WHEN g % 97 = 0 THEN '  ' WHEN g % 89 = 0 THEN NULL ELSE 'First' || g || ' Last' END, g % 90
                    FROM generate_series(1, $1::int) g`, [rows]);
}

async function exact(db: TestDatabase): Promise<{ checked: number; written: number; rejected: number }> {
  let opened: OpenedPipeline | undefined;
  try {
    opened = await openPipeline(loadConfig({ DATABASE_URL: db.url }), { applicationName: 'test', sourceConnections: 1, targetConnections: 1 });
    const check = await withClient(opened.target, (c) => checkRows(c, opened!.pipeline, -(2n ** 63n), null));
    assert.deepEqual(check.problems, [], `${check.differences} row(s) differ`);
    return check;
  } finally {
    await Promise.all([opened?.source.end(), opened?.target.end()]);
  }
}

/** Incremental runs until one reads, writes and deletes nothing. */
async function runUntilQuiet(env: Record<string, string>): Promise<number> {
  for (let runs = 1; runs <= 6; runs += 1) {
    const r = await runCli(RUN, env);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    if (/nothing changed since the last run/.test(r.stdout)) return runs;
  }
  assert.fail('still finding changes after 6 runs with no writer left');
}

describe('incremental runs during OLTP writes', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    for (const w of running) w.stop(); // a failed test leaves none behind
    await Promise.allSettled(running.map((w) => w.done));
    await db?.drop();
  });

  test('late commits, pre-allocated ids, savepoints, updates and deletes all reach the target exactly once', async () => {
    await seed(db, 30_000);
    const env = { DATABASE_URL: db.url };
    const first = await runCli(RUN, env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /this run is a full refresh/);
    // The writers run until three incremental runs have overlapped them, however slow the machine.
    const writers = [startWriter(db.url, 11, 600), startWriter(db.url, 12, 600)];
    for (let during = 0; during < 3; during += 1) {
      const r = await runCli(RUN, env);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    }
    for (const w of writers) w.stop();
    await Promise.all(writers.map((w) => w.done));
    await runUntilQuiet(env);
    const check = await exact(db);
    const late = await db.query(`SELECT count(*)::int AS n FROM input_table WHERE id > 30000`);
    assert.ok(late.rows[0]!.n > 100, 'the writers inserted rows');
    assert.equal(check.checked, (await db.query('SELECT count(*)::int AS n FROM input_table')).rows[0]!.n);
  });

  test('a worker killed and a backend terminated during incremental runs: still exact', async () => {
    await db.query('DROP TABLE IF EXISTS input_table, output_table CASCADE');
    await db.query(`DO $$ BEGIN IF to_regclass('etl.runs') IS NOT NULL THEN DELETE FROM etl.rejects; DELETE FROM etl.runs; END IF; END $$`);
    await seed(db, 30_000);
    const env = { DATABASE_URL: db.url };
    assert.equal((await runCli(RUN, env)).code, 0);
    // Every COPY into the live target now lasts 0.4 s, so faults land mid-COPY on any machine.
    await db.query(`CREATE FUNCTION slow_copy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.4); RETURN NULL; END $$`);
    await db.query(`CREATE TRIGGER slow_copy BEFORE INSERT ON output_table FOR EACH STATEMENT EXECUTE FUNCTION slow_copy()`);
    const writers = [startWriter(db.url, 21, 600), startWriter(db.url, 22, 600)];
    await new Promise((r) => setTimeout(r, 1500));
    const copies = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pg-fanout-worker' AND state = 'active' AND query LIKE 'COPY "public"."output_table"%'`;

    const killed = startCli(RUN, env);
    await waitFor('a worker mid-COPY', async () => (await db.query(copies)).rows.length > 0);
    const victims = workerSandboxPids(killed.child.pid!);
    assert.ok(victims.length >= 1);
    for (const victim of victims) process.kill(victim, 'SIGKILL'); // whichever holds the COPY seen dies mid-COPY
    const k = await killed.done;
    assert.equal(k.code, 0, `${k.stdout}\n${k.stderr}`);

    const terminated = startCli(RUN, env);
    const pid = await waitFor('a loading backend mid-COPY', async () => (await db.query(copies)).rows[0]?.pid as number | undefined);
    assert.equal((await db.query('SELECT pg_terminate_backend($1) AS ok', [pid])).rows[0]!.ok, true);
    const t = await terminated.done;
    assert.equal(t.code, 0, `${t.stdout}\n${t.stderr}`);

    for (const w of writers) w.stop();
    await Promise.all(writers.map((w) => w.done));
    await runUntilQuiet(env);
    await exact(db);
    const retried = await db.query(`SELECT count(*)::int AS n FROM etl.chunks c JOIN etl.runs r USING (run_id) WHERE r.mode = 'incremental' AND c.attempts > 1`);
    assert.ok(retried.rows[0]!.n >= 2, 'the interrupted chunks were attempted again');
  });
});
