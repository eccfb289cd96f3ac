// `npm run bench`: pg-fanout against what a user would do instead, side by side in one run, on
// this machine. Every comparison runs in interleaved rounds (each method once per round, so a slow
// spell of this shared machine falls on all of them) and reports medians. Sections:
//   refresh      full refresh within one database (embedded PostgreSQL 18): pg-fanout --mode full
//                (whole command, default verification) vs INSERT … SELECT, CREATE TABLE AS + ADD
//                PRIMARY KEY, a psql COPY pipe through a C filter into the keyed target, and two such
//                pipes into an unindexed table + ADD PRIMARY KEY; database server CPU per million rows
//   cross        between two databases of a PostgreSQL 15 server: pg-fanout's name split vs
//                pgcopydb clone --table-jobs 2 --index-jobs 2 (which only copies)
//   chunks       10,000 vs 100,000 rows per chunk, worker peak RSS
//   incremental  1% of the rows changed (inserts, updates, deletes) vs a full run of the same table
//   transform    one worker: a user pipeline over a 12-column source (and psql COPY | psql COPY of
//                those columns, the floor); the built-in name split
//   planning     planning a table of --planning-rows skewed keys
// Writes bench/results/latest.json and latest.svg. Never part of `npm test`.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../lambdas/shared/config.ts';
import { withClient as poolClient } from '../lambdas/shared/db.ts';
import { planSource } from '../lambdas/coordinator/plan-source.ts';
import { openPipeline } from '../lambdas/pipeline/open-pipeline.ts';
import { startEmbeddedPostgres } from '../local/embedded-postgres.ts';
import { seedInputTable } from '../local/seed.ts';
import { requirePostgresBinaries, startSystemPostgres, type SystemPostgres } from '../local/system-postgres.ts';
import { SPLIT_NAME_SELECT } from './baselines.ts';
import { barChartSvg, type Bar } from './chart.ts';
import { runPgFanout, type PgFanoutResult } from './pg-fanout-method.ts';
import { singlePipe, twoPipesThenPrimaryKey } from './peers/copy-pipe.ts';
import { createTableAsSelect, insertSelect } from './peers/in-database.ts';
import { ensureDebianTool, PGCOPYDB } from './peers/install.ts';
import type { PeerContext, PeerResult } from './peers/measure.ts';
import { pgcopydbClone } from './peers/pgcopydb.ts';
import { ensureSplitFilter } from './peers/split-filter.ts';
import { seedWide, wideCopyFloor, WIDE_PIPELINE } from './wide-source.ts';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    repeats: { type: 'string', default: '3' },
    sections: { type: 'string', default: 'refresh,cross,chunks,incremental,transform,planning' },
    'transform-rows': { type: 'string', default: '1000000' },
    'planning-rows': { type: 'string', default: '10000000' },
    baseline: { type: 'string' },
    out: { type: 'string', default: 'bench/results' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log(`npm run bench -- [--rows N] [--repeats N] [--sections refresh,cross,chunks,incremental,transform,planning]
                 [--transform-rows N] [--planning-rows N] [--baseline CHECKOUT] [--out DIR]
--baseline: another checkout of pg-fanout (npm ci done there) whose built-in one-worker path is measured side by side.`);
  process.exit(0);
}
const ROWS = Number(flags.rows);
const REPEATS = Number(flags.repeats);
const SECTIONS = new Set(flags.sections.split(','));
const WORK = fileURLToPath(new URL('./results/tmp/', import.meta.url));
const log = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number, d = 2) => n.toFixed(d);
const count = (n: number) => Math.round(n).toLocaleString('en-US');
const databaseUrl = (serverUrl: string, name: string) => Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString();

async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string, params?: unknown[]): Promise<T[]> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** Row count and an order-free hash of every row's text: equal fingerprints, equal row sets. */
async function fingerprint(url: string, query: string): Promise<string> {
  const [r] = await sql<{ n: string; h: string }>(url, `SELECT count(*)::text AS n, coalesce(sum(hashtext(t::text)), 0)::text AS h FROM (${query}) t`);
  return `${r!.n} rows, hash ${r!.h}`;
}

