// Planning's reads of the source against a real PostgreSQL: the exact pass (every chunkRows-th key)
// for small tables, and the sampled one (TABLESAMPLE SYSTEM pages, for big tables) that must still
// cover every row once. These replace the unit tests of the old pure startsFromSample,
// which moved into planSource's SQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { planChunks } from '../../../lambdas/coordinator/plan.ts';
import { planSource } from '../../../lambdas/coordinator/plan-source.ts';
import { withClient, type Pool } from '../../../lambdas/shared/db.ts';
import type { ResolvedPipeline } from '../../../lambdas/pipeline/resolve-pipeline.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { openTestPool, preparedPipeline } from '../../support/pipeline.ts';

const MIN_BIGINT = -(2n ** 63n);
const MAX_BIGINT = 2n ** 63n - 1n;

describe('planSource', () => {
  let db: TestDatabase;
  let pool: Pool;
  before(async () => {
    db = await createTestDatabase();
    pool = await openTestPool(db);
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  const plan = (p: ResolvedPipeline, chunkRows: number, options: { exactBelowRows?: number } = {}) =>
    withClient(pool, (c) => planSource(c, p, chunkRows, options));

  /** The rows of `table` (keyed by id of `type`) in each range, counted in SQL, in range order. */
  const rowsPerRange = async (table: string, type: string, ranges: readonly { lo: readonly string[] | null; hi: readonly string[] | null }[]): Promise<number[]> =>
    (await db.query<{ n: number }>(
      `SELECT count(b.id)::int AS n FROM unnest($1::${type}[], $2::${type}[]) WITH ORDINALITY AS r(lo, hi, ord)
         LEFT JOIN ${table} b ON (r.lo IS NULL OR b.id >= r.lo) AND (r.hi IS NULL OR b.id < r.hi) GROUP BY r.ord ORDER BY r.ord`,
      [ranges.map((r) => r.lo?.[0] ?? null), ranges.map((r) => r.hi?.[0] ?? null)])).rows.map((r) => r.n);

  test('the exact path starts a chunk at every chunkRows-th key, skipping the first, extremes included', async () => {
    // 5,000 keys: a dense block, a thin spread, and the bigint extremes.
    await db.query('CREATE TABLE small (id bigint PRIMARY KEY, name text, age int)');
    await db.query(`INSERT INTO small SELECT g, 'A B', 1 FROM generate_series(1, 4940) g`);
    await db.query(`INSERT INTO small SELECT g * 99999999991, 'A B', 1 FROM generate_series(1, 57) g`);
    await db.query(`INSERT INTO small VALUES ($1, 'Min Key', 1), ($2, 'Max Key', 1), ($3, 'Above Two53', 1)`,
      [MIN_BIGINT.toString(), MAX_BIGINT.toString(), (2n ** 53n + 1n).toString()]);
    const keys = (await db.query<{ id: string }>('SELECT id::text FROM small ORDER BY small.id')).rows.map((r) => r.id);
    assert.equal(keys.length, 5000);
    const p = await preparedPipeline(pool, { sourceTable: 'public.small', targetTable: 'public.small_out', keyColumn: 'id' });
    for (const chunkRows of [2, 7, 100, 999, 4999, 5000, 1_000_000, 1]) {
      const exact = await plan(p, chunkRows);
      assert.equal(exact.exact, true);
      const expected = keys.filter((_, i) => i > 0 && i % chunkRows === 0);
      assert.deepEqual(exact.chunkStarts.map((s) => s[0]), expected, `exact starts, chunkRows ${chunkRows}`);
    }
    // The keys come back as PostgreSQL prints them, extremes included.
    const everyKey = await plan(p, 1);
    assert.equal(keys[0], MIN_BIGINT.toString());
    assert.deepEqual(everyKey.chunkStarts[0], [keys[1]], 'the smallest key starts no chunk: the first chunk is unbounded below');
    assert.deepEqual(everyKey.chunkStarts.at(-1), [MAX_BIGINT.toString()]);
    assert.ok(everyKey.chunkStarts.some((s) => s[0] === '9007199254740993'));
  });

  test('a sampled plan of a big table covers every row exactly once, in non-empty chunks of about chunkRows rows', async () => {
    await db.query('CREATE TABLE big (id bigint PRIMARY KEY, name text, age int)');
    await db.query(`INSERT INTO big SELECT g, 'A B', 1 FROM generate_series(1, 118800) g`);
    await db.query(`INSERT INTO big SELECT 1000000 + g * 999999999999, 'A B', 1 FROM generate_series(1, 1200) g`);
    await db.query('ANALYZE big');
    const p = await preparedPipeline(pool, { sourceTable: 'public.big', targetTable: 'public.big_out', keyColumn: 'id' });
    const chunkRows = 2000;
    const sampled = await plan(p, chunkRows, { exactBelowRows: 0 });
    assert.equal(sampled.exact, false);
    const starts = sampled.chunkStarts.map((s) => BigInt(s[0]!));
    assert.ok(starts.length > 10, `${starts.length} chunk starts from the sample`);
    for (let i = 1; i < starts.length; i++) assert.ok(starts[i - 1]! < starts[i]!, `start ${i} is above start ${i - 1}`);
    assert.ok(Math.abs(Number(sampled.rowsPerChunk) - chunkRows) <= chunkRows * 0.01, `rows per chunk ${sampled.rowsPerChunk} estimated from the sample`);
    assert.ok(Math.abs(Number(sampled.totalRows) - 120_000) < 120_000 * 0.5, `total rows ${sampled.totalRows} estimated from the sample`);
    const ranges = planChunks({ domainLo: null, domainHi: null, chunkStarts: sampled.chunkStarts, totalRows: sampled.totalRows, rowsPerChunk: sampled.rowsPerChunk });
    assert.equal(ranges[0]!.lo, null);
    assert.equal(ranges.at(-1)!.hi, null);
    const counted = await rowsPerRange('big', 'bigint', ranges);
    assert.equal(counted.length, ranges.length);
    assert.ok(counted.every((n) => n >= 1), 'no chunk is empty');
    assert.equal(counted.reduce((a, n) => a + n, 0), 120_000, 'every row in exactly one chunk');
  });

  // Keys in no physical order: random uuids, and serial keys inserted shuffled. A page's rows are
  // then spread over the whole key range, so a sample must weigh rows, not pages, to cut even chunks.
  for (const [what, ddl, fill] of [
    ['random uuids', 'id uuid PRIMARY KEY', 'SELECT gen_random_uuid(), \'A B\', 1 FROM generate_series(1, 200000) g'],
    ['serial keys inserted in random order', 'id bigint PRIMARY KEY', 'SELECT g, \'A B\', 1 FROM generate_series(1, 200000) g ORDER BY random()'],
  ] as const) {
    test(`a sampled plan of ${what} cuts chunks of about chunkRows rows each`, async () => {
      const table = what.startsWith('random') ? 'shuffled_uuid' : 'shuffled_serial';
      await db.query(`CREATE TABLE ${table} (${ddl}, name text, age int)`);
      await db.query(`INSERT INTO ${table} ${fill}`);
      await db.query(`ANALYZE ${table}`);
      const p = await preparedPipeline(pool, { sourceTable: `public.${table}`, targetTable: `public.${table}_out`, keyColumn: 'id' });
      const chunkRows = 10_000;
      const sampled = await plan(p, chunkRows, { exactBelowRows: 0 });
      assert.equal(sampled.exact, false);
      const ranges = planChunks({ domainLo: null, domainHi: null, chunkStarts: sampled.chunkStarts, totalRows: sampled.totalRows, rowsPerChunk: sampled.rowsPerChunk });
      const type = what.startsWith('random') ? 'uuid' : 'bigint';
      const sizes = await rowsPerRange(table, type, ranges);
      assert.equal(sizes.reduce((a, n) => a + n, 0), 200_000, 'every row in exactly one chunk');
      assert.ok(sizes.length >= 17 && sizes.length <= 23, `${sizes.length} chunks for 20 chunks' worth of rows: ${sizes.join(' ')}`);
      assert.ok(sizes.every((n) => n <= 1.4 * chunkRows), `no chunk above 1.4 x chunkRows: ${sizes.join(' ')}`);
      assert.ok(sizes.slice(0, -1).every((n) => n >= 0.6 * chunkRows), `no chunk but the last below 0.6 x chunkRows: ${sizes.join(' ')}`);
    });
  }
});
