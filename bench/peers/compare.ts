// `npm run bench:peers`: whole commands a user could run instead of pg-fanout, side by side on the
// same seeded rows, each on a freshly prepared target: wall time, the database server's CPU (every
// server process, exited backends included) and the client side's CPU. Methods 1–4 split names on
// the embedded PostgreSQL 18 (or DATABASE_URL's server, if it runs on this machine); 5–6 copy the
// same rows untransformed between two databases of a PostgreSQL 15 started from the system's
// binaries, since Debian's pgcopydb 0.10 and pgloader 3.6 do not know PostgreSQL 18.
// See bench/peers/README.md. Never part of `npm test`.
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { seedInputTable } from '../../local/seed.ts';
import { findPostgresBinaries, requirePostgresBinaries, startSystemPostgres, withConnection, type SystemPostgres } from '../../local/system-postgres.ts';
import { SPLIT_NAME_SELECT } from '../baselines.ts';
import { openScratchDatabase } from '../scratch-database.ts';
import { singlePipe, twoPipesThenPrimaryKey } from './copy-pipe.ts';
import { createTableAsSelect, insertSelect } from './in-database.ts';
import { ensureDebianTool, PGCOPYDB, PGLOADER } from './install.ts';
import type { PeerContext, PeerResult } from './measure.ts';
import { pgcopydbClone } from './pgcopydb.ts';
import { pgloaderLoad } from './pgloader.ts';
import { ensureSplitFilter } from './split-filter.ts';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    repeats: { type: 'string', default: '1' },
    methods: { type: 'string', default: '1,2,3,4,5,6' },
    out: { type: 'string', default: 'bench/results' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log(`npm run bench:peers -- [--rows N] [--repeats N] [--methods 1,2,3,4,5,6] [--out DIR]
Methods 1-4 on the embedded PostgreSQL 18 (or DATABASE_URL's server, on this machine); 5-6 on a PostgreSQL 15
started from /usr/lib/postgresql/15/bin. pgcopydb and pgloader are installed with apt-get when missing.`);
  process.exit(0);
}
const ROWS = Number(flags.rows);
const REPEATS = Number(flags.repeats);
const WANTED = new Set(flags.methods.split(',').map(Number));
const WORK_ROOT = fileURLToPath(new URL('../results/tmp/', import.meta.url));
const PG15 = 15;
const log = (s: string) => process.stdout.write(`${s}\n`);

// The settings of the embedded server (local/embedded-postgres.ts), so both servers work alike.
const SERVER_SETTINGS = { max_connections: 200, shared_buffers: '512MB', max_wal_size: '4GB', fsync: 'on' };

const databaseUrl = (serverUrl: string, name: string) => Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString();

/** Row count and an order-free hash of every row's text: equal fingerprints, equal row sets. */
async function fingerprint(url: string, sql: string): Promise<string> {
  return withConnection(url, async (c) => {
    const r = await c.query<{ n: string; h: string }>(`SELECT count(*)::text AS n, coalesce(sum(hashtext(t::text)), 0)::text AS h FROM (${sql}) t`);
    return `${r.rows[0]!.n} rows, hash ${r.rows[0]!.h}`;
  });
}

async function primaryKeyColumns(url: string, table: string): Promise<string> {
  return withConnection(url, async (c) => {
    const r = await c.query<{ cols: string | null }>(
      `SELECT string_agg(a.attname, ',') AS cols FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = to_regclass($1) AND i.indisprimary`,
      [table],
    );
    return r.rows[0]!.cols ?? 'none';
  });
}

interface Method {
  readonly no: number;
  readonly name: string;
  readonly server: string;
  /** Makes the target fresh; not measured. */
  prepare(): Promise<void>;
  run(): Promise<PeerResult>;
  /** Throws unless the target holds exactly the expected rows under a primary key on id. */
  verify(): Promise<void>;
}