interface Method<R extends PeerResult = PeerResult> {
  readonly name: string;
  prepare(): Promise<void>;
  run(): Promise<R>;
  verify(): Promise<void>;
}

/** Round after round, each method once per round; returns each method's samples. */
async function interleaved<R extends PeerResult>(title: string, methods: readonly Method<R>[]): Promise<R[][]> {
  log(`\n## ${title} (${REPEATS} rounds, interleaved)`);
  const samples = methods.map((): R[] => []);
  for (let round = 1; round <= REPEATS; round++) {
    for (const [i, m] of methods.entries()) {
      await m.prepare();
      const r = await m.run();
      await m.verify();
      samples[i]!.push(r);
      log(`  round ${round}: ${m.name}: ${fmt(r.wallSeconds)} s wall, server CPU ${fmt(r.serverCpuSeconds)} s, client CPU ${fmt(r.clientCpuSeconds)} s`);
    }
  }
  return samples;
}

const summary = (samples: PeerResult[]) => ({
  wall: median(samples.map((s) => s.wallSeconds)),
  minWall: Math.min(...samples.map((s) => s.wallSeconds)),
  maxWall: Math.max(...samples.map((s) => s.wallSeconds)),
  server: median(samples.map((s) => s.serverCpuSeconds)),
  client: median(samples.map((s) => s.clientCpuSeconds)),
});

const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  rows: ROWS,
  repeats: REPEATS,
};
const bars: Bar[] = [];
await mkdir(WORK, { recursive: true });

// ---- the embedded PostgreSQL 18 every same-database section runs on ----
const dataDir = join(WORK, 'pg18');
const pg18 = await startEmbeddedPostgres({ dataDir, persistent: false });
const benchUrl = databaseUrl(pg18.url, 'pgfanout_bench');
await sql(pg18.url, 'DROP DATABASE IF EXISTS pgfanout_bench WITH (FORCE)');
await sql(pg18.url, `CREATE DATABASE pgfanout_bench ENCODING 'UTF8' TEMPLATE template0`);
const version18 = (await sql<{ v: string }>(benchUrl, 'SELECT version() AS v'))[0]!.v.split(',')[0]!;
log(`# pg-fanout benchmark — ${report.date as string}`);
log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; ${version18} (embedded)`);
const ctx18: PeerContext = { sourceUrl: benchUrl, targetUrl: benchUrl, dataDir: resolve(dataDir) };
const env18 = { DATABASE_URL: benchUrl };

async function seedNames(url: string, rows: number): Promise<void> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    await c.query('DROP TABLE IF EXISTS input_table CASCADE');
    await seedInputTable(c as unknown as pg.PoolClient, 'public.input_table', rows);
    await c.query('VACUUM ANALYZE input_table');
  } finally {
    await c.end();
  }
}

async function freshTarget(url: string, shape: 'absent' | 'keyed' | 'unindexed'): Promise<void> {
  await sql(url, 'DROP TABLE IF EXISTS output_table');
  await sql(url, `DO $$ BEGIN IF to_regclass('etl.runs') IS NOT NULL THEN TRUNCATE etl.rejects; DELETE FROM etl.runs; END IF; END $$`);
  if (shape === 'keyed') await sql(url, 'CREATE TABLE output_table (id bigint PRIMARY KEY, first_name text, last_name text, age int)');
  if (shape === 'unindexed') await sql(url, 'CREATE TABLE output_table (id bigint, first_name text, last_name text, age int)');
  await sql(url, 'CHECKPOINT');
}

const needsNames = ['refresh', 'chunks', 'incremental', 'transform'].some((s) => SECTIONS.has(s));
let splitExpected = '';
if (needsNames) {
  log(`seeding ${count(ROWS)} rows (local/seed.ts) …`);
  await seedNames(benchUrl, ROWS);
  splitExpected = await fingerprint(benchUrl, SPLIT_NAME_SELECT);
}
const verifySplit = (url: string) => async () => {
  const got = await fingerprint(url, 'SELECT id, first_name, last_name, age FROM output_table');
  if (got !== splitExpected) throw new Error(`output_table holds ${got}, expected ${splitExpected}`);
  const [pk] = await sql<{ c: string | null }>(url, `SELECT string_agg(a.attname, ',') AS c FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = 'output_table'::regclass AND i.indisprimary`);
  if (pk?.c !== 'id') throw new Error(`output_table's primary key is ${pk?.c ?? 'missing'}`);
};

