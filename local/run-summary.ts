// Pure: the main job's closing summary and its verdict (exit status and the one-line reason).
import type { RunRow } from '../lambdas/shared/ledger.ts';
import { formatCount, rowsPerSecond } from './progress.ts';
import { describeVerdict, type RunVerification } from './verify-run.ts';

export interface RunSummaryInput {
  run: RunRow;
  /** Rows written per target (display name -> rows), from the ledger. */
  targetRows: ReadonlyMap<string, bigint>;
  /** The deep check (`--verify`), when it ran. */
  verification?: RunVerification;
  retries: number;
  deadLetterDepth: number;
  workerPeakRssBytes: number;
  /** CPU time of all worker instances, module init included. */
  workerCpuMs: number;
  workerInstances: number;
  planMs: number;
  verifyMs: number;
  jobMs: number;
  seeded: boolean;
}

export function describeMode(run: Pick<RunRow, 'mode' | 'refresh'>): string {
  if (run.mode === 'full') return run.refresh === 'shadow' ? 'full refresh: built beside the targets, indexed, swapped in' : 'full refresh in place';
  if (run.mode === 'incremental') return 'incremental: every change since the last run';
  return 'append: keys above the last run';
}

export function formatRunSummary(s: RunSummaryInput): string[] {
  const { run } = s;
  const copyMs = (run.finishedAt ?? new Date()).getTime() - run.createdAt.getTime();
  const runMs = s.planMs + copyMs;
  const extra = [
    run.rowsFiltered ? `filtered ${formatCount(run.rowsFiltered)}` : '',
    run.mode === 'incremental' ? `deleted ${formatCount(run.rowsDeleted ?? 0n)} (source rows gone)` : '',
  ].filter((x) => x !== '');
  const lines = [
    '',
    `run ${run.runId}: ${run.status} (${describeMode(run)})`,
    `  rows read ${formatCount(run.rowsRead ?? 0n)}, written ${formatCount(run.rowsWritten ?? 0n)}, rejected ${formatCount(run.rowsRejected ?? 0n)} (see etl.rejects)${extra.length ? `, ${extra.join(', ')}` : ''}`,
    `  targets: ${[...s.targetRows].map(([name, rows]) => `${name} ${formatCount(rows)} rows written`).join('; ')}`,
    `  chunks ${run.chunksDone}/${run.chunksTotal} done${run.chunksFailed ? `, ${run.chunksFailed} failed` : ''}${run.stepsTotal ? `, steps ${run.stepsDone}/${run.stepsTotal}` : ''}, retries ${s.retries}, DLQ depth ${s.deadLetterDepth}`,
    `  worker peak RSS ${Math.round(s.workerPeakRssBytes / 2 ** 20)} MB (largest of ${s.workerInstances} instance(s)); workers' CPU ${seconds(s.workerCpuMs)}${cpuPerMillion(s.workerCpuMs, run.rowsRead ?? 0n)}`,
    `  run ${seconds(runMs)} at ${formatCount(Math.round(rowsPerSecond(run.rowsRead ?? 0n, runMs)))} rows/s: planned and enqueued in ${seconds(s.planMs)}, ` +
      `copied${run.stepsTotal ? ', indexed and swapped' : ''} in ${seconds(copyMs)}${s.verification ? `; verified in ${seconds(s.verifyMs)}` : ''}; job ${seconds(s.jobMs)} with start-up${s.seeded ? ' and seeding' : ''}`,
  ];
  if (run.mode === 'incremental' && run.rowsRead === 0n && !run.rowsDeleted) lines.push('  nothing changed since the last run');
  if (run.status === 'completed') {
    lines.push(`  checked in every chunk's transaction: the rows PostgreSQL sent = rows the worker read = written + rejected + filtered; every target took exactly the rows sent`);
  }
  const v = s.verification;
  if (v !== undefined) {
    lines.push(`  deep verification: ${v.ok ? 'exact' : 'DIFFERENCES'} — ${formatCount(v.rowsRead)} source rows read again, put through the pipeline and compared row for row with the targets and etl.rejects over ${v.chunks.length} chunk(s)`);
    for (const c of v.chunks.filter((x) => !x.ok).slice(0, 10)) lines.push(`    ${describeVerdict(c)}`);
  }
  return lines;
}

function cpuPerMillion(ms: number, rows: bigint): string {
  return rows === 0n ? '' : ` (${(ms / 1000 / (Number(rows) / 1e6)).toFixed(2)} s per million rows read)`;
}

/** Exit 0 only for a completed run (that verifies, when verified); otherwise the reason in one line. */
export function runVerdict(run: RunRow, verification?: RunVerification): { exitCode: 0 } | { exitCode: 1; reason: string } {
  if (run.status !== 'completed') {
    return { exitCode: 1, reason: `run ${run.runId} ${run.status}: ${run.lastError ?? 'see `pg-fanout status`'}` };
  }
  const bad = verification?.chunks.find((c) => !c.ok);
  if (bad !== undefined) return { exitCode: 1, reason: `run ${run.runId} completed but does not verify: ${describeVerdict(bad)}` };
  return { exitCode: 0 };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}
