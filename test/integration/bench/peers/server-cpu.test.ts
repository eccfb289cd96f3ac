// The server CPU reading counts a backend's work after its connection has closed: the postmaster
// reaps the exited backend and its time moves into the postmaster's cutime+cstime. Runs on the
// test runner's server; skips when that server's data directory is not on this machine.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import pg from 'pg';
import { parseProcStat, readServerCpu } from '../../../../bench/peers/server-cpu.ts';

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
  // The backend's own CPU time, read while it still exists: what the reading must find after it is gone.
  const own = parseProcStat(readFileSync(`/proc/${backendPid}/stat`, 'utf8'));
  const backendSeconds = (own.utime + own.stime) / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  assert.ok(backendSeconds >= 1, `the query kept its backend busy (${backendSeconds.toFixed(2)} s of CPU in ${wallSeconds.toFixed(2)} s)`);
  await client.end();
  assert.equal(count, '20000000');
  // Closed means gone: wait until the postmaster has reaped the backend.
  for (let i = 0; i < 500 && existsSync(`/proc/${backendPid}`); i += 1) await sleep(10);
  assert.equal(existsSync(`/proc/${backendPid}`), false, `backend ${backendPid} still exists`);

  const after = readServerCpu(dataDir!);
  const serverSeconds = after.seconds - before.seconds;
  const reapedSeconds = after.reapedSeconds - before.reapedSeconds;
  // Compared with the backend's own CPU time, not the query's wall time: on a loaded machine (the
  // suite runs two files at once) the backend gets less than half a core and a wall-based bound fails.
  assert.ok(serverSeconds >= backendSeconds * 0.95, `server CPU ${serverSeconds.toFixed(2)} s for a backend that used ${backendSeconds.toFixed(2)} s (query ${wallSeconds.toFixed(2)} s)`);
  // The backend's time arrived through the postmaster's reaped-children counters.
  assert.ok(reapedSeconds >= backendSeconds * 0.95, `reaped ${reapedSeconds.toFixed(2)} s for a backend that used ${backendSeconds.toFixed(2)} s`);
});