/** The system's PostgreSQL 15 psql: the peers' client (it speaks to both servers). */
const psqlBinary = () => `${requirePostgresBinaries(15).binDir}/psql`;

const pgFanout = (name: string, args: string[], env: Record<string, string> = env18, targetUrl = benchUrl, data = ctx18.dataDir): Method<PgFanoutResult> => ({
  name,
  prepare: () => freshTarget(targetUrl, 'absent'),
  run: () => runPgFanout({ args: ['local', ...args], env, targetUrl, dataDir: data }),
  verify: verifySplit(targetUrl),
});

// ---- refresh: one database, whole commands ----
if (SECTIONS.has('refresh')) {
  const filter = ensureSplitFilter();
  const tools = { psql: psqlBinary(), filter };
  const methods: Method[] = [
    pgFanout('pg-fanout --mode full', ['--mode', 'full']),
    { name: 'INSERT … SELECT into the keyed target', prepare: () => freshTarget(benchUrl, 'keyed'), run: () => insertSelect(ctx18), verify: verifySplit(benchUrl) },
    { name: 'CREATE TABLE AS + ADD PRIMARY KEY', prepare: () => freshTarget(benchUrl, 'absent'), run: () => createTableAsSelect(ctx18), verify: verifySplit(benchUrl) },
    { name: 'psql COPY | C filter | psql COPY, keyed', prepare: () => freshTarget(benchUrl, 'keyed'), run: () => singlePipe(ctx18, tools), verify: verifySplit(benchUrl) },
    { name: '2 pipes, unindexed, + ADD PRIMARY KEY', prepare: () => freshTarget(benchUrl, 'unindexed'), run: () => twoPipesThenPrimaryKey(ctx18, tools), verify: verifySplit(benchUrl) },
  ];
  const samples = await interleaved(`Full refresh within one database, ${count(ROWS)} rows`, methods);
  const s = samples.map(summary);
  const ours = s[0]!;
  const fan = samples[0] as PgFanoutResult[];
  log(`\n| method | wall s (median) | min – max | ours as × of it | server CPU s | per M rows | client CPU s |`);
  log(`| --- | ---: | ---: | ---: | ---: | ---: | ---: |`);
  methods.forEach((m, i) => log(`| ${m.name} | ${fmt(s[i]!.wall)} | ${fmt(s[i]!.minWall)} – ${fmt(s[i]!.maxWall)} | ${fmt(s[i]!.wall / ours.wall)} | ${fmt(s[i]!.server)} | ${fmt(s[i]!.server / (ROWS / 1e6), 3)} | ${fmt(s[i]!.client)} |`));
  const phases = {
    plan: median(fan.map((r) => r.planSeconds)),
    copy: median(fan.map((r) => r.phases.copySeconds)),
    build: median(fan.map((r) => r.phases.buildSeconds)),
    swap: median(fan.map((r) => r.phases.swapSeconds)),
    run: median(fan.map((r) => r.runSeconds)),
    wall: ours.wall,
  };
  log(`pg-fanout phases (medians): planning ${fmt(phases.plan)} s (${fmt((100 * phases.plan) / phases.run, 1)}% of the run), copy ${fmt(phases.copy)} s, index builds ${fmt(phases.build)} s, swap ${fmt(phases.swap)} s; ` +
    `run ${fmt(phases.run)} s; start-up and shut-down ${fmt(phases.wall - phases.run)} s; verification: in each chunk's transaction (0 s extra); worker peak RSS ${Math.max(...fan.map((r) => r.workerPeakRssMb))} MB`);
  const workerCpu = median(fan.map((r) => r.workerCpuSeconds));
  log(`pg-fanout workers' CPU (medians, module init included): ${fmt(workerCpu)} s, ${fmt(workerCpu / (ROWS / 1e6), 3)} s per M rows`);
  log(`server CPU per M rows: pg-fanout ${fmt(ours.server / (ROWS / 1e6), 3)} s vs the pipe into a keyed target ${fmt(s[3]!.server / (ROWS / 1e6), 3)} s: ${fmt(ours.server / s[3]!.server)} x`);
  report.refresh = { methods: methods.map((m, i) => ({ method: m.name, ...s[i], samples: samples[i] })), phases, workerCpuSeconds: workerCpu };
  methods.forEach((m, i) => bars.push({ label: m.name, rowsPerSecond: ROWS / s[i]!.wall, min: ROWS / s[i]!.maxWall, max: ROWS / s[i]!.minWall }));
}