// --- PostgreSQL 18: the database pg-fanout's own benchmark uses ---
const scratch = await openScratchDatabase('pgfanout_peers');
const pg18Version = (await scratch.client.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v.split(',')[0]!;
const pg18DataDir = (await scratch.client.query<{ d: string }>(`SELECT current_setting('data_directory') AS d`)).rows[0]!.d;
log(`# pg-fanout peers — ${new Date().toISOString()}`);
log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
log(`methods 1-4: ${pg18Version} (${scratch.origin})`);
log(`seeding ${ROWS.toLocaleString('en-US')} rows (local/seed.ts) …`);
await seedInputTable(scratch.client as unknown as pg.PoolClient, 'public.input_table', ROWS);
await scratch.client.query('VACUUM ANALYZE input_table');
const splitExpected = await fingerprint(scratch.url, SPLIT_NAME_SELECT);
const pg18: PeerContext = { sourceUrl: scratch.url, targetUrl: scratch.url, dataDir: pg18DataDir };

const methods: Method[] = [];
const unavailable: string[] = [];

async function prepareOutputTable(shape: 'keyed' | 'unindexed' | 'absent'): Promise<void> {
  await scratch.client.query('DROP TABLE IF EXISTS output_table');
  if (shape === 'keyed') await scratch.client.query('CREATE TABLE output_table (id bigint PRIMARY KEY, first_name text, last_name text, age int)');
  if (shape === 'unindexed') await scratch.client.query('CREATE TABLE output_table (id bigint, first_name text, last_name text, age int)');
  await scratch.client.query('CHECKPOINT');
}

async function verifySplit(): Promise<void> {
  const got = await fingerprint(scratch.url, 'SELECT id, first_name, last_name, age FROM output_table');
  if (got !== splitExpected) throw new Error(`output_table holds ${got}, expected ${splitExpected}`);
  const pk = await primaryKeyColumns(scratch.url, 'output_table');
  if (pk !== 'id') throw new Error(`output_table's primary key is ${pk}, expected id`);
}

const psql = findPostgresBinaries() ? `${findPostgresBinaries()!.binDir}/psql` : 'psql';
const filter = WANTED.has(3) || WANTED.has(4) ? ensureSplitFilter() : '';
const pipeTools = { psql, filter };
const psqlVersion = spawnSync(psql, ['--version'], { encoding: 'utf8' }).stdout.trim();
const add = (m: Omit<Method, 'server'>, server: string) => {
  if (WANTED.has(m.no)) methods.push({ ...m, server });
};
add({ no: 1, name: 'INSERT … SELECT into the keyed target', prepare: () => prepareOutputTable('keyed'), run: () => insertSelect(pg18), verify: verifySplit }, 'PG 18');
add({ no: 2, name: 'CREATE TABLE AS SELECT + ADD PRIMARY KEY', prepare: () => prepareOutputTable('absent'), run: () => createTableAsSelect(pg18), verify: verifySplit }, 'PG 18');
add({ no: 3, name: 'psql COPY → C filter → psql COPY, keyed target', prepare: () => prepareOutputTable('keyed'), run: () => singlePipe(pg18, pipeTools), verify: verifySplit }, 'PG 18');
add({ no: 4, name: '2 such pipes on key halves, unindexed, + ADD PK', prepare: () => prepareOutputTable('unindexed'), run: () => twoPipesThenPrimaryKey(pg18, pipeTools), verify: verifySplit }, 'PG 18');

// --- PostgreSQL 15 from the system's binaries: what pgcopydb 0.10 and pgloader 3.6 support ---
let pg15: SystemPostgres | undefined;
if (WANTED.has(5) || WANTED.has(6)) {
  const pgcopydb = WANTED.has(5) ? ensureDebianTool(PGCOPYDB, (l) => log(`  ${l}`)) : undefined;
  const pgloader = WANTED.has(6) ? ensureDebianTool(PGLOADER, (l) => log(`  ${l}`)) : undefined;
  pg15 = await startSystemPostgres({ major: PG15, settings: SERVER_SETTINGS });
  const pg15Version = await withConnection(pg15.url, async (c) => (await c.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v.split(',')[0]!);
  log(`methods 5-6: ${pg15Version} (system binaries, ${pg15.dataDir}); seeding the same ${ROWS.toLocaleString('en-US')} rows …`);
  const source = databaseUrl(pg15.url, 'peers_source');
  const target = databaseUrl(pg15.url, 'peers_target');
  await withConnection(pg15.url, (c) => c.query(`CREATE DATABASE peers_source ENCODING 'UTF8' TEMPLATE template0`));
  await withConnection(source, async (c) => {
    await seedInputTable(c as unknown as pg.PoolClient, 'public.input_table', ROWS);
    await c.query('VACUUM ANALYZE input_table');
  });
  const copyExpected = await fingerprint(source, 'SELECT id, name, age FROM input_table');
  const sameRowsAsPg18 = await fingerprint(scratch.url, 'SELECT id, name, age FROM input_table');
  if (copyExpected !== sameRowsAsPg18) throw new Error(`the PG 15 seed (${copyExpected}) differs from the PG 18 seed (${sameRowsAsPg18})`);
  const server = pg15;
  const context: PeerContext = { sourceUrl: source, targetUrl: target, dataDir: server.dataDir };
  const prepareEmptyTarget = () =>
    withConnection(server.url, async (c) => {
      await c.query('DROP DATABASE IF EXISTS peers_target WITH (FORCE)');
      await c.query(`CREATE DATABASE peers_target ENCODING 'UTF8' TEMPLATE template0`);
      await c.query('CHECKPOINT');
    });
  const verifyCopy = async () => {
    const got = await fingerprint(target, 'SELECT id, name, age FROM public.input_table');
    if (got !== copyExpected) throw new Error(`the target's input_table holds ${got}, expected ${copyExpected}`);
    const pk = await primaryKeyColumns(target, 'public.input_table');
    if (pk !== 'id') throw new Error(`the target's input_table primary key is ${pk}, expected id`);
  };
  await mkdir(WORK_ROOT, { recursive: true });
  const binDir = requirePostgresBinaries(PG15).binDir;
  if (pgcopydb && 'missing' in pgcopydb) unavailable.push(`5 pgcopydb: ${pgcopydb.missing}`);
  else if (pgcopydb) add({ no: 5, name: 'pgcopydb clone --table-jobs 2 --index-jobs 2', prepare: prepareEmptyTarget, run: () => pgcopydbClone(context, { pgcopydb: pgcopydb.path, postgresBinDir: binDir, workRoot: WORK_ROOT }), verify: verifyCopy }, 'PG 15');
  if (pgloader && 'missing' in pgloader) unavailable.push(`6 pgloader: ${pgloader.missing}`);
  else if (pgloader) add({ no: 6, name: 'pgloader (minimal load file)', prepare: prepareEmptyTarget, run: () => pgloaderLoad(context, { pgloader: pgloader.path, workRoot: WORK_ROOT }), verify: verifyCopy }, 'PG 15');
}
log(`psql for the pipes: ${psqlVersion}`);

// --- the runs: round after round, each method once per round ---
interface Outcome {
  method: Method;
  samples: PeerResult[];
  error?: string;
}
const outcomes: Outcome[] = methods.map((method) => ({ method, samples: [] }));
for (let round = 0; round < REPEATS; round += 1) {
  for (const outcome of outcomes) {
    if (outcome.error !== undefined) continue;
    const { method } = outcome;
    try {
      await method.prepare();
      const result = await method.run();
      await method.verify();
      outcome.samples.push(result);
      log(`  round ${round + 1}: ${method.no} ${method.name}: ${result.wallSeconds.toFixed(2)} s wall, ${result.serverCpuSeconds.toFixed(2)} s server CPU, ${result.clientCpuSeconds.toFixed(2)} s client CPU`);
    } catch (error) {
      outcome.error = error instanceof Error ? error.message : String(error);
      log(`  round ${round + 1}: ${method.no} ${method.name}: FAILED: ${outcome.error}`);
    }
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const table: string[] = [];
table.push(`\n## ${ROWS.toLocaleString('en-US')} rows, ${REPEATS === 1 ? 'one run each' : `median of ${REPEATS} runs`}; CPU in seconds (server: every process of the instance; client: psql, filter, pgcopydb, pgloader, pg_dump, …)`);
table.push(`| # | method | server | wall s | server CPU s | client CPU s | input rows/s |`);
table.push(`|---|---|---|---:|---:|---:|---:|`);
for (const { method, samples, error } of outcomes) {
  if (samples.length === 0) {
    table.push(`| ${method.no} | ${method.name} | ${method.server} | failed | | | |`);
    continue;
  }
  const wall = median(samples.map((s) => s.wallSeconds));
  const server = median(samples.map((s) => s.serverCpuSeconds));
  const client = median(samples.map((s) => s.clientCpuSeconds));
  table.push(`| ${method.no} | ${method.name} | ${method.server} | ${wall.toFixed(2)} | ${server.toFixed(2)} | ${client.toFixed(2)} | ${Math.round(ROWS / wall).toLocaleString('en-US')} |${error ? ` (a later round failed)` : ''}`);
}
for (const u of unavailable) table.push(`not run: ${u}`);
for (const { method, error } of outcomes) if (error !== undefined) table.push(`failed: ${method.no} ${method.name}: ${error}`);
log(table.join('\n'));

await mkdir(flags.out, { recursive: true });
const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  rows: ROWS,
  repeats: REPEATS,
  servers: { methods1to4: pg18Version, methods5to6: pg15 ? `PostgreSQL ${PG15} (system)` : undefined },
  psql: psqlVersion,
  results: outcomes.map(({ method, samples, error }) => ({ no: method.no, method: method.name, server: method.server, samples, error })),
  unavailable,
};
await writeFile(`${flags.out}/peers.json`, `${JSON.stringify(report, null, 2)}\n`);
log(`\nwrote ${flags.out}/peers.json`);

await pg15?.stop();
await scratch.close();
process.exit(outcomes.some((o) => o.error !== undefined) ? 1 : 0);
