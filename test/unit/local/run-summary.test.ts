import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunRow } from '../../../lambdas/shared/ledger.ts';
import { formatRunSummary, runVerdict } from '../../../local/run-summary.ts';
import type { Reconciliation } from '../../../local/reconcile.ts';

const RUN: RunRow = {
  runId: '0b6f2b1e-1111-4222-8333-944455556666', pipeline: 'public.input_table -> public.output_table', mode: 'full', status: 'completed',
  sourceTable: 'public.input_table', targetTable: 'public.output_table', keyColumn: 'id', chunkRows: 1000, highWaterMark: 9000n,
  rowsPlanned: 9000n, chunksTotal: 9, chunksDone: 9, chunksFailed: 0, chunksEnqueued: 9, enqueueComplete: true,
  rowsRead: 9000n, rowsWritten: 8991n, rowsRejected: 9n, retries: 2,
  createdAt: new Date('2026-11-25T00:00:00.000Z'), heartbeatAt: new Date('2026-11-25T00:00:02.000Z'), finishedAt: new Date('2026-11-25T00:00:02.000Z'), lastError: null,
};
const EXACT: Reconciliation = { ok: true, inputRows: 9000n, outputRows: 8991n, rejectedRows: 9n, mismatched: [], chunks: 9 };
const OFF: Reconciliation = {
  ...EXACT, ok: false, outputRows: 8990n,
  mismatched: [{ chunkNo: 4, range: '[4001, 5001)', input: { rows: 1000n, keyHash: '1', ageSum: '2' }, landed: { rows: 999n, keyHash: '3', ageSum: '2' } }],
};

describe('runVerdict', () => {
  it('exits 0 only for a completed run that reconciles', () => {
    assert.deepEqual(runVerdict(RUN, EXACT, EXACT), { exitCode: 0 });
  });
  it('names the state and the last error of a run that did not complete', () => {
    assert.deepEqual(runVerdict({ ...RUN, status: 'failed', lastError: 'chunk 4 [4001, 5001) of run … failed' }, EXACT, EXACT), {
      exitCode: 1, reason: `run ${RUN.runId} failed: chunk 4 [4001, 5001) of run … failed`,
    });
  });
  it('names the first chunk that differs for a completed run that does not reconcile', () => {
    assert.deepEqual(runVerdict(RUN, OFF, OFF), {
      exitCode: 1, reason: `run ${RUN.runId} completed but does not reconcile: chunk 4 [4001, 5001): input 1000 rows, output + rejects 999 rows`,
    });
  });
});

describe('formatRunSummary', () => {
  const base = { run: RUN, check: EXACT, whole: EXACT, sourceDisplay: 'public.input_table', targetDisplay: 'public.output_table', retries: 2,
    deadLetterDepth: 0, workerPeakRssBytes: 120 * 2 ** 20, workerInstances: 2, planMs: 500, verifyMs: 250, jobMs: 6000, seeded: false };
  it('reports counts, timings with the rate over planning plus copy, and both reconciliations', () => {
    const lines = formatRunSummary(base);
    assert.deepEqual(lines.slice(1, 6), [
      `run ${RUN.runId}: completed`,
      '  rows read 9,000, written 8,991, rejected 9 (see etl.rejects)',
      '  chunks 9/9 done, retries 2, DLQ depth 0',
      '  worker peak RSS 120 MB (largest of 2 instance(s))',
      '  run 2.50s at 3,600 rows/s: planned and enqueued in 0.50s, copied in 2.00s; verified in 0.25s; job 6.00s with start-up',
    ]);
    assert.match(lines.at(-1)!, /whole table: exact — 9,000 rows in public.input_table = 8,991 in public.output_table \+ 9 in etl.rejects/);
  });
  it('says nothing changed for an incremental run that read no rows, and lists differing chunks', () => {
    const lines = formatRunSummary({ ...base, run: { ...RUN, mode: 'incremental', rowsRead: 0n }, check: OFF });
    assert.ok(lines.includes('  nothing changed: no new rows since the last completed run'));
    assert.ok(lines.includes('    chunk 4 [4001, 5001): input 1000 rows, output + rejects 999 rows'));
  });
});
