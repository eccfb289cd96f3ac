// `npm run bench`: pg-fanout end to end (the same path as `npm start`) against the in-database
// INSERT … SELECT and a naive client loop, on the same data in the same run, with repeats. Also a
// chunk-size sweep (rows/s and worker peak RSS) and planning time on 10M skewed keys.
// Writes bench/results/latest.json and bench/results/latest.svg. Never part of `npm test`.
import { spawn } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { seedInputTable } from '../local/seed.ts';
import { nameSplitPipeline } from '../lambdas/pipeline/builtin-name-split.ts';
import { resolvePipeline } from '../lambdas/pipeline/resolve-pipeline.ts';
import { planSource } from '../lambdas/coordinator/plan-source.ts';
import { planChunks } from '../lambdas/coordinator/plan.ts';
import { inDatabaseInsertSelect, naiveClientLoop } from './baselines.ts';
import { barChartSvg, type Bar } from './chart.ts';
import { cpuSnapshot } from './cpu.ts';
import { openScratchDatabase } from './scratch-database.ts';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '2000000' },
    repeats: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1,2,4' },
    'chunk-sizes': { type: 'string', default: '10000,100000,1000000' },
    'chunk-rows': { type: 'string', default: '100000' },
    'planning-rows': { type: 'string', default: '10000000' },
    'skip-naive': { type: 'boolean', default: false },
    out: { type: 'string', default: 'bench/results' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log(`npm run bench -- [--rows N] [--repeats N] [--concurrency 1,2,4] [--chunk-sizes 10000,100000,1000000]
                 [--chunk-rows N] [--planning-rows N] [--skip-naive] [--out DIR]
Uses DATABASE_URL's server when set (a database pgfanout_bench is created there), else an embedded PostgreSQL.`);
  process.exit(0);
}
const ROWS = Number(flags.rows);
const REPEATS = Number(flags.repeats);
const CLI = fileURLToPath(new URL('../local/cli.ts', import.meta.url));

interface Sample {
  /** pg-fanout: from the coordinator's invocation to the last chunk's commit (planning, enqueue, copy). */
  seconds: number;
  rowsPerSecond: number;
  /** pg-fanout: plus the deep verification (--verify). */
  verifiedSeconds?: number;
  serverCpuSeconds: number;
  clientCpuSeconds: number;
  wallSeconds?: number;
  workerPeakRssMb?: number;
}
interface Measurement {
  method: string;
  concurrency?: number;
  chunkRows?: number;
  /** Set when the run forced a batch size instead of the default. */
  batchSize?: number;
  samples: Sample[];
  median: number;
  min: number;
  max: number;
  ratioToInDatabase?: number;
  /** rows/s counting the deep verification too, and counting the whole command (process start-up, embedded SQS, shut-down). */
  verifiedMedian?: number;
  wallMedian?: number;
}

const log = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const scratch = await openScratchDatabase('pgfanout_bench');
const { client: db, url: benchUrl } = scratch;
const version = (await db.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v;

log(`# pg-fanout benchmark — ${new Date().toISOString()}`);
log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
log(`database: ${version.split(',')[0]} (${scratch.origin})`);
log(`seeding ${ROWS.toLocaleString('en-US')} rows …`);
await seedInputTable(db as unknown as pg.PoolClient, 'public.input_table', ROWS);
await db.query(`CREATE TABLE output_table (id bigint PRIMARY KEY, first_name text, last_name text, age int)`);
await db.query('VACUUM ANALYZE input_table');

async function reset(): Promise<void> {
  await db.query('TRUNCATE output_table');
  await db.query(`DO $$ BEGIN IF to_regclass('etl.rejects') IS NOT NULL THEN TRUNCATE etl.rejects; UPDATE etl.runs SET status = 'cancelled' WHERE status = 'running'; END IF; END $$`);
  await db.query('CHECKPOINT');
}

async function timed(fn: () => Promise<Partial<Sample> | void>): Promise<Sample> {
  await reset();
  const cpu0 = cpuSnapshot();
  const t0 = performance.now();
  const extra = (await fn()) ?? {};
  const wall = (performance.now() - t0) / 1000;
  const cpu1 = cpuSnapshot();
  const seconds = extra.seconds ?? wall;
  return {
    seconds,
    rowsPerSecond: ROWS / seconds,
    serverCpuSeconds: cpu1.server - cpu0.server,
    clientCpuSeconds: cpu1.client - cpu0.client,
    wallSeconds: wall,
    ...(extra.verifiedSeconds !== undefined ? { verifiedSeconds: extra.verifiedSeconds } : {}),
    ...(extra.workerPeakRssMb !== undefined ? { workerPeakRssMb: extra.workerPeakRssMb } : {}),
  };
}

async function pgFanoutRun(concurrency: number, chunkRows: number, batchSize?: number): Promise<Partial<Sample>> {
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', CLI, 'local', '--mode', 'full', '--in-place', '--verify', '--concurrency', String(concurrency), '--chunk-rows', String(chunkRows), ...(batchSize === undefined ? [] : ['--batch-size', String(batchSize)])], {
      env: { ...process.env, DATABASE_URL: benchUrl, LOG_LEVEL: 'error' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`pg-fanout exited ${code}: ${stderr}\n${stdout}`))));
  });
  const runId = /run ([0-9a-f-]{36}): completed/.exec(out)?.[1];
  if (!runId || !/deep verification: exact/.test(out)) throw new Error(`pg-fanout did not complete exactly:\n${out}`);
  const times = /run ([\d.]+)s at .*verified in ([\d.]+)s/.exec(out);
  if (!times) throw new Error(`no run timing in pg-fanout's summary:\n${out}`);
  const rss = Number(/worker peak RSS (\d+) MB/.exec(out)?.[1] ?? Number.NaN);
  return { seconds: Number(times[1]), verifiedSeconds: Number(times[1]) + Number(times[2]), workerPeakRssMb: rss };
}

