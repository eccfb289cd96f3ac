// `npm run soak`: 5M rows (--rows) through the main job with transient failures injected into
// about 1% of chunks (their COPY backends are terminated mid-COPY), then every row verified
// against the transform spec. Prints a report; commit its output to soak/results/.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openScratchDatabase } from '../bench/scratch-database.ts';
import { seedInputTable } from '../local/seed.ts';
import { splitName } from '../lambdas/transform/split-name.ts';

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
const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', fileURLToPath(new URL('../local/cli.ts', import.meta.url)), 'local', '--mode', 'full',
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
      await new Promise((r) => setTimeout(r, 20));
    }
    for (let tries = 0; tries < 500 && running; tries += 1) {
      const victim = await watcher.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'pg-fanout-worker' AND state = 'active' AND query LIKE 'COPY "public"."output_table"%' LIMIT 1`);
      if (victim.rows[0]?.ok) {
        injected += 1;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
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

// Row-by-row: every input row against the spec, in key order, 50k at a time.
let checked = 0;
let mismatches = 0;
let after = '-9223372036854775808';
let first = true;
for (;;) {
  const page = await db.query<{ id: string; name: string | null; age: number | null; first_name: string | null; last_name: string | null; out_age: number | null; out_id: string | null; reason: string | null }>(
    `SELECT i.id::text, i.name, i.age, o.id::text AS out_id, o.first_name, o.last_name, o.age AS out_age, r.reason
       FROM input_table i LEFT JOIN output_table o ON o.id = i.id LEFT JOIN etl.rejects r ON r.source_id = i.id
      WHERE i.id ${first ? '>=' : '>'} $1::bigint ORDER BY i.id LIMIT 50000`, [after]);
  first = false;
  if (page.rows.length === 0) break;
  for (const row of page.rows) {
    const expected = splitName(row.name);
    const ok = 'reject' in expected
      ? row.out_id === null && row.reason === expected.reject
      : row.reason === null && row.first_name === expected.firstName && row.last_name === expected.lastName && row.out_age === row.age;
    if (!ok && mismatches++ < 5) log(`  MISMATCH id ${row.id}: ${JSON.stringify(row)}`);
  }
  checked += page.rows.length;
  after = page.rows[page.rows.length - 1]!.id;
}
const extra = await db.query<{ o: number; r: number }>(
  `SELECT (SELECT count(*)::int FROM output_table o WHERE NOT EXISTS (SELECT 1 FROM input_table i WHERE i.id = o.id)) AS o,
          (SELECT count(*)::int FROM etl.rejects r WHERE NOT EXISTS (SELECT 1 FROM input_table i WHERE i.id = r.source_id)) AS r`);
log(`row-by-row: ${checked.toLocaleString('en-US')} input rows checked against the spec, ${mismatches} mismatches; ${extra.rows[0]?.o} output and ${extra.rows[0]?.r} reject rows without an input row`);
log(`elapsed ${seconds.toFixed(1)} s`);
const exact = mismatches === 0 && checked === ROWS && extra.rows[0]?.o === 0 && extra.rows[0]?.r === 0 && injected > 0;
log(exact ? 'RESULT: exact — every input row is in output_table or etl.rejects exactly once, as specified' : 'RESULT: NOT EXACT');
await scratch.close();
process.exit(exact ? 0 : 1);
