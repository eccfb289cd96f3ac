// `npm run soak`: 5M rows (--rows) through the main job with transient failures injected into
// about 1% of chunks (their COPY backends are terminated mid-COPY), then every row verified
// against the transform spec. Prints a report; commit its output to soak/results/.
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openScratchDatabase } from '../bench/scratch-database.ts';
import { seedInputTable } from '../local/seed.ts';
import { DEFAULT_TABLES } from '../lambdas/shared/config.ts';
import type { PoolClient } from '../lambdas/shared/db.ts';
import { nameSplitPipeline } from '../lambdas/pipeline/builtin-name-split.ts';
import { resolvePipeline } from '../lambdas/pipeline/resolve-pipeline.ts';
import { checkRows } from '../local/row-check.ts';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '5000000' },
    'chunk-rows': { type: 'string', default: '10000' },
    'fault-rate': { type: 'string', default: '0.01' },
    concurrency: { type: 'string', default: '2' },
    seed: { type: 'string', default: '42' },
  },
});
const ROWS = Number(flags.rows);
const CHUNK_ROWS = Number(flags['chunk-rows']);
const CHUNKS = Math.ceil(ROWS / CHUNK_ROWS);
const log = (s: string) => process.stdout.write(`${s}\n`);

// A seeded PRNG, so a soak can be repeated exactly.
let state = Number(flags.seed) >>> 0;
const random = () => ((state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);

const scratch = await openScratchDatabase('pgfanout_soak');
const { client: db, url } = scratch;

log(`# pg-fanout soak — ${new Date().toISOString()}`);
log(`${ROWS.toLocaleString('en-US')} rows, ${CHUNKS} chunks of ${CHUNK_ROWS.toLocaleString('en-US')}, concurrency ${flags.concurrency}, transient faults in ${(Number(flags['fault-rate']) * 100).toFixed(1)}% of chunks`);
await seedInputTable(db as unknown as pg.PoolClient, 'public.input_table', ROWS);

// Fault plan: after these many chunks are done, terminate one worker backend that is mid-COPY.
const faults = Math.max(1, Math.round(CHUNKS * Number(flags['fault-rate'])));
const triggers = new Set<number>();
while (triggers.size < faults) triggers.add(1 + Math.floor(random() * (CHUNKS - 2)));
const plan = [...triggers].sort((a, b) => a - b);
log(`fault plan: terminate a mid-COPY worker backend when ${plan.join(', ')} chunks are done`);

const t0 = performance.now();
const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', fileURLToPath(new URL('../local/cli.ts', import.meta.url)), 'local', '--mode', 'full', '--in-place',
  '--chunk-rows', String(CHUNK_ROWS), '--concurrency', String(flags.concurrency), '--worker-timeout', '5'], { env: { ...process.env, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] });
let stdout = '';
let stderr = '';
child.stdout.on('data', (d: Buffer) => (stdout += d));
child.stderr.on('data', (d: Buffer) => (stderr += d));
const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
let running = true;
void exited.then(() => (running = false));

let injected = 0;
const monitor = (async () => {
  const watcher = new pg.Client(url);
  await watcher.connect();
  for (const at of plan) {
    for (;;) {
      if (!running) return watcher.end();
      const done = await watcher.query<{ n: number }>(`SELECT count(*)::int AS n FROM etl.chunks c JOIN etl.runs r USING (run_id) WHERE r.status = 'running' AND c.status = 'done'`).catch(() => ({ rows: [{ n: 0 }] }));
      if ((done.rows[0]?.n ?? 0) >= at) break;
      await sleep(20);
    }
    for (let tries = 0; tries < 500 && running; tries += 1) {
      const victim = await watcher.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pg-fanout-worker' AND state = 'active' AND query LIKE 'COPY "public"."output_table"%' LIMIT 1`);
      if (victim.rows[0]?.ok) {
        injected += 1;
        break;
      }
      await sleep(5);
    }
  }
  await watcher.end();
})();

const code = await exited;
await monitor;
const seconds = (performance.now() - t0) / 1000;
log(stdout.trim().split('\n').filter((l) => l.startsWith('  ') || l.startsWith('run ')).join('\n'));
if (code !== 0) {
  log(`FAILED: the main job exited ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  process.exit(1);
}
log(`faults injected: ${injected} backends terminated mid-COPY (planned ${faults})`);
const retried = await db.query<{ n: number; extra: number }>(`SELECT count(*) FILTER (WHERE attempts > 1)::int AS n, coalesce(sum(attempts - 1), 0)::int AS extra FROM etl.chunks c JOIN etl.runs r USING (run_id) WHERE r.status = 'completed'`);
log(`chunks retried: ${retried.rows[0]?.n} (${retried.rows[0]?.extra} extra attempts)`);

// Row by row over the whole key domain: every input row against the spec, and nothing extra in the
// output or etl.rejects.
const client = db as unknown as PoolClient;
const tables = await resolvePipeline(client, client, nameSplitPipeline(DEFAULT_TABLES), { sameDatabase: true });
const rows = await checkRows(client, tables, -(2n ** 63n), null);
for (const problem of rows.problems.slice(0, 5)) log(`  MISMATCH ${problem}`);
log(`row-by-row: ${rows.checked.toLocaleString('en-US')} input rows checked against the spec (${rows.written.toLocaleString('en-US')} written, ${rows.rejected.toLocaleString('en-US')} rejected), ${rows.differences} differences`);
log(`elapsed ${seconds.toFixed(1)} s`);
const exact = rows.differences === 0 && rows.checked === ROWS && injected > 0;
log(exact ? 'RESULT: exact — every input row is in output_table or etl.rejects exactly once, as specified' : 'RESULT: NOT EXACT');
await scratch.close();
process.exit(exact ? 0 : 1);
