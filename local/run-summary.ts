// Pure: the main job's closing summary and its verdict (exit status and the one-line reason).
import type { RunRow } from '../lambdas/shared/ledger.ts';
import { formatCount, rowsPerSecond } from './progress.ts';
import { describeMismatch, type Reconciliation } from './reconcile.ts';

export interface RunSummaryInput {
  run: RunRow;
  /** Per chunk of the run, and over the whole table (the same object for a full run). */
  check: Reconciliation;
  whole: Reconciliation;
  sourceDisplay: string;
  targetDisplay: string;
  retries: number;
  deadLetterDepth: number;
  workerPeakRssBytes: number;
  workerInstances: number;
  planMs: number;
  verifyMs: number;
  jobMs: number;
  seeded: boolean;
}

export function formatRunSummary(s: RunSummaryInput): string[] {
  const { run, check, whole } = s;
  const copyMs = (run.finishedAt ?? new Date()).getTime() - run.createdAt.getTime();
  const runMs = s.planMs + copyMs;
  const lines = [
    '',
    `run ${run.runId}: ${run.status}`,
    `  rows read ${formatCount(run.rowsRead ?? 0n)}, written ${formatCount(run.rowsWritten ?? 0n)}, rejected ${formatCount(run.rowsRejected ?? 0n)} (see etl.rejects)`,
    `  chunks ${run.chunksDone}/${run.chunksTotal} done${run.chunksFailed ? `, ${run.chunksFailed} failed` : ''}, retries ${s.retries}, DLQ depth ${s.deadLetterDepth}`,
    `  worker peak RSS ${Math.round(s.workerPeakRssBytes / 2 ** 20)} MB (largest of ${s.workerInstances} instance(s))`,
    `  run ${seconds(runMs)} at ${formatCount(Math.round(rowsPerSecond(run.rowsRead ?? 0n, runMs)))} rows/s: planned and enqueued in ${seconds(s.planMs)}, ` +
      `copied in ${seconds(copyMs)}; verified in ${seconds(s.verifyMs)}; job ${seconds(s.jobMs)} with start-up${s.seeded ? ' and seeding' : ''}`,
  ];
  if (run.mode === 'incremental' && run.rowsRead === 0n) lines.push('  nothing changed: no new rows since the last completed run');
  lines.push(
    `  reconciliation of this run: ${check.ok ? 'exact' : 'DIFFERENCES'} — ${formatCount(check.inputRows)} input rows = ${formatCount(check.outputRows)} written + ` +
      `${formatCount(check.rejectedRows)} rejected, per chunk over ${check.chunks} chunk(s)`,
    ...check.mismatched.slice(0, 10).map((m) => `    ${describeMismatch(m)}`),
    `  reconciliation of the whole table: ${whole.ok ? 'exact' : 'DIFFERENCES'} — ${formatCount(whole.inputRows)} rows in ${s.sourceDisplay} = ` +
      `${formatCount(whole.outputRows)} in ${s.targetDisplay} + ${formatCount(whole.rejectedRows)} in etl.rejects, each exactly once`,
  );
  return lines;
}

/** Exit 0 only for a completed run that reconciles; otherwise the reason in one line. */
export function runVerdict(run: RunRow, check: Reconciliation, whole: Reconciliation): { exitCode: 0 } | { exitCode: 1; reason: string } {
  if (run.status !== 'completed') {
    return { exitCode: 1, reason: `run ${run.runId} ${run.status}: ${run.lastError ?? 'see `pg-fanout status`'}` };
  }
  const mismatch = check.mismatched[0] ?? whole.mismatched[0];
  if (mismatch !== undefined) return { exitCode: 1, reason: `run ${run.runId} completed but does not reconcile: ${describeMismatch(mismatch)}` };
  return { exitCode: 0 };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}