interface Candidate {
  method: string;
  fn: () => Promise<Partial<Sample> | void>;
  extra?: Partial<Measurement>;
}

/**
 * Repeats interleaved: round after round, each candidate once per round, so a slow spell of this
 * shared machine falls on all of them alike instead of on whichever ran then.
 */
async function measureSideBySide(candidates: Candidate[]): Promise<Measurement[]> {
  const samples = candidates.map((): Sample[] => []);
  for (let round = 0; round < REPEATS; round += 1) {
    for (const [i, c] of candidates.entries()) samples[i]!.push(await timed(c.fn));
  }
  return candidates.map((c, i) => summarize(c.method, samples[i]!, c.extra));
}

function summarize(method: string, samples: Sample[], extra: Partial<Measurement> = {}): Measurement {
  const rates = samples.map((s) => s.rowsPerSecond);
  const m: Measurement = { method, ...extra, samples, median: median(rates), min: Math.min(...rates), max: Math.max(...rates) };
  const cpu = samples.map((s) => `server ${s.serverCpuSeconds.toFixed(1)}s / client ${s.clientCpuSeconds.toFixed(1)}s`)[Math.floor(samples.length / 2)];
  const rss = samples.some((s) => s.workerPeakRssMb !== undefined) ? `, worker peak RSS ${Math.max(...samples.map((s) => s.workerPeakRssMb ?? 0))} MB` : '';
  if (samples[0]?.verifiedSeconds !== undefined) {
    m.verifiedMedian = median(samples.map((s) => ROWS / s.verifiedSeconds!));
    m.wallMedian = median(samples.map((s) => ROWS / s.wallSeconds!));
  }
  log(`  ${method.padEnd(42)} ${Math.round(m.median).toLocaleString('en-US').padStart(10)} rows/s  (min ${Math.round(m.min).toLocaleString('en-US')}, max ${Math.round(m.max).toLocaleString('en-US')}; ${cpu} CPU${rss})`);
  return m;
}

log(`\n## Methods (${REPEATS} rounds, each method once per round; median rows/s; each on a freshly emptied target)`);
const chunkRows = Number(flags['chunk-rows']);
const results = await measureSideBySide([
  { method: 'in-database INSERT … SELECT', fn: async () => { await inDatabaseInsertSelect(db); } },
  ...(flags['skip-naive'] ? [] : [{ method: 'naive client (SELECT pages + INSERT)', fn: async () => { await naiveClientLoop(db); } }]),
  ...flags.concurrency.split(',').map(Number).map((c) => ({ method: `pg-fanout end to end, concurrency ${c}`, fn: () => pgFanoutRun(c, chunkRows), extra: { concurrency: c, chunkRows } })),
]);
const inDb = results[0]!;
for (const m of results) m.ratioToInDatabase = m.median / inDb.median;

log(`\n## Ratios to the in-database INSERT … SELECT (run = planning + enqueue + copy; + verify = with the deep verification; command = the whole CLI process)`);
for (const m of results) {
  const more = m.verifiedMedian !== undefined ? `   (+ verify ${(m.verifiedMedian / inDb.median).toFixed(2)} x, command ${(m.wallMedian! / inDb.median).toFixed(2)} x)` : '';
  log(`  ${m.method.padEnd(42)} ${m.ratioToInDatabase!.toFixed(2)} x${more}`);
}

