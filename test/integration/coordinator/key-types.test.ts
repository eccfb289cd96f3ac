// Keys of every type the planner splits on, against a real PostgreSQL: integer, bigint, uuid, text
// in an ICU collation (whose order is not the bytes' order), numeric, timestamptz, date, and a
// composite key. For each, on skewed data (most keys in one dense block, a few spread far), the
// exact plan gives chunks of exactly chunkRows rows but the last, and the sampled plan's chunks
// cover every row exactly once (counted in SQL with the very conditions the workers use); a
// pipeline keyed by it then moves every row. A chunk that holds more rows than a worker may read
// is split at run time, until every chunk is within 2 x chunkRows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../../lambdas/shared/config.ts';
import { sqlLiteral, withClient } from '../../../lambdas/shared/db.ts';
import { keyRangeSql } from '../../../lambdas/shared/keys.ts';
import { createRun, listChunks } from '../../../lambdas/shared/ledger.ts';
import { decodeChunkMessage } from '../../../lambdas/shared/messages.ts';
import { planChunks } from '../../../lambdas/coordinator/plan.ts';
import { planSource } from '../../../lambdas/coordinator/plan-source.ts';
import { openPipeline, type OpenedPipeline } from '../../../lambdas/pipeline/open-pipeline.ts';
import { copyChunk } from '../../../lambdas/worker/copy-chunk.ts';
import { runCli } from '../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

interface KeyCase {
  name: string;
  /** Column definitions of the key, e.g. `k uuid`. */
  columns: string;
  key: string[];
  declared: Record<string, string>;
  /** SQL for the key columns from g (1..rows), dense for most g and spread for every 100th. */
  values: string;
}

const CASES: KeyCase[] = [
  { name: 'integer', columns: 'k integer', key: ['k'], declared: { k: 'integer not null' }, values: `CASE WHEN g % 100 = 0 THEN g * 20000 ELSE g END` },
  { name: 'bigint', columns: 'k bigint', key: ['k'], declared: { k: 'bigint not null' }, values: `CASE WHEN g % 100 = 0 THEN g::bigint * 100000000000 ELSE g - 5000 END` },
  { name: 'uuid', columns: 'k uuid', key: ['k'], declared: { k: 'uuid not null' }, values: `CASE WHEN g % 100 = 0 THEN md5(g::text)::uuid ELSE ('00000000-0000-0000-0000-' || lpad(to_hex(g), 12, '0'))::uuid END` },
  { name: 'text (ICU collation)', columns: 'k text COLLATE "en-x-icu"', key: ['k'], declared: { k: 'text not null' }, values: `CASE WHEN g % 100 = 0 THEN chr(65 + g % 26) || md5(g::text) WHEN g % 2 = 0 THEN 'a' || g ELSE 'B' || g END` },
  { name: 'numeric', columns: 'k numeric', key: ['k'], declared: { k: 'numeric not null' }, values: `CASE WHEN g % 100 = 0 THEN g * 1e12 ELSE g / 1000.0 END` },
  { name: 'timestamptz', columns: 'k timestamptz', key: ['k'], declared: { k: 'timestamptz not null' }, values: `CASE WHEN g % 100 = 0 THEN timestamptz '1900-01-01 00:00:00.000001+00' + g * interval '3 days' ELSE timestamptz '2026-01-01+00' + g * interval '1 microsecond' END` },
  { name: 'date', columns: 'k date', key: ['k'], declared: { k: 'date not null' }, values: `CASE WHEN g % 100 = 0 THEN date '0500-01-01' + g * 7 ELSE date '2000-01-01' + g END` },
  { name: 'composite (integer, text)', columns: 'k1 integer, k2 text', key: ['k1', 'k2'], declared: { k1: 'integer not null', k2: 'text not null' }, values: `CASE WHEN g % 100 = 0 THEN g ELSE 7 END, 'x' || g` },
];

const ROWS = 30_000;
const CHUNK = 2_000;

