// `npm run bench:copy-floor`: what PostgreSQL itself charges per COPY statement, without pg-fanout.
// Loads the same 200,000 transformed rows into a table with a primary key as 10,000-row and
// 100,000-row COPY statements, each in its own transaction (as pg-fanout's chunks are), with a
// synchronous and an asynchronous commit, and all in one transaction. This is the floor under
// pg-fanout's per-chunk cost: the chunk-size sweep of `npm run bench` cannot beat it.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import copyStreams from 'pg-copy-streams';
import { openScratchDatabase } from './scratch-database.ts';

const ROWS = 200_000;
const scratch = await openScratchDatabase('pgfanout_copy_floor');
const db = scratch.client;

const lines = Array.from({ length: ROWS }, (_, i) => Buffer.from(`${i + 1}\tFirst${i}\tLast ${i}\t${i % 90}\n`));
const batch = (from: number, n: number) => Readable.from([Buffer.concat(lines.slice(from, from + n))]);

async function load(label: string, rowsPerStatement: number, mode: 'sync' | 'async' | 'one transaction'): Promise<number> {
  await db.query('DROP TABLE IF EXISTS floor_target');
  await db.query('CREATE TABLE floor_target (id bigint PRIMARY KEY, first_name text, last_name text, age int)');
  await db.query('CHECKPOINT');
  await db.query(`SET synchronous_commit = ${mode === 'async' ? 'off' : 'on'}`);
  const t0 = performance.now();
  if (mode === 'one transaction') await db.query('BEGIN');
  for (let i = 0; i < ROWS; i += rowsPerStatement) {
    if (mode !== 'one transaction') await db.query('BEGIN');
    await pipeline(batch(i, rowsPerStatement), db.query(copyStreams.from('COPY floor_target FROM STDIN')));
    if (mode !== 'one transaction') await db.query('COMMIT');
  }
  if (mode === 'one transaction') await db.query('COMMIT');
  const msPer10k = ((performance.now() - t0) / ROWS) * 10_000;
  console.log(`  ${label.padEnd(48)} ${msPer10k.toFixed(1).padStart(6)} ms per 10,000 rows`);
  return msPer10k;
}

console.log(`# PostgreSQL's own cost per COPY statement (${ROWS.toLocaleString('en-US')} rows, primary key, median of 3)`);
for (const mode of ['sync', 'async', 'one transaction'] as const) {
  const small: number[] = [];
  const large: number[] = [];
  for (let r = 0; r < 3; r += 1) {
    small.push(await load(`10,000-row statements, ${mode === 'one transaction' ? mode : `${mode} commit each`}`, 10_000, mode));
    large.push(await load(`100,000-row statements, ${mode === 'one transaction' ? mode : `${mode} commit each`}`, 100_000, mode));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
  console.log(`  => ${mode}: 10k-row statements cost ${((med(small) / med(large) - 1) * 100).toFixed(0)}% more per row than 100k-row statements\n`);
}
await scratch.close();
process.exit(0);
