// Shared setup for integration tests: input tables, the built-in pipeline resolved against the test
// database, a run with given chunks, key ranges of bigint keys, and the row-by-row comparison of
// output + rejects against the transform spec.
import assert from 'node:assert/strict';
import { loadConfig, type TableConfig } from '../../lambdas/shared/config.ts';
import { openPool, withClient, type Pool } from '../../lambdas/shared/db.ts';
import type { KeyValue } from '../../lambdas/shared/keys.ts';
import { createRun, type ChunkRange, type NewRun, type RunTarget } from '../../lambdas/shared/ledger.ts';
import { migrateLedger } from '../../lambdas/shared/ledger-schema.ts';
import { nameSplitPipeline } from '../../lambdas/pipeline/builtin-name-split.ts';
import { createMissingTargets } from '../../lambdas/pipeline/create-targets.ts';
import { engineFor } from '../../lambdas/pipeline/open-pipeline.ts';
import { resolvePipeline, type ResolvedPipeline } from '../../lambdas/pipeline/resolve-pipeline.ts';
import { splitName } from '../../lambdas/transform/split-name.ts';
import type { ChunkContext } from '../../lambdas/worker/copy-chunk.ts';
import type { TestDatabase } from './database.ts';

export const DEFAULT_TABLES: TableConfig = { sourceTable: 'public.input_table', targetTable: 'public.output_table', keyColumn: 'id' };

export async function openTestPool(db: TestDatabase, max = 4): Promise<Pool> {
  return openPool(loadConfig({ DATABASE_URL: db.url }).database, { max, applicationName: 'pg-fanout-test' });
}

/** A bigint key as the ledger and messages carry it. */
export function key(n: bigint | number): KeyValue {
  return [BigInt(n).toString()];
}

/** A range of bigint keys; null is unbounded on that side. */
export function range(lo: bigint | number | null, hi: bigint | number | null): { lo: KeyValue | null; hi: KeyValue | null } {
  return { lo: lo === null ? null : key(lo), hi: hi === null ? null : key(hi) };
}

export interface InputRow {
  id: bigint;
  name: string | null;
  age: number | null;
}

export async function createInputTable(db: TestDatabase, rows: readonly InputRow[], table = 'public.input_table'): Promise<void> {
  await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, name text, age int)`);
  await insertInput(db, rows, table);
}

export async function insertInput(db: TestDatabase, rows: readonly InputRow[], table = 'public.input_table'): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    const part = rows.slice(i, i + 5000);
    await db.query(`INSERT INTO ${table} (id, name, age) SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[])`, [
      part.map((r) => r.id.toString()),
      part.map((r) => r.name),
      part.map((r) => r.age),
    ]);
  }
}

/** Generated input: a realistic mix plus every 97th row rejected-by-spec. */
export async function seedGenerated(db: TestDatabase, count: number, table = 'public.input_table'): Promise<void> {
  await db.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, name text, age int)`);
  await db.query(
    `INSERT INTO ${table} (id, name, age)
     SELECT g, CASE WHEN g % 97 = 0 THEN '  ' WHEN g % 89 = 0 THEN NULL WHEN g % 13 = 0 THEN 'Solo' || g
                    WHEN g % 31 = 0 THEN E'Zoë\\u00a0van  der Berg ' || g ELSE 'First' || g || ' Last ' || g END,
            CASE WHEN g % 11 = 0 THEN NULL ELSE (g % 90)::int END
       FROM generate_series(1, $1::bigint) g`,
    [count],
  );
}

/**
 * The built-in name split over `tables`, as a worker has it: the ledger migrated, the pipeline
 * resolved against the test database (source and target are one), the target created if missing.
 */
export async function preparedPipeline(pool: Pool, tables: TableConfig = DEFAULT_TABLES): Promise<ResolvedPipeline> {
  return withClient(pool, async (c) => {
    await migrateLedger(c);
    const spec = nameSplitPipeline(tables);
    const resolved = await resolvePipeline(c, c, spec, { sameDatabase: true });
    if (resolved.targets.every((t) => t.exists)) return resolved;
    await createMissingTargets(c, resolved);
    return resolvePipeline(c, c, spec, { sameDatabase: true });
  });
}

/** What copyChunk needs: the pool for both ends (one database), the pipeline and its engine. */
export function chunkContext(pool: Pool, pipeline: ResolvedPipeline, extra: Partial<ChunkContext> = {}): ChunkContext {
  return { source: pool, target: pool, pipeline, engine: engineFor(pipeline), sameDatabase: true, ...extra };
}

/** The live targets of the pipeline, as a run that writes in place records them. */
export function liveTargets(p: ResolvedPipeline): RunTarget[] {
  return p.targets.map((t) => ({ name: t.name, schema: t.table.schema, table: t.table.name, shadow: null }));
}

/**
 * A full in-place run with exactly these chunks (each chunk deletes its range in the target and
 * its rejects, then copies it); an earlier test's run still active on the pipeline is cancelled.
 */
