// Full refresh into shadow tables, against a real PostgreSQL with real processes: readers polling
// the target during a refresh see the old content or the new, never a mix and never an empty table;
// what the target had (grants, owner, comment, defaults, identity and serial sequences, CHECK, index
// and constraint names, triggers, row-level security and policies) is on the new table; a view or a
// foreign key that depends on the target is refused up front, naming it and the in-place option; a
// unique index that cannot be built fails the run and leaves the old target untouched; a worker
// killed and a backend terminated mid-COPY into a shadow table end exact.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { loadConfig } from '../../../lambdas/shared/config.ts';
import { withClient } from '../../../lambdas/shared/db.ts';
import { openPipeline } from '../../../lambdas/pipeline/open-pipeline.ts';
import { checkRows } from '../../../local/row-check.ts';
import { runCli, startCli } from '../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { waitFor, workerSandboxPids } from '../../support/processes.ts';

const FULL = ['local', '--mode', 'full', '--chunk-rows', '10000', '--concurrency', '2', '--worker-timeout', '5'];

async function exact(db: TestDatabase): Promise<void> {
  const opened = await openPipeline(loadConfig({ DATABASE_URL: db.url }), { applicationName: 'test', sourceConnections: 1, targetConnections: 1 });
  try {
    const check = await withClient(opened.target, (c) => checkRows(c, opened.pipeline, -(2n ** 63n), null));
    assert.deepEqual(check.problems, [], `${check.differences} row(s) differ`);
  } finally {
    await Promise.all([opened.source.end(), opened.target.end()]);
  }
}

