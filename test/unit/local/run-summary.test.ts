// The main job's closing summary and its exit verdict. The old per-chunk and whole-table
// reconciliation (local/reconcile.ts) is gone: every chunk is checked in its own transaction now,
// and the deep verification (--verify, local/verify-run.ts) re-reads and compares row for row.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunRow } from '../../../lambdas/shared/ledger.ts';
import { formatRunSummary, runVerdict } from '../../../local/run-summary.ts';
import type { RunVerification } from '../../../local/verify-run.ts';

const RUN: RunRow = {
  runId: '0b6f2b1e-1111-4222-8333-944455556666', pipeline: 'public.input_table -> public.output_table', fingerprint: '0123456789abcdef',
  mode: 'full', refresh: 'in-place', status: 'completed', phase: 'copy',
  sourceTable: 'public.input_table', targetTable: 'public.output_table',
  targets: [{ name: 'public.output_table', schema: 'public', table: 'output_table', shadow: null }],
  keyColumn: 'id', chunkRows: 1000, highWaterMark: ['9000'], sourceSnapshot: '1000:1000:', baselineSnapshot: null,
  rowsPlanned: 9000n, chunksTotal: 9, chunksDone: 9, chunksFailed: 0, chunksEnqueued: 9, enqueueComplete: true, stepsTotal: 0, stepsDone: 0,
  rowsRead: 9000n, rowsWritten: 8991n, rowsRejected: 9n, rowsFiltered: 0n, rowsDeleted: 0n, retries: 2,
  createdAt: new Date('2026-11-25T00:00:00.000Z'), heartbeatAt: new Date('2026-11-25T00:00:02.000Z'), finishedAt: new Date('2026-11-25T00:00:02.000Z'), lastError: null,
};
const side = (name: string, expected: number, actual: number, missing = 0, unexpected = 0) => ({ name, expected, actual, missing, unexpected });
const EXACT: RunVerification = {
  ok: true,
  rowsRead: 9000,
  chunks: Array.from({ length: 9 }, (_, i) => ({
    chunkNo: i, range: `[${i * 1000 + 1}, ${i * 1000 + 1001})`, ok: true,
    sides: [side('public.output_table', 999, 999), side('etl.rejects', 1, 1)],
  })),
};
const OFF: RunVerification = {
  ...EXACT, ok: false,
  chunks: EXACT.chunks.map((c) => (c.chunkNo === 4 ? { ...c, range: '[4001, 5001)', ok: false, sides: [side('public.output_table', 999, 998, 1, 0), side('etl.rejects', 1, 1)] } : c)),
};

describe('runVerdict', () => {
  it('exits 0 only for a completed run, that verifies when it was verified', () => {
    assert.deepEqual(runVerdict(RUN), { exitCode: 0 });
    assert.deepEqual(runVerdict(RUN, EXACT), { exitCode: 0 });
  });
  it('names the state and the last error of a run that did not complete', () => {
    assert.deepEqual(runVerdict({ ...RUN, status: 'failed', lastError: 'chunk 4 [4001, 5001) of run … failed' }, EXACT), {
      exitCode: 1, reason: `run ${RUN.runId} failed: chunk 4 [4001, 5001) of run … failed`,
    });
    assert.deepEqual(runVerdict({ ...RUN, status: 'running', lastError: null }), { exitCode: 1, reason: `run ${RUN.runId} running: see \`pg-fanout status\`` });
  });
  it('names the first chunk that differs for a completed run that does not verify', () => {
    assert.deepEqual(runVerdict(RUN, OFF), {
      exitCode: 1,
      reason: `run ${RUN.runId} completed but does not verify: chunk 4 [4001, 5001): public.output_table holds 998 rows, the pipeline gives 999 now (1 missing, 0 not expected)`,
    });
  });
});

describe('formatRunSummary', () => {
  const base = {
    run: RUN, targetRows: new Map([['public.output_table', 8991n]]), retries: 2,
    deadLetterDepth: 0, workerPeakRssBytes: 120 * 2 ** 20, workerCpuMs: 2500, workerInstances: 2, planMs: 500, verifyMs: 250, jobMs: 6000, seeded: false,
  };
  it('reports counts, timings with the rate over planning plus copy, and what was checked', () => {
    const lines = formatRunSummary(base);
    assert.deepEqual(lines.slice(1), [
      `run ${RUN.runId}: completed (full refresh in place)`,
      '  rows read 9,000, written 8,991, rejected 9 (see etl.rejects)',
      '  targets: public.output_table 8,991 rows written',
      '  chunks 9/9 done, retries 2, DLQ depth 0',
      "  worker peak RSS 120 MB (largest of 2 instance(s)); workers' CPU 2.50s (277.78 s per million rows read)",
      '  run 2.50s at 3,600 rows/s: planned and enqueued in 0.50s, copied in 2.00s; job 6.00s with start-up',
      "  checked in every chunk's transaction: the rows PostgreSQL sent = rows the worker read = written + rejected + filtered; every target took exactly the rows sent",
    ]);
  });
  it('reports the deep verification and its time when the run was verified', () => {
    const lines = formatRunSummary({ ...base, verification: EXACT });
    assert.equal(lines[6], '  run 2.50s at 3,600 rows/s: planned and enqueued in 0.50s, copied in 2.00s; verified in 0.25s; job 6.00s with start-up');
    assert.equal(lines.at(-1), '  deep verification: exact — 9,000 source rows read again, put through the pipeline and compared row for row with the targets and etl.rejects over 9 chunk(s)');
  });
  it('says nothing changed for an incremental run that read and deleted no rows, and lists differing chunks', () => {
    const lines = formatRunSummary({ ...base, run: { ...RUN, mode: 'incremental', refresh: null, rowsRead: 0n, rowsWritten: 0n, rowsRejected: 0n }, verification: OFF });
    assert.ok(lines.includes('  nothing changed since the last run'));
    assert.ok(lines.includes("  worker peak RSS 120 MB (largest of 2 instance(s)); workers' CPU 2.50s"), 'no CPU per row when no row was read');
    assert.ok(lines.some((l) => l.startsWith('  deep verification: DIFFERENCES')));
    assert.ok(lines.includes('    chunk 4 [4001, 5001): public.output_table holds 998 rows, the pipeline gives 999 now (1 missing, 0 not expected)'));
    const deleted = formatRunSummary({ ...base, run: { ...RUN, mode: 'incremental', refresh: null, rowsRead: 0n, rowsDeleted: 3n } });
    assert.equal(deleted.includes('  nothing changed since the last run'), false, 'a run that deleted rows changed something');
  });
  it('does not claim the in-transaction checks for a run that did not complete', () => {
    const lines = formatRunSummary({ ...base, run: { ...RUN, status: 'failed', chunksDone: 8, chunksFailed: 1 } });
    assert.equal(lines.some((l) => l.includes('checked in every chunk')), false);
    assert.ok(lines.includes('  chunks 8/9 done, 1 failed, retries 2, DLQ depth 0'));
  });
});