describe('keys of any type', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db?.drop());

  for (const c of CASES) {
    test(`${c.name}: exact and sampled plans cover every row once; a pipeline keyed by it moves every row`, async () => {
      const table = `keys_${c.name.replace(/\W+/g, '_')}`;
      await db.query(`CREATE TABLE ${table} (${c.columns}, n integer, PRIMARY KEY (${c.key.join(', ')}))`);
      await db.query(`INSERT INTO ${table} SELECT ${c.values}, g FROM generate_series(1, ${ROWS}) g`);
      await db.query(`ANALYZE ${table}`);
      const module = `${table}.mjs`;
      const source = `import { definePipeline } from 'pg-fanout';
export default definePipeline({ name: ${JSON.stringify(table)}, source: { table: 'public.${table}', key: ${JSON.stringify(c.key)},
  columns: ${JSON.stringify({ ...c.declared, n: 'integer' })} },
  target: { table: 'public.${table}_out', columns: ${JSON.stringify({ ...c.declared, n2: 'integer' })} },
  transform(r) { return { ...Object.fromEntries(${JSON.stringify(c.key)}.map((k) => [k, r[k]])), n2: r.n * 2 }; } });`;
      const { writeFile, rm } = await import('node:fs/promises');
      const { tmpdir } = await import('node:os');
      const path = `${tmpdir()}/${module}`;
      await writeFile(path, source);
      let opened: OpenedPipeline | undefined;
      try {
        opened = await openPipeline(loadConfig({ DATABASE_URL: db.url, PIPELINE_MODULE: path }), { applicationName: 'test', sourceConnections: 1, targetConnections: 1 });
        const p = opened.pipeline;
        for (const exactBelowRows of [1_000_000, 0]) {
          const plan = await withClient(opened.source, (cl) => planSource(cl, p, CHUNK, { exactBelowRows }));
          const ranges = planChunks({ domainLo: null, domainHi: null, chunkStarts: plan.chunkStarts, totalRows: plan.totalRows, rowsPerChunk: plan.rowsPerChunk });
          const counts: number[] = [];
          for (const r of ranges) counts.push((await db.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${keyRangeSql(p.key, r, sqlLiteral)}`)).rows[0]!.n);
          assert.equal(counts.reduce((a, b) => a + b, 0), ROWS, `${exactBelowRows ? 'exact' : 'sampled'}: every row in exactly one range`);
          if (plan.exact) {
            assert.deepEqual(counts.slice(0, -1), counts.slice(0, -1).map(() => CHUNK), 'every chunk but the last holds exactly chunkRows rows');
            assert.ok(counts.at(-1)! >= 1 && counts.at(-1)! <= CHUNK);
          } else {
            assert.ok(ranges.length > 3, `the sample split the table (${ranges.length} ranges)`);
          }
        }
      } finally {
        await Promise.all([opened?.source.end(), opened?.target.end()]);
      }
      const r = await runCli(['local', '--pipeline', path, '--chunk-rows', String(CHUNK), '--worker-timeout', '10'], { DATABASE_URL: db.url });
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const diff = await db.query(`SELECT count(*)::int AS n FROM (
          (SELECT ${c.key.join(', ')}, n * 2 FROM ${table} EXCEPT ALL SELECT ${c.key.join(', ')}, n2 FROM ${table}_out)
          UNION ALL (SELECT ${c.key.join(', ')}, n2 FROM ${table}_out EXCEPT ALL SELECT ${c.key.join(', ')}, n * 2 FROM ${table})) d`);
      assert.equal(diff.rows[0]!.n, 0, 'the target holds exactly the transformed source');
      await rm(path);
    });
  }

  test('a target whose key column sorts in another collation than the source\'s: in-place and incremental runs cut the same ranges', async () => {
    await db.query(`CREATE TABLE coll_src (k text COLLATE "en-x-icu" PRIMARY KEY, name text, age int)`);
    await db.query(`INSERT INTO coll_src SELECT CASE WHEN g % 2 = 0 THEN 'a' ELSE 'B' END || g, 'A' || g || ' B', g % 90 FROM generate_series(1, 6000) g`);
    // The target's key column sorts by bytes ("B…" before "a…"), the source's by ICU ("a…" before "B…").
    await db.query(`CREATE TABLE coll_out (k text COLLATE "C" PRIMARY KEY, first_name text, last_name text, age int)`);
    const env = { DATABASE_URL: db.url, SOURCE_TABLE: 'public.coll_src', TARGET_TABLE: 'public.coll_out', KEY_COLUMN: 'k' };
    const same = async () => (await db.query(`SELECT count(*)::int AS n FROM ((SELECT k COLLATE "C", age FROM coll_src EXCEPT ALL SELECT k, age FROM coll_out)
        UNION ALL (SELECT k, age FROM coll_out EXCEPT ALL SELECT k COLLATE "C", age FROM coll_src)) d`)).rows[0]!.n;
    for (const args of [['--mode', 'full', '--in-place'], ['--mode', 'full', '--in-place'], []]) {
      const r = await runCli(['local', '--chunk-rows', '500', '--worker-timeout', '10', ...args], env);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.equal(await same(), 0, `after ${args.join(' ') || 'an incremental run'}`);
      await db.query(`DELETE FROM coll_src WHERE k IN (SELECT k FROM coll_src ORDER BY k LIMIT 40 OFFSET ${args.length * 300})`);
      await db.query(`UPDATE coll_src SET age = age + 1 WHERE length(k) = 4`);
    }
    const last = await runCli(['local', '--chunk-rows', '500', '--worker-timeout', '10'], env);
    assert.equal(last.code, 0, last.stderr);
    assert.match(last.stdout, /deleted 40 \(source rows gone\)/);
    assert.equal(await same(), 0, 'after an incremental run with deletes');
  });

  test('a chunk with more rows than a worker may read is split at run time, until every chunk holds at most 2 x chunkRows', async () => {
    await db.query(`CREATE TABLE split_src (id bigint PRIMARY KEY, name text, age int)`);
    await db.query(`INSERT INTO split_src SELECT g, 'A' || g || ' B', g % 90 FROM generate_series(1, 10000) g`);
    const opened = await openPipeline(loadConfig({ DATABASE_URL: db.url, SOURCE_TABLE: 'public.split_src', TARGET_TABLE: 'public.split_out' }), { applicationName: 'test', sourceConnections: 1, targetConnections: 1 });
    try {
      await db.query(`CREATE TABLE split_out (id bigint PRIMARY KEY, first_name text, last_name text, age int)`);
      const p = opened.pipeline;
      const created = await withClient(opened.target, (cl) => createRun(cl, {
        pipeline: p.name, fingerprint: p.fingerprint, mode: 'full', refresh: 'in-place', sourceTable: p.source.display,
        targets: p.targets.map((t) => ({ name: t.name, schema: t.table.schema, table: t.table.name, shadow: null })),
        keyColumns: p.key.names, chunkRows: 600, highWaterMark: null, rowsPlanned: 10000n, chunks: [{ lo: null, hi: null }], sourceSnapshot: null, baselineSnapshot: null,
      }));
      assert.ok(created.created);
      const queue: string[] = [];
      const ctx = { source: opened.source, target: opened.target, pipeline: p, engine: opened.engine, sameDatabase: true, maxChunkRows: 1200,
        send: async (m: { body: string }[]) => void queue.push(...m.map((x) => x.body)) };
      const first = await copyChunk(ctx, { runId: created.run.runId, chunkNo: 0, lo: null, hi: null });
      assert.equal(first.rowsRead, 1200, 'the first chunk read at most 2 x chunkRows');
      while (queue.length > 0) await copyChunk(ctx, decodeChunkMessage(queue.shift()!));
      const chunks = await withClient(opened.target, (cl) => listChunks(cl, created.run.runId));
      assert.ok(chunks.length === 9, `${chunks.length} chunks`);
      assert.ok(chunks.every((x) => x.status === 'done' && Number(x.rowsRead) <= 1200), JSON.stringify(chunks.map((x) => x.rowsRead?.toString())));
      const run = (await db.query(`SELECT status, rows_read::int AS n FROM etl.runs WHERE run_id = $1`, [created.run.runId])).rows[0]!;
      assert.deepEqual(run, { status: 'completed', n: 10000 });
      assert.equal((await db.query(`SELECT count(*)::int AS n FROM split_out`)).rows[0]!.n, 10000);
    } finally {
      await Promise.all([opened.source.end(), opened.target.end()]);
    }
  });
});