describe('full refresh into shadow tables', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  before(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url };
  });
  beforeEach(async () => {
    await db.query('DROP VIEW IF EXISTS v_people');
    await db.query('DROP TABLE IF EXISTS input_table, output_table, audit, child CASCADE');
    await db.query(`DO $$ BEGIN IF to_regclass('etl.runs') IS NOT NULL THEN DELETE FROM etl.rejects; DELETE FROM etl.runs; END IF; END $$`);
    await db.query(`CREATE TABLE input_table (id bigint PRIMARY KEY, name text, age int)`);
    await db.query(`INSERT INTO input_table SELECT g, CASE WHEN g % 500 = 0 THEN NULL ELSE 'First' || g || ' Last' || (g % 7) END, g % 90 FROM generate_series(1, 200000) g`);
  });
  after(async () => db?.drop());

  test('a reader sees the old content until the swap and the new after it: never a mix, never empty', async () => {
    assert.equal((await runCli(FULL, env)).code, 0);
    await db.query('UPDATE input_table SET age = age + 1000');
    const written = (await db.query(`SELECT count(*)::int AS n FROM output_table`)).rows[0]!.n as number;
    const { done } = startCli(FULL, env);
    let finished = false;
    void done.then(() => (finished = true));
    const seen = { old: 0, new: 0 };
    while (!finished) {
      const r = (await db.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE age >= 1000)::int AS fresh FROM output_table`)).rows[0]!;
      assert.equal(r.n, written, 'the target always holds a whole table');
      assert.ok(r.fresh === 0 || r.fresh === r.n, `a mix: ${r.fresh} of ${r.n} rows new`);
      if (r.fresh === 0) seen.old += 1;
      else seen.new += 1;
    }
    const r = await done;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.ok(seen.old > 5, `the reader saw the old content while the refresh ran (${JSON.stringify(seen)})`);
    await exact(db);
    const stats = (await db.query(`SELECT array_agg(attname::text ORDER BY attname) AS cols FROM pg_stats WHERE schemaname = 'public' AND tablename = 'output_table'`)).rows[0]!;
    assert.deepEqual(stats.cols, ['age', 'first_name', 'id', 'last_name'], 'the new table is analyzed before it goes live');
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM output_table WHERE age < 1000`)).rows[0]!.n, 0);
  });

  test('grants, owner, comment, defaults, sequences, CHECK, index names, triggers and row-level security survive', async () => {
    await db.query(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgf_reader') THEN CREATE ROLE pgf_reader; END IF; END $$`);
    await db.query(`CREATE TABLE output_table (id bigint PRIMARY KEY, first_name text, last_name text, age int CHECK (age >= 0),
                      loaded_at timestamptz NOT NULL DEFAULT now(), seq bigserial, gid bigint GENERATED ALWAYS AS IDENTITY)`);
    await db.query(`CREATE INDEX people_by_last_name ON output_table (last_name)`);
    await db.query(`CREATE TABLE audit (n bigint)`);
    await db.query(`CREATE FUNCTION audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit SELECT count(*) FROM new_rows; RETURN NULL; END $$`);
    await db.query(`CREATE TRIGGER audited AFTER INSERT ON output_table REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_insert()`);
    await db.query(`GRANT SELECT ON output_table TO pgf_reader`);
    await db.query(`GRANT UPDATE (age) ON output_table TO pgf_reader`);
    await db.query(`COMMENT ON TABLE output_table IS 'people, split'`);
    await db.query(`ALTER TABLE output_table ENABLE ROW LEVEL SECURITY`);
    await db.query(`CREATE POLICY adults ON output_table FOR SELECT TO pgf_reader USING (age >= 18)`);
    const r = await runCli(FULL, env);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    await exact(db);
    const q = async (sql: string) => (await db.query(sql)).rows[0]!;
    assert.equal((await q(`SELECT has_table_privilege('pgf_reader', 'output_table', 'SELECT') AS ok`)).ok, true);
    assert.equal((await q(`SELECT has_column_privilege('pgf_reader', 'output_table', 'age', 'UPDATE') AS ok`)).ok, true);
    assert.equal((await q(`SELECT obj_description('output_table'::regclass, 'pg_class') AS c`)).c, 'people, split');
    assert.equal((await q(`SELECT relrowsecurity AS on FROM pg_class WHERE oid = 'output_table'::regclass`)).on, true);
    assert.equal((await q(`SELECT count(*)::int AS n FROM pg_policies WHERE tablename = 'output_table' AND policyname = 'adults' AND qual = '(age >= 18)'`)).n, 1);
    assert.equal((await q(`SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'output_table' AND indexname IN ('people_by_last_name', 'output_table_pkey')`)).n, 2);
    assert.equal((await q(`SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'output_table'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) = 'CHECK ((age >= 0))'`)).n, 1);
    assert.equal((await q(`SELECT count(*)::int AS n FROM output_table WHERE loaded_at IS NULL OR seq IS NULL OR gid IS NULL`)).n, 0, 'defaults filled the columns pg-fanout does not write');
    assert.notEqual((await q(`SELECT pg_get_serial_sequence('output_table', 'seq') AS s`)).s, null, 'the serial sequence belongs to the new table');
    assert.equal((await q(`SELECT count(*)::int AS n FROM audit`)).n, 0, 'triggers do not fire for the rebuild');
    await db.query(`INSERT INTO output_table (id, first_name, age) VALUES (-1, 'After', 30)`);
    assert.equal((await q(`SELECT n::int FROM audit`)).n, 1, 'the trigger is on the new table');
    const after = await q(`SELECT seq::text, gid::text FROM output_table WHERE id = -1`);
    const max = await q(`SELECT max(seq)::text AS seq, max(gid)::text AS gid FROM output_table WHERE id <> -1`);
    assert.ok(BigInt(after.seq) > BigInt(max.seq) && BigInt(after.gid) > BigInt(max.gid), 'sequences continue past every existing value');
    assert.equal((await q(`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'output_table_pgf_%'`)).n, 0, 'no shadow table left');
  });

  test('a view or a foreign key on the target is refused up front, naming it and --in-place; nothing changes', async () => {
    assert.equal((await runCli(FULL, env)).code, 0);
    await db.query(`CREATE VIEW v_people AS SELECT id, first_name FROM output_table`);
    await db.query(`CREATE TABLE child (id bigint REFERENCES output_table (id))`);
    await db.query('UPDATE input_table SET age = age + 1000');
    const r = await runCli(FULL, env);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /public\.output_table cannot be replaced by a new table: constraint child_id_fkey on table public\.child; view public\.v_people depend on it .*Nothing was changed\. .*run it with --in-place/);
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM output_table WHERE age >= 1000`)).rows[0]!.n, 0);
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'output_table_pgf_%'`)).rows[0]!.n, 0);
    const inPlace = await runCli([...FULL, '--in-place'], env);
    assert.equal(inPlace.code, 0, `${inPlace.stdout}\n${inPlace.stderr}`);
    assert.match(inPlace.stdout, /full refresh in place/);
    await exact(db);
  });

  test('a unique index that cannot be built fails the run with the reason; the old target is untouched', async () => {
    assert.equal((await runCli(FULL, env)).code, 0);
    await db.query(`CREATE UNIQUE INDEX one_per_name ON output_table (first_name, last_name)`);
    const before = (await db.query(`SELECT count(*)::int AS n, sum(age)::int AS s FROM output_table`)).rows[0]!;
    await db.query(`UPDATE input_table SET name = 'Twin Twin', age = age + 1000 WHERE id IN (7, 8)`);
    const r = await runCli(FULL, env);
    assert.equal(r.code, 1);
    assert.match(`${r.stdout}\n${r.stderr}`, /failed: .*index one_per_name of public\.output_table failed: could not create unique index "pgf_[0-9a-f]+_\d+"/);
    assert.deepEqual((await db.query(`SELECT count(*)::int AS n, sum(age)::int AS s FROM output_table`)).rows[0]!, before, 'the old target is untouched');
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'one_per_name'`)).rows[0]!.n, 1);
  });

  test('a worker killed and a backend terminated mid-COPY into the shadow tables: exact', async () => {
    assert.equal((await runCli(FULL, env)).code, 0);
    await db.query('UPDATE input_table SET age = age + 1000 WHERE id % 3 = 0');
    const copies = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pg-fanout-worker' AND state = 'active' AND query LIKE 'COPY "public"."output_table_pgf_%'`;
    const killed = startCli([...FULL, '--chunk-rows', '40000', '--worker-timeout', '3'], env);
    await waitFor('a worker mid-COPY into a shadow table', async () => (await db.query(copies)).rows.length > 0, 60_000, 2);
    // Every worker process at once: whichever holds the COPY just seen dies mid-COPY.
    const victims = workerSandboxPids(killed.child.pid!);
    assert.ok(victims.length >= 1);
    for (const victim of victims) process.kill(victim, 'SIGKILL');
    const pid = await waitFor('a loading backend mid-COPY', async () => (await db.query(copies)).rows[0]?.pid as number | undefined, 60_000, 2);
    await db.query('SELECT pg_terminate_backend($1)', [pid]);
    const r = await killed.done;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const retried = await db.query(`SELECT count(*)::int AS n FROM etl.chunks c JOIN etl.runs r USING (run_id) WHERE r.status = 'completed' AND r.refresh = 'shadow' AND c.attempts > 1`);
    assert.ok(retried.rows[0]!.n >= 1, 'interrupted chunks were attempted again');
    await exact(db);
  });
});
