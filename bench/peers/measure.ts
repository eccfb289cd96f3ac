// What every peer method is given and returns, and the one way a repeat is timed: wall clock,
// the database server's CPU (bench/peers/server-cpu.ts) and the client side's CPU (this process
// and every child it reaped: psql, the C filter, pgcopydb, pgloader, pg_dump, …).
import { readFileSync } from 'node:fs';
import { parseProcStat, readServerCpu } from './server-cpu.ts';

export interface PeerContext {
  /** The database input_table is read from. */
  readonly sourceUrl: string;
  /** The database written to, its target freshly prepared (the same database as the source for methods 1–4). */
  readonly targetUrl: string;
  /** The data directory of the server both databases are on, for its CPU time. */
  readonly dataDir: string;
}

export interface PeerResult {
  readonly wallSeconds: number;
  /** Every process of the database server, exited backends included. */
  readonly serverCpuSeconds: number;
  /** This process and the commands it ran (counted once they have exited). */
  readonly clientCpuSeconds: number;
}

export type PeerMethod = (context: PeerContext) => Promise<PeerResult>;

const TICKS = 100; // USER_HZ

function clientCpuSeconds(): number {
  const self = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
  return (self.utime + self.stime + self.cutime + self.cstime) / TICKS;
}

/** Runs `work` once and measures it; `work` must wait for every process it starts. */
export async function measure(dataDir: string, work: () => Promise<void>): Promise<PeerResult> {
  const server0 = readServerCpu(dataDir).seconds;
  const client0 = clientCpuSeconds();
  const t0 = performance.now();
  await work();
  const wallSeconds = (performance.now() - t0) / 1000;
  return {
    wallSeconds,
    serverCpuSeconds: readServerCpu(dataDir).seconds - server0,
    clientCpuSeconds: clientCpuSeconds() - client0,
  };
}
