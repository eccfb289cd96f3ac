// The database restarted mid-run: the main job and its workers ride it out (chunks in flight roll
// back and are retried; the ledger is polled again once it answers) and the run ends exact.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from '../../../local/embedded-postgres.ts';
import { startCli } from '../../support/cli.ts';
import { waitFor } from '../../support/processes.ts';
import { assertExactOutput, seedGenerated, slowCopies } from '../../support/pipeline.ts';
import type { TestDatabase } from '../../support/database.ts';

let dataDir: string;
let port: number;
let server: EmbeddedDatabase;
let pool: pg.Pool;
let db: TestDatabase;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pg-fanout-restart-'));
  await chmod(dataDir, 0o755); // the server runs as the postgres user when the tests run as root
  port = await freePort();
  server = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pg'), persistent: true, port });
  pool = new pg.Pool({ connectionString: server.url, max: 2 });
  pool.on('error', () => undefined); // idle connections die with the restart; the pool replaces them
  db = { url: server.url, query: (sql, params) => pool.query(sql, params), drop: async () => undefined, settle: async () => undefined }; // its own server: nothing else runs on it
});
after(async () => {
  await pool?.end();
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

test('the database restarted mid-run: the run completes and every row is exact', async () => {
  await seedGenerated(db, 200_000);
  await slowCopies(db, 0.05); // the run is still going when the server stops
  // In place: the slow COPY trigger is on output_table, which a shadow refresh would not load. One chunk
  // per invocation: a loaded machine may not copy a default batch of 10 (after its first delivery
  // failed with the server down) within the 2 s worker timeout, and every timed-out delivery
  // counts towards maxReceiveCount.
  const { done } = startCli(['local', '--mode', 'full', '--in-place', '--chunk-rows', '5000', '--batch-size', '1', '--worker-timeout', '2'], { DATABASE_URL: server.url });
  await waitFor('a few chunks done', async () => {
    const r = await pool.query(`SELECT count(*)::int AS n FROM etl.chunks WHERE status = 'done'`).catch(() => ({ rows: [{ n: 0 }] }));
    return (r.rows[0]?.n ?? 0) >= 5;
  });
  await server.stop();
  await new Promise((r) => setTimeout(r, 1500));
  server = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pg'), persistent: true, port });
  const result = await done;
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.match(result.stderr, /ledger unreachable/, 'the main job saw the database go away');
  const run = await pool.query(`SELECT status, chunks_done, chunks_total FROM etl.runs ORDER BY created_at DESC LIMIT 1`);
  assert.equal(run.rows[0]?.status, 'completed');
  assert.equal(run.rows[0]?.chunks_done, 40);
  await assertExactOutput(db);
});