// ---- cross: two databases of a PostgreSQL 15 server ----
let pg15: SystemPostgres | undefined;
if (SECTIONS.has('cross')) {
  const tool = ensureDebianTool(PGCOPYDB, (l) => log(`  ${l}`));
  if ('missing' in tool) log(`\ncross: pgcopydb is not available (${tool.missing}); skipped`);
  else {
    pg15 = await startSystemPostgres({ major: 15, settings: { max_connections: 200, shared_buffers: '512MB', max_wal_size: '4GB' } });
    const source = databaseUrl(pg15.url, 'cross_source');
    const target = databaseUrl(pg15.url, 'cross_target');
    await sql(pg15.url, `CREATE DATABASE cross_source ENCODING 'UTF8' TEMPLATE template0`);
    log(`\nseeding the same ${count(ROWS)} rows on PostgreSQL 15 (${pg15.dataDir}) …`);
    await seedNames(source, ROWS);
    const sourceFingerprint = await fingerprint(source, SPLIT_NAME_SELECT);
    const copied = await fingerprint(source, 'SELECT id, name, age FROM input_table');
    const emptyTarget = async () => {
      await sql(pg15!.url, 'DROP DATABASE IF EXISTS cross_target WITH (FORCE)');
      await sql(pg15!.url, `CREATE DATABASE cross_target ENCODING 'UTF8' TEMPLATE template0`);
      await sql(pg15!.url, 'CHECKPOINT');
    };
    const ctx15: PeerContext = { sourceUrl: source, targetUrl: target, dataDir: pg15.dataDir };
    const methods: Method[] = [
      {
        name: 'pg-fanout name split, source -> target database',
        prepare: emptyTarget,
        run: () => runPgFanout({ args: ['local', '--mode', 'full'], env: { SOURCE_DATABASE_URL: source, DATABASE_URL: target }, targetUrl: target, dataDir: pg15!.dataDir }),
        verify: async () => {
          const got = await fingerprint(target, 'SELECT id, first_name, last_name, age FROM output_table');
          if (got !== sourceFingerprint) throw new Error(`the target holds ${got}, expected ${sourceFingerprint}`);
        },
      },
      {
        name: 'pgcopydb clone --table-jobs 2 --index-jobs 2 (copy only)',
        prepare: emptyTarget,
        run: () => pgcopydbClone(ctx15, { pgcopydb: tool.path, postgresBinDir: requirePostgresBinaries(15).binDir, workRoot: WORK }),
        verify: async () => {
          const got = await fingerprint(target, 'SELECT id, name, age FROM public.input_table');
          if (got !== copied) throw new Error(`pgcopydb's copy holds ${got}, expected ${copied}`);
        },
      },
    ];
    const samples = await interleaved(`Between two databases of PostgreSQL 15, ${count(ROWS)} rows`, methods);
    const s = samples.map(summary);
    log(`\n| method | wall s (median) | min – max | server CPU s | client CPU s |`);
    log(`| --- | ---: | ---: | ---: | ---: |`);
    methods.forEach((m, i) => log(`| ${m.name} | ${fmt(s[i]!.wall)} | ${fmt(s[i]!.minWall)} – ${fmt(s[i]!.maxWall)} | ${fmt(s[i]!.server)} | ${fmt(s[i]!.client)} |`));
    log(`pg-fanout (with its transform) / pgcopydb (copy only): ${fmt(s[1]!.wall / s[0]!.wall)} x pgcopydb's speed`);
    report.cross = methods.map((m, i) => ({ method: m.name, ...s[i], samples: samples[i] }));
  }
}

