// The CPU time of ONE PostgreSQL instance, every server process of it, read from /proc (Linux):
// the postmaster and each live child (backends, parallel workers, checkpointer, walwriter, …) by
// their own utime+stime, plus the postmaster's cutime+cstime, where the time of every child that
// has exited and been reaped accumulates. The difference of two readings is what the server spent
// in between, including backends whose connections closed before the second reading. Unlike
// bench/cpu.ts (every process named postgres on the machine), a second server is not counted.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The fields of /proc/<pid>/stat this module uses; times in clock ticks. */
export interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  readonly utime: number;
  readonly stime: number;
  /** Time of the waited-for (reaped) children, their own reaped children included. */
  readonly cutime: number;
  readonly cstime: number;
}

/**
 * Parses one /proc/<pid>/stat line (proc(5)). The command name sits in parentheses and may itself
 * hold spaces and parentheses, so the fields are counted from the LAST ')'.
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  // After the name: state(3) ppid(4) pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime cutime cstime(17)
  const rest = text.slice(close + 2).trim().split(' ');
  if (rest.length < 15) throw new Error(`a /proc/<pid>/stat line cut short: ${JSON.stringify(text.slice(0, 80))}`);
  const field = (n: number) => Number(rest[n - 3]);
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0]!,
    ppid: field(4),
    utime: field(14),
    stime: field(15),
    cutime: field(16),
    cstime: field(17),
  };
}

/** The postmaster's pid: the first line of postmaster.pid in the data directory. */
export function postmasterPid(dataDir: string): number {
  let text: string;
  try {
    text = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${join(dataDir, 'postmaster.pid')} (${(error as Error).message}): server CPU is read from /proc on the server's own machine; is the server running, with this data directory?`);
  }
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${join(dataDir, 'postmaster.pid')} does not start with a pid: ${JSON.stringify(text.slice(0, 40))}`);
  return pid;
}

export interface ServerCpuReading {
  /** live + reaped: the number to subtract readings of. */
  readonly seconds: number;
  /** The postmaster's and its live children's own utime+stime. */
  readonly liveSeconds: number;
  /** The postmaster's cutime+cstime: every child that has exited since the server started. */
  readonly reapedSeconds: number;
  /** The postmaster and its live children when read. */
  readonly processes: number;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // USER_HZ on every Linux this runs on
    }
  }
  return ticksPerSecond;
}

function readStat(pid: number | string): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // the process ended while we looked
  }
}

/** One reading of the whole instance whose data directory is `dataDir`. */
export function readServerCpu(dataDir: string): ServerCpuReading {
  const pid = postmasterPid(dataDir);
  const ticks = clockTicks();
  // A child reaped between reading it and reading the postmaster would count twice (or not at
  // all): read the postmaster before and after the children and retry until nothing was reaped.
  for (let attempt = 0; ; attempt += 1) {
    const before = readStat(pid);
    if (before === undefined) throw new Error(`the postmaster (pid ${pid} in ${dataDir}/postmaster.pid) is not running`);
    let live = before.utime + before.stime;
    let processes = 1;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const child = readStat(entry);
      if (child === undefined || child.ppid !== pid) continue;
      live += child.utime + child.stime;
      processes += 1;
    }
    const after = readStat(pid);
    if (after === undefined) throw new Error(`the postmaster (pid ${pid}) stopped while its CPU time was read`);
    if ((after.cutime === before.cutime && after.cstime === before.cstime) || attempt >= 10) {
      const reaped = after.cutime + after.cstime;
      return { seconds: (live + reaped) / ticks, liveSeconds: live / ticks, reapedSeconds: reaped / ticks, processes };
    }
  }
}
