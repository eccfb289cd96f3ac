// Shared setup for integration tests: input tables, a prepared pipeline, a run with given chunks,
// and the row-by-row comparison of output + rejects against the transform spec.
import assert from 'node:assert/strict';
import { loadConfig, type TableConfig } from '../../lambdas/shared/config.ts';
import { openPool, withClient, type Pool } from '../../lambdas/shared/db.ts';
import { createRun } from '../../lambdas/shared/ledger.ts';
import { preparePipeline } from '../../lambdas/shared/pipeline.ts';
import type { ResolvedTables } from '../../lambdas/shared/table-schema.ts';
import { splitName } from '../../lambdas/transform/split-name.ts';
import { splitNameTransform } from '../../lambdas/transform/split-name-transform.ts';
import type { ChunkRange } from '../../lambdas/coordinator/plan.ts';
import type { TestDatabase } from './database.ts';

export const DEFAULT_TABLES: TableConfig = { sourceTable: 'public.input_table', targetTable: 'public.output_table', keyColumn: 'id' };

export async function openTestPool(db: TestDatabase, max = 4): Promise<Pool> {
  return openPool(loadConfig({ DATABASE_URL: db.url }).database, { max, applicationName: 'pg-fanout-test' });
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

export async function preparedTables(pool: Pool, tables: TableConfig = DEFAULT_TABLES): Promise<ResolvedTables> {
  return preparePipeline(pool, tables, splitNameTransform, { createTarget: true });
}

/** A run with exactly these chunks; an earlier test's run still active on the pipeline is cancelled. */
export async function createTestRun(pool: Pool, tables: ResolvedTables, chunks: readonly ChunkRange[]): Promise<string> {
  await pool.query(`UPDATE etl.runs SET status = 'cancelled' WHERE pipeline = $1 AND status = 'running'`, [tables.pipeline]);
  const result = await withClient(pool, (c) =>
    createRun(c, {
      pipeline: tables.pipeline,
      mode: 'full',
      sourceTable: tables.source.display,
      targetTable: tables.target.display,
      keyColumn: tables.keyName,
      chunkRows: 1000,
      lo: chunks[0]?.lo ?? 0n,
      hi: null,
      highWaterMark: null,
      rowsPlanned: 0n,
      chunks,
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
  const lo = (options.lo ?? -(2n ** 63n)).toString();
  const hi = options.hi === undefined || options.hi === null ? null : options.hi.toString();
  const inRange = `id >= $1::bigint AND ($2::bigint IS NULL OR id < $2::bigint)`;
  const input = await db.query<{ id: string; name: string | null; age: number | null }>(`SELECT id::text, name, age FROM ${source} WHERE ${inRange} ORDER BY id`, [lo, hi]);
  const output = await db.query<{ id: string; first_name: string; last_name: string | null; age: number | null }>(
    `SELECT id::text, first_name, last_name, age FROM ${target} WHERE ${inRange} ORDER BY id`, [lo, hi]);
  const rejects = await db.query<{ source_id: string; reason: string; name: string | null; age: number | null }>(
    `SELECT source_id::text, reason, name, age FROM etl.rejects WHERE source_id >= $1::bigint AND ($2::bigint IS NULL OR source_id < $2::bigint)
       AND ($3::text IS NULL OR pipeline = $3) ORDER BY source_id`, [lo, hi, options.pipeline ?? null]);
  const outById = new Map(output.rows.map((r) => [r.id, r]));
  const rejById = new Map(rejects.rows.map((r) => [r.source_id, r]));
  assert.equal(outById.size, output.rows.length, 'duplicate ids in output');
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
 */
export async function slowCopies(db: TestDatabase, seconds: number): Promise<void> {
  await db.query(`CREATE TABLE output_table (id bigint PRIMARY KEY, first_name text, last_name text, age int)`);
  await db.query(`CREATE OR REPLACE FUNCTION slow_copy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(${Number(seconds)}); RETURN NULL; END $$`);
  await db.query(`CREATE TRIGGER slow_copy BEFORE INSERT ON output_table FOR EACH STATEMENT EXECUTE FUNCTION slow_copy()`);
}