// ---- chunks: 10k vs 100k rows per chunk ----
if (SECTIONS.has('chunks')) {
  const methods = [pgFanout('pg-fanout --mode full, 100,000 rows per chunk', ['--mode', 'full', '--chunk-rows', '100000']), pgFanout('pg-fanout --mode full, 10,000 rows per chunk', ['--mode', 'full', '--chunk-rows', '10000'])];
  const samples = await interleaved(`Chunk size, ${count(ROWS)} rows`, methods);
  const s = samples.map(summary);
  const run = samples.map((x) => median(x.map((r) => r.runSeconds)));
  log(`\n| rows per chunk | run s (median) | whole command s | worker peak RSS |`);
  log(`| ---: | ---: | ---: | ---: |`);
  methods.forEach((m, i) => log(`| ${m.name.replace(/.*, /, '')} | ${fmt(run[i]!)} | ${fmt(s[i]!.wall)} | ${Math.max(...samples[i]!.map((r) => r.workerPeakRssMb))} MB |`));
  log(`10k vs 100k rows per chunk: ${fmt(100 * (run[1]! / run[0]! - 1), 1)}% slower (run), ${fmt(100 * (s[1]!.wall / s[0]!.wall - 1), 1)}% (whole command)`);
  report.chunks = methods.map((m, i) => ({ method: m.name, run: run[i], ...s[i], rss: Math.max(...samples[i]!.map((r) => r.workerPeakRssMb)) }));
}

// ---- incremental: 1% changed vs a full run ----
if (SECTIONS.has('incremental')) {
  log(`\n## Incremental: 1% of ${count(ROWS)} rows changed (a third inserted, a third updated, a third deleted) vs a full run (${REPEATS} rounds)`);
  const full: PgFanoutResult[] = [];
  const incremental: PgFanoutResult[] = [];
  const reads: number[] = [];
  const sourceReads = async () => Number((await sql<{ n: string }>(benchUrl,
    `SELECT (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::text AS n FROM pg_stat_user_tables WHERE relid = 'input_table'::regclass`))[0]!.n);
  await freshTarget(benchUrl, 'absent');
  for (let round = 1; round <= REPEATS; round++) {
    await sql(benchUrl, `DO $$ BEGIN IF to_regclass('etl.runs') IS NOT NULL THEN TRUNCATE etl.rejects; DELETE FROM etl.runs; END IF; END $$`);
    await sql(benchUrl, 'DROP TABLE IF EXISTS output_table');
    await sql(benchUrl, 'CHECKPOINT');
    full.push(await runPgFanout({ args: ['local', '--mode', 'full'], env: env18, targetUrl: benchUrl, dataDir: ctx18.dataDir }));
    const third = Math.round(ROWS / 300);
    const [{ max }] = (await sql<{ max: string }>(benchUrl, 'SELECT max(id)::text AS max FROM input_table')) as [{ max: string }];
    await sql(benchUrl, `INSERT INTO input_table SELECT $1::bigint + g, 'New' || g || ' Row', g % 90 FROM generate_series(1, $2::int) g`, [max, third]);
    await sql(benchUrl, `UPDATE input_table SET age = coalesce(age, 0) + 1 WHERE id IN (SELECT id FROM input_table TABLESAMPLE BERNOULLI (0.34) REPEATABLE (${round}) LIMIT $1)`, [third]);
    await sql(benchUrl, `DELETE FROM input_table WHERE id IN (SELECT id FROM input_table TABLESAMPLE BERNOULLI (0.34) REPEATABLE (${round + 100}) LIMIT $1)`, [third]);
    await sql(benchUrl, 'CHECKPOINT');
    const before = await sourceReads();
    const inc = await runPgFanout({ args: ['local'], env: env18, targetUrl: benchUrl, dataDir: ctx18.dataDir });
    if (!/incremental/.test(inc.summary)) throw new Error(`expected an incremental run:\n${inc.summary}`);
    reads.push((await sourceReads()) - before);
    incremental.push(inc);
    splitExpected = await fingerprint(benchUrl, SPLIT_NAME_SELECT);
    await verifySplit(benchUrl)();
    log(`  round ${round}: full ${fmt(full.at(-1)!.wallSeconds)} s (run ${fmt(full.at(-1)!.runSeconds)} s), incremental ${fmt(inc.wallSeconds)} s (run ${fmt(inc.runSeconds)} s), source rows read ${count(reads.at(-1)!)}`);
  }
  const f = summary(full);
  const i = summary(incremental);
  const fr = median(full.map((r) => r.runSeconds));
  const ir = median(incremental.map((r) => r.runSeconds));
  log(`incremental / full: ${fmt((100 * i.wall) / f.wall, 1)}% (whole command, medians ${fmt(i.wall)} / ${fmt(f.wall)} s), ${fmt((100 * ir) / fr, 1)}% (run); source rows read per incremental run: ${count(median(reads))} (the whole table, by key ranges); server CPU ${fmt(i.server)} vs ${fmt(f.server)} s`);
  report.incremental = { full: f, incremental: i, fullRun: fr, incrementalRun: ir, sourceRowsRead: reads, samples: { full, incremental } };
  // The next sections want the original rows back.
  if (SECTIONS.has('transform')) {
    await seedNames(benchUrl, ROWS);
    splitExpected = await fingerprint(benchUrl, SPLIT_NAME_SELECT);
  }
}