export async function createTestRun(pool: Pool, p: ResolvedPipeline, chunks: readonly ChunkRange[], overrides: Partial<NewRun> = {}): Promise<string> {
  await pool.query(`UPDATE etl.runs SET status = 'cancelled' WHERE pipeline = $1 AND status = 'running'`, [p.name]);
  const result = await withClient(pool, (c) =>
    createRun(c, {
      pipeline: p.name,
      fingerprint: p.fingerprint,
      mode: 'full',
      refresh: 'in-place',
      sourceTable: p.source.display,
      targets: liveTargets(p),
      keyColumns: p.key.names,
      chunkRows: 1000,
      highWaterMark: null,
      rowsPlanned: 0n,
      chunks,
      sourceSnapshot: null,
      baselineSnapshot: null,
      ...overrides,
    }),
  );
  assert.ok(result.created, 'a test run must not collide with an active run');
  return result.run.runId;
}

/**
 * The spec applied to every input row in [lo, hi), compared with output_table and etl.rejects
 * row by row: each input row is in exactly one of them, exactly as the spec says.
 */
export async function assertExactOutput(
  db: TestDatabase,
  options: { source?: string; target?: string; lo?: bigint; hi?: bigint | null; pipeline?: string } = {},
): Promise<{ written: number; rejected: number }> {
  const source = options.source ?? 'public.input_table';
  const target = options.target ?? 'public.output_table';
  const lo = options.lo === undefined ? null : options.lo.toString();
  const hi = options.hi === undefined || options.hi === null ? null : options.hi.toString();
  const inRange = (k: string) => `($1::bigint IS NULL OR ${k} >= $1::bigint) AND ($2::bigint IS NULL OR ${k} < $2::bigint)`;
  const input = await db.query<{ id: string; name: string | null; age: number | null }>(`SELECT id::text, name, age FROM ${source} WHERE ${inRange('id')} ORDER BY id`, [lo, hi]);
  const output = await db.query<{ id: string; first_name: string; last_name: string | null; age: number | null }>(
    `SELECT id::text, first_name, last_name, age FROM ${target} WHERE ${inRange('id')} ORDER BY id`, [lo, hi]);
  const rejects = await db.query<{ source_id: string; reason: string; name: string | null; age: number | null; target: string | null; keys: number }>(
    `SELECT source_key[1] AS source_id, reason, source_row->>'name' AS name, (source_row->>'age')::int AS age, target, cardinality(source_key) AS keys
       FROM etl.rejects WHERE ${inRange('source_key[1]::bigint')} AND ($3::text IS NULL OR pipeline = $3) ORDER BY source_key[1]::bigint`,
    [lo, hi, options.pipeline ?? null]);
  const outById = new Map(output.rows.map((r) => [r.id, r]));
  const rejById = new Map(rejects.rows.map((r) => [r.source_id, r]));
  assert.equal(outById.size, output.rows.length, 'duplicate ids in output');
  assert.equal(rejById.size, rejects.rows.length, 'duplicate keys in etl.rejects');
  let written = 0;
  let rejected = 0;
  for (const row of input.rows) {
    const expected = splitName(row.name);
    if ('reject' in expected) {
      const rej = rejById.get(row.id);
      assert.ok(rej, `input ${row.id} (${JSON.stringify(row.name)}) should be in etl.rejects`);
      assert.equal(rej.reason, expected.reject, `reject reason of ${row.id}`);
      assert.equal(rej.name, row.name, `raw name of reject ${row.id}`);
      assert.equal(rej.age, row.age, `raw age of reject ${row.id}`);
      assert.equal(rej.target, null, `reject ${row.id} is the transform's, not a target's`);
      assert.equal(rej.keys, 1, `reject ${row.id} has a one-column key`);
      assert.ok(!outById.has(row.id), `rejected input ${row.id} must not be in the output`);
      rejected += 1;
    } else {
      const out = outById.get(row.id);
      assert.ok(out, `input ${row.id} (${JSON.stringify(row.name)}) is missing from the output`);
      assert.equal(out.first_name, expected.firstName, `first_name of ${row.id}`);
      assert.equal(out.last_name, expected.lastName, `last_name of ${row.id}`);
      assert.equal(out.age, row.age, `age of ${row.id}`);
      assert.ok(!rejById.has(row.id), `written input ${row.id} must not also be rejected`);
      written += 1;
    }
  }
  assert.equal(output.rows.length, written, 'output has rows that are not in the input');
  assert.equal(rejects.rows.length, rejected, 'etl.rejects has rows that are not rejected input');
  return { written, rejected };
}

/**
 * Creates output_table with a statement trigger that sleeps `seconds` in every COPY into it, so a
 * fault injected "mid-COPY" or a run still going at some point holds on any machine's speed.
 * A shadow full refresh loads a new table (LIKE output_table, no triggers): runs that rely on slow
 * COPYs must write the live table (a full run in place, or an incremental run after a full one).
 */
export async function slowCopies(db: TestDatabase, seconds: number): Promise<void> {
  await db.query(`CREATE TABLE output_table (id bigint PRIMARY KEY, first_name text, last_name text, age int)`);
  await db.query(`CREATE OR REPLACE FUNCTION slow_copy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(${Number(seconds)}); RETURN NULL; END $$`);
  await db.query(`CREATE TRIGGER slow_copy BEFORE INSERT ON output_table FOR EACH STATEMENT EXECUTE FUNCTION slow_copy()`);
}
