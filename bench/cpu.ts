// CPU seconds spent by the database server and by this benchmark's client processes, read from
// /proc (Linux), to tell which side a method saturates.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

function statFields(pid: string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return [stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ...stat.slice(stat.lastIndexOf(')') + 2).split(' ')];
  } catch {
    return undefined;
  }
}

export interface CpuSnapshot {
  server: number;
  client: number;
}

/**
 * server: every `postgres` process (live backends' own time, plus what the postmaster reaped from
 * backends that ended). client: this process's reaped children (the CLI and its worker sandboxes)
 * plus this process itself.
 */
export function cpuSnapshot(): CpuSnapshot {
  let server = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const f = statFields(pid);
    if (f === undefined || f[0] !== 'postgres') continue;
    // fields after comm: [1]=state … utime=f[12], stime=f[13], cutime=f[14], cstime=f[15] (0-based after comm)
    server += Number(f[12]) + Number(f[13]) + Number(f[14]) + Number(f[15]);
  }
  const self = statFields('self')!;
  const client = Number(self[12]) + Number(self[13]) + Number(self[14]) + Number(self[15]);
  return { server: server / TICKS, client: client / TICKS };
}