// ---- transform: one worker, a user pipeline over 12 columns, and the built-in name split ----
if (SECTIONS.has('transform')) {
  const rows = Number(flags['transform-rows']);
  log(`\n## One worker: rows/s of its chunk (extract, transform, load), ${count(rows)} rows in one chunk (${REPEATS} rounds)`);
  await seedWide(benchUrl, rows);
  // The baseline checkout keeps its own ledger (an older schema) in a database of its own on the same server.
  const baselineUrl = databaseUrl(pg18.url, 'pgfanout_baseline');
  if (flags.baseline !== undefined && rows <= ROWS) {
    await sql(pg18.url, 'DROP DATABASE IF EXISTS pgfanout_baseline WITH (FORCE)');
    await sql(pg18.url, `CREATE DATABASE pgfanout_baseline ENCODING 'UTF8' TEMPLATE template0`);
    await seedNames(baselineUrl, ROWS);
  }
  const perWorker = async (args: string[], cli?: string) => {
    const url = cli === undefined ? benchUrl : baselineUrl;
    const r = await runPgFanout({ args: ['local', '--concurrency', '1', '--chunk-rows', String(rows), ...args], env: { DATABASE_URL: url }, targetUrl: url, dataDir: ctx18.dataDir, ...(cli ? { cli } : {}) });
    const [c] = await sql<{ n: string; ms: number }>(url, `SELECT sum(rows_read)::text AS n, sum(duration_ms)::int AS ms FROM etl.chunks WHERE run_id = $1`, [r.runId]);
    return { rowsPerSecond: Number(c!.n) / (c!.ms / 1000), rss: r.workerPeakRssMb };
  };
  const psql = psqlBinary();
  const wide: number[] = [];
  const floor: number[] = [];
  const builtin: number[] = [];
  const baseline: number[] = [];
  for (let round = 1; round <= REPEATS; round++) {
    await sql(benchUrl, 'DROP TABLE IF EXISTS wide_out');
    await sql(benchUrl, `DO $$ BEGIN IF to_regclass('etl.runs') IS NOT NULL THEN TRUNCATE etl.rejects; DELETE FROM etl.runs; END IF; END $$`);
    wide.push((await perWorker(['--mode', 'full', '--pipeline', WIDE_PIPELINE])).rowsPerSecond);
    floor.push(await wideCopyFloor(psql, benchUrl, rows));
    if (rows <= ROWS) {
      await freshTarget(benchUrl, 'keyed');
      builtin.push((await perWorker(['--mode', 'full', '--in-place'])).rowsPerSecond);
      if (flags.baseline !== undefined) {
        await freshTarget(baselineUrl, 'keyed');
        baseline.push((await perWorker(['--mode', 'full'], join(resolve(flags.baseline), 'local/cli.ts'))).rowsPerSecond);
      }
    }
    log(`  round ${round}: user pipeline, 12 columns ${count(wide.at(-1)!)} rows/s (psql COPY | psql COPY of those columns, no transform: ${count(floor.at(-1)!)}); built-in ${builtin.length ? count(builtin.at(-1)!) : '-'}${baseline.length ? `; built-in, baseline checkout ${count(baseline.at(-1)!)}` : ''} rows/s`);
  }
  log(`one worker, medians: user pipeline over 12 columns ${count(median(wide))} rows/s, ${fmt((100 * median(wide)) / median(floor), 1)}% of what PostgreSQL alone moves ` +
    `(psql COPY | psql COPY of the same columns into an unindexed table, no transform: ${count(median(floor))} rows/s); built-in name split (into the keyed target) ${builtin.length ? count(median(builtin)) : '-'} rows/s` +
    (baseline.length ? `; the same with ${flags.baseline}: ${count(median(baseline))} rows/s (${fmt(median(builtin) / median(baseline))} x)` : ''));
  report.transform = { rows, wide, floor, builtin, baseline, baselineCheckout: flags.baseline };
}