log(`\n## Chunk size sweep (pg-fanout, concurrency 2, default batch size; ${REPEATS} rounds, interleaved)`);
const smallest = Math.min(...flags['chunk-sizes'].split(',').map(Number));
const sweepAndSingle = await measureSideBySide([
  ...flags['chunk-sizes'].split(',').map(Number).map((size) => ({ method: `pg-fanout, ${size.toLocaleString('en-US')} rows per chunk`, fn: () => pgFanoutRun(2, size), extra: { concurrency: 2, chunkRows: size } })),
  // What a batch transaction brings: the smallest chunks again, one chunk per invocation and transaction.
  { method: `pg-fanout, ${smallest.toLocaleString('en-US')} rows per chunk, batch size 1`, fn: () => pgFanoutRun(2, smallest, 1), extra: { concurrency: 2, chunkRows: smallest, batchSize: 1 } },
  { method: 'one worker, 1,000,000 rows per chunk', fn: () => pgFanoutRun(1, 1_000_000), extra: { concurrency: 1, chunkRows: 1_000_000 } },
]);
const single = sweepAndSingle.at(-1)!;
const unbatched = sweepAndSingle.at(-2)!;
const sweep = sweepAndSingle.slice(0, -2);
const at = (n: number) => sweep.find((m) => m.chunkRows === n);
if (at(10_000) && at(100_000)) log(`  10k vs 100k rows per chunk: ${((1 - at(10_000)!.median / at(100_000)!.median) * 100).toFixed(1)}% slower`);

log(`\n## Planning ${Number(flags['planning-rows']).toLocaleString('en-US')} skewed keys (99% dense, 1% spread to 1e15)`);
const planningRows = Number(flags['planning-rows']);
await db.query(`CREATE TABLE plan_input (id bigint PRIMARY KEY, name text, age int)`);
await db.query(`INSERT INTO plan_input SELECT g, NULL, NULL FROM generate_series(1, $1::bigint) g`, [Math.round(planningRows * 0.99)]);
await db.query(`INSERT INTO plan_input SELECT 1000000000 + g * (1000000000000000 / $1::bigint), NULL, NULL FROM generate_series(1, $1::bigint) g`, [Math.round(planningRows * 0.01)]);
await db.query('VACUUM ANALYZE plan_input');
const client = db as unknown as pg.PoolClient;
const planned = await resolvePipeline(client, client, nameSplitPipeline({ sourceTable: 'plan_input', targetTable: 'output_table', keyColumn: 'id' }), { sameDatabase: true });
const planTimes: number[] = [];
let chunkCount = 0;
for (let i = 0; i < REPEATS; i += 1) {
  const t0 = performance.now();
  const source = await planSource(client, planned, chunkRows);
  const chunks = planChunks({ domainLo: null, domainHi: null, chunkStarts: source.chunkStarts, totalRows: source.totalRows, rowsPerChunk: source.rowsPerChunk });
  planTimes.push((performance.now() - t0) / 1000);
  chunkCount = chunks.length;
}
const planning = { rows: planningRows, chunkRows, chunks: chunkCount, medianSeconds: median(planTimes), minSeconds: Math.min(...planTimes), maxSeconds: Math.max(...planTimes) };
log(`  ${chunkCount} chunks of ${chunkRows.toLocaleString('en-US')} rows planned in ${planning.medianSeconds.toFixed(2)} s (median; min ${planning.minSeconds.toFixed(2)}, max ${planning.maxSeconds.toFixed(2)})`);

await mkdir(flags.out, { recursive: true });
const report = { date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, database: version }, rows: ROWS, repeats: REPEATS, results, sweep, unbatchedSmallestChunks: unbatched, singleWorker: single, planning };
await writeFile(`${flags.out}/latest.json`, `${JSON.stringify(report, null, 2)}\n`);
const bars: Bar[] = [...results, ...sweep.filter((m) => m.chunkRows !== chunkRows || m.concurrency !== 2)].map((m) => ({
  label: m.chunkRows !== undefined && m.chunkRows !== chunkRows ? `pg-fanout c=2, ${m.chunkRows.toLocaleString('en-US')}/chunk` : m.method.replace('pg-fanout end to end, concurrency ', 'pg-fanout, concurrency '),
  rowsPerSecond: m.median, min: m.min, max: m.max,
}));
await writeFile(`${flags.out}/latest.svg`, barChartSvg(`pg-fanout vs baselines, ${ROWS.toLocaleString('en-US')} rows (${cpus().length} cores)`, bars));
log(`\nwrote ${flags.out}/latest.json and ${flags.out}/latest.svg`);
await scratch.close();
process.exit(0);
