// The server CPU reading counts a backend's work after its connection has closed: the postmaster
// reaps the exited backend and its time moves into the postmaster's cutime+cstime. Runs on the
// test runner's server; skips when that server's data directory is not on this machine.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import pg from 'pg';
import { readServerCpu } from '../../../../bench/peers/server-cpu.ts';

const adminUrl = process.env.PG_FANOUT_TEST_ADMIN_URL ?? process.env.DATABASE_URL;

async function dataDirectory(): Promise<string | undefined> {
  if (!adminUrl) return undefined;
  const client = new pg.Client(adminUrl);
  await client.connect();
  try {
    const dir = (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory;
    return existsSync(join(dir, 'postmaster.pid')) ? dir : undefined;
  } finally {
    await client.end();
  }
}

const dataDir = await dataDirectory();

test('a CPU-heavy query on a connection closed before the second reading is counted', { skip: dataDir ? false : 'the test server\'s data directory is not on this machine (run with `npm test`, which starts an embedded PostgreSQL)' }, async () => {
  const before = readServerCpu(dataDir!);
  assert.ok(before.processes >= 2, `the postmaster and its children: ${before.processes}`);

  const client = new pg.Client(adminUrl);
  await client.connect();
  const backendPid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const t0 = performance.now();
  const count = (await client.query<{ count: string }>('SELECT count(*) FROM generate_series(1, 2e7)')).rows[0]!.count;
  const wallSeconds = (performance.now() - t0) / 1000;
  await client.end();
  assert.equal(count, '20000000');
  // Closed means gone: wait until the postmaster has reaped the backend.
  for (let i = 0; i < 500 && existsSync(`/proc/${backendPid}`); i += 1) await sleep(10);
  assert.equal(existsSync(`/proc/${backendPid}`), false, `backend ${backendPid} still exists`);

  const after = readServerCpu(dataDir!);
  const serverSeconds = after.seconds - before.seconds;
  const reapedSeconds = after.reapedSeconds - before.reapedSeconds;
  assert.ok(serverSeconds >= wallSeconds * 0.5, `server CPU ${serverSeconds.toFixed(2)} s for a query of ${wallSeconds.toFixed(2)} s`);
  // The backend's time arrived through the postmaster's reaped-children counters.
  assert.ok(reapedSeconds >= wallSeconds * 0.5, `reaped ${reapedSeconds.toFixed(2)} s for a query of ${wallSeconds.toFixed(2)} s`);
});