// ---- planning ----
if (SECTIONS.has('planning')) {
  const rows = Number(flags['planning-rows']);
  log(`\n## Planning ${count(rows)} skewed keys (99% in one dense block, 1% spread to 1e15), 100,000 rows per chunk`);
  await sql(benchUrl, 'DROP TABLE IF EXISTS plan_input');
  await sql(benchUrl, `CREATE TABLE plan_input (id bigint PRIMARY KEY, name text, age int)`);
  await sql(benchUrl, `INSERT INTO plan_input SELECT g, NULL, NULL FROM generate_series(1, $1::bigint) g`, [Math.round(rows * 0.99)]);
  await sql(benchUrl, `INSERT INTO plan_input SELECT 1000000000 + g * (1000000000000000 / $1::bigint), NULL, NULL FROM generate_series(1, $1::bigint) g`, [Math.round(rows * 0.01)]);
  await sql(benchUrl, 'VACUUM ANALYZE plan_input');
  const opened = await openPipeline(loadConfig({ DATABASE_URL: benchUrl, SOURCE_TABLE: 'public.plan_input', TARGET_TABLE: 'public.plan_output' }), { applicationName: 'bench', sourceConnections: 1, targetConnections: 1 });
  const times: { sampled: number[]; exact: number[] } = { sampled: [], exact: [] };
  let chunks = 0;
  let sizes = { min: 0, max: 0 };
  for (let round = 1; round <= REPEATS; round++) {
    for (const mode of ['sampled', 'exact'] as const) {
      const t0 = performance.now();
      const plan = await poolClient(opened.source, (c) => planSource(c, opened.pipeline, 100_000, mode === 'exact' ? { exactBelowRows: Number.MAX_SAFE_INTEGER } : {}));
      times[mode].push((performance.now() - t0) / 1000);
      if (mode === 'sampled') {
        chunks = plan.chunkStarts.length + 1;
        const bounds = [null, ...plan.chunkStarts.map((k) => k[0]!), null];
        const counts: number[] = [];
        for (let i = 0; i + 1 < bounds.length; i++) {
          const [r] = await sql<{ n: number }>(benchUrl, `SELECT count(*)::int AS n FROM plan_input WHERE ($1::bigint IS NULL OR id >= $1::bigint) AND ($2::bigint IS NULL OR id < $2::bigint)`, [bounds[i], bounds[i + 1]]);
          counts.push(r!.n);
        }
        sizes = { min: Math.min(...counts), max: Math.max(...counts) };
      }
    }
  }
  log(`sampled: ${chunks} chunks (${count(sizes.min)} – ${count(sizes.max)} rows; a worker splits any above 200,000) in ${fmt(median(times.sampled), 3)} s; the exact pass (every key) ${fmt(median(times.exact))} s`);
  report.planning = { rows, chunks, sizes, sampledSeconds: median(times.sampled), exactSeconds: median(times.exact), times };
  await opened.source.end();
  await opened.target.end();
}

await mkdir(flags.out, { recursive: true });
await writeFile(`${flags.out}/latest.json`, `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
if (bars.length > 0) await writeFile(`${flags.out}/latest.svg`, barChartSvg(`Full refresh, ${count(ROWS)} rows, one database (${cpus().length} cores)`, bars));
log(`\nwrote ${flags.out}/latest.json${bars.length ? ' and latest.svg' : ''}`);
await pg15?.stop();
await pg18.stop();
process.exit(0);
