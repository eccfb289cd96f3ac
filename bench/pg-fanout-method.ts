// pg-fanout as a benchmark method: the whole command a user types (`pg-fanout local …`, its own
// embedded SQS server and worker processes included), measured like the peers (bench/peers/):
// wall clock, the database server's CPU, the client side's CPU (the CLI and its worker processes).
// Its summary and ledger give the phases: planning, copy, index builds and swap.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { measure, type PeerResult } from './peers/measure.ts';

const CLI = fileURLToPath(new URL('../local/cli.ts', import.meta.url));

export interface PgFanoutResult extends PeerResult {
  readonly runId: string;
  readonly summary: string;
  readonly workerPeakRssMb: number;
  /** CPU seconds of all worker instances (module init included), from the summary. */
  readonly workerCpuSeconds: number;
  /** From the summary: planning and enqueueing, and the run's own time (planning + copy + steps). */
  readonly planSeconds: number;
  readonly runSeconds: number;
  readonly phases: Phases;
}

export interface Phases {
  /** First chunk started -> last chunk finished. */
  readonly copySeconds: number;
  /** Index and constraint builds (sum of their durations, and first start -> last finish). */
  readonly buildSeconds: number;
  readonly swapSeconds: number;
  readonly rowsRead: number;
}

export interface PgFanoutInvocation {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The target database (its ledger), for the phases. */
  readonly targetUrl: string;
  /** The data directory of the server to count CPU for. */
  readonly dataDir: string;
  /** Run another checkout's CLI instead (a baseline measured side by side). */
  readonly cli?: string;
}

export async function runPgFanout(inv: PgFanoutInvocation): Promise<PgFanoutResult> {
  let stdout = '';
  const result = await measure(inv.dataDir, () =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', inv.cli ?? CLI, ...inv.args], {
        env: { ...process.env, LOG_LEVEL: 'error', ...inv.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pg-fanout ${inv.args.join(' ')} exited ${code}: ${stderr.trim()}\n${stdout}`))));
    }),
  );
  const runId = /run ([0-9a-f-]{36}): completed/.exec(stdout)?.[1];
  if (runId === undefined) throw new Error(`pg-fanout did not complete:\n${stdout}`);
  const times = /run ([\d.]+)s at [\d,]+ rows\/s: planned and enqueued in ([\d.]+)s/.exec(stdout);
  return {
    ...result,
    runId,
    summary: stdout,
    workerPeakRssMb: Number(/worker peak RSS (\d+) MB/.exec(stdout)?.[1] ?? Number.NaN),
    workerCpuSeconds: Number(/workers' CPU ([\d.]+)s/.exec(stdout)?.[1] ?? Number.NaN),
    planSeconds: Number(times?.[2] ?? Number.NaN),
    runSeconds: Number(times?.[1] ?? Number.NaN),
    // Another checkout's ledger may predate the run steps: its phases are not read.
    phases: inv.cli === undefined ? await phasesOf(inv.targetUrl, runId) : { copySeconds: 0, buildSeconds: 0, swapSeconds: 0, rowsRead: 0 },
  };
}

export async function phasesOf(targetUrl: string, runId: string): Promise<Phases> {
  const client = new pg.Client(targetUrl);
  await client.connect();
  try {
    const chunks = (await client.query<{ s: number; n: string }>(
      `SELECT extract(epoch FROM max(finished_at) - min(started_at))::float8 AS s, sum(rows_read)::text AS n FROM etl.chunks WHERE run_id = $1`, [runId],
    )).rows[0]!;
    const steps = (await client.query<{ build: number | null; swap: number | null }>(
      `SELECT extract(epoch FROM max(finished_at) FILTER (WHERE kind = 'build') - min(started_at) FILTER (WHERE kind = 'build'))::float8 AS build,
              (sum(duration_ms) FILTER (WHERE kind = 'swap') / 1000.0)::float8 AS swap
         FROM etl.run_steps WHERE run_id = $1`, [runId],
    )).rows[0]!;
    return { copySeconds: chunks.s ?? 0, buildSeconds: steps.build ?? 0, swapSeconds: steps.swap ?? 0, rowsRead: Number(chunks.n ?? 0) };
  } finally {
    await client.end();
  }
}
