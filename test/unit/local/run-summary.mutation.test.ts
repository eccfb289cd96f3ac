// run-summary.ts on the current core (rows per target, deep verification). run-summary.test.ts
// still uses the reconciliations of before and is being ported on another branch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunRow } from '../../../lambdas/shared/ledger.ts';
import { describeMode, formatRunSummary, runVerdict, type RunSummaryInput } from '../../../local/run-summary.ts';
import type { ChunkVerdict, RunVerification } from '../../../local/verify-run.ts';

const RUN_ID = '0b6f2b1e-1111-4222-8333-944455556666';
const RUN: RunRow = {
  runId: RUN_ID, pipeline: 'orders', fingerprint: null, mode: 'full', refresh: 'shadow', status: 'completed', phase: 'swap',
  sourceTable: 'public.input_table', targetTable: 'public.output_table', targets: [], keyColumn: 'id', chunkRows: 1000,
  highWaterMark: null, sourceSnapshot: null, baselineSnapshot: null, rowsPlanned: 9000n,
  chunksTotal: 9, chunksDone: 9, chunksFailed: 0, chunksEnqueued: 9, enqueueComplete: true, stepsTotal: 0, stepsDone: 0,
  rowsRead: 9000n, rowsWritten: 8991n, rowsRejected: 9n, rowsFiltered: 0n, rowsDeleted: null, retries: 2,
  createdAt: new Date('2026-11-25T00:00:00.000Z'), heartbeatAt: new Date('2026-11-25T00:00:02.000Z'), finishedAt: new Date('2026-11-25T00:00:02.500Z'), lastError: null,
};
const GOOD: ChunkVerdict = { chunkNo: 1, range: '[-inf, 1001)', ok: true, sides: [{ name: 'output_table', expected: 1000, actual: 1000, missing: 0, unexpected: 0 }] };
const badChunk = (chunkNo: number): ChunkVerdict => ({
  chunkNo, range: `[${chunkNo}, ${chunkNo + 1})`, ok: false,
  sides: [{ name: 'output_table', expected: 10, actual: 9, missing: 1, unexpected: 0 }, { name: 'etl.rejects', expected: 0, actual: 0, missing: 0, unexpected: 0 }],
});
const badText = (chunkNo: number) => `chunk ${chunkNo} [${chunkNo}, ${chunkNo + 1}): output_table holds 9 rows, the pipeline gives 10 now (1 missing, 0 not expected)`;

const BASE: RunSummaryInput = {
  run: RUN, targetRows: new Map([['output_table', 8991n]]), retries: 2, deadLetterDepth: 0, workerPeakRssBytes: 120 * 2 ** 20, workerCpuMs: 2500,
  workerInstances: 2, planMs: 500, verifyMs: 250, jobMs: 6000, seeded: false,
};

describe('describeMode', () => {
  it('names each mode and refresh', () => {
    assert.equal(describeMode({ mode: 'full', refresh: 'shadow' }), 'full refresh: built beside the targets, indexed, swapped in');
    assert.equal(describeMode({ mode: 'full', refresh: 'in-place' }), 'full refresh in place');
    assert.equal(describeMode({ mode: 'full', refresh: null }), 'full refresh in place');
    assert.equal(describeMode({ mode: 'incremental', refresh: null }), 'incremental: every change since the last run');
    assert.equal(describeMode({ mode: 'append', refresh: null }), 'append: keys above the last run');
  });
});

describe('runVerdict', () => {
  it('exits 0 for a completed run, verified or not', () => {
    assert.deepEqual(runVerdict(RUN), { exitCode: 0 });
    assert.deepEqual(runVerdict(RUN, { ok: true, chunks: [GOOD], rowsRead: 1000 }), { exitCode: 0 });
  });

  it('names the state and the last error of a run that did not complete, or where to look', () => {
    assert.deepEqual(runVerdict({ ...RUN, status: 'failed', lastError: 'chunk 4 failed' }), { exitCode: 1, reason: `run ${RUN_ID} failed: chunk 4 failed` });
    assert.deepEqual(runVerdict({ ...RUN, status: 'running' }), { exitCode: 1, reason: `run ${RUN_ID} running: see \`pg-fanout status\`` });
  });

  it('names the first chunk that does not verify', () => {
    const v: RunVerification = { ok: false, chunks: [GOOD, badChunk(3), badChunk(5)], rowsRead: 1020 };
    assert.deepEqual(runVerdict(RUN, v), { exitCode: 1, reason: `run ${RUN_ID} completed but does not verify: ${badText(3)}` });
  });
});

describe('formatRunSummary', () => {
  it('reports counts, targets, chunks, memory and timings with the rate over planning plus copy', () => {
    assert.deepEqual(formatRunSummary(BASE), [
      '',
      `run ${RUN_ID}: completed (full refresh: built beside the targets, indexed, swapped in)`,
      '  rows read 9,000, written 8,991, rejected 9 (see etl.rejects)',
      '  targets: output_table 8,991 rows written',
      '  chunks 9/9 done, retries 2, DLQ depth 0',
      "  worker peak RSS 120 MB (largest of 2 instance(s)); workers' CPU 2.50s (277.78 s per million rows read)",
      '  run 3.00s at 3,000 rows/s: planned and enqueued in 0.50s, copied in 2.50s; job 6.00s with start-up',
      "  checked in every chunk's transaction: the rows PostgreSQL sent = rows the worker read = written + rejected + filtered; every target took exactly the rows sent",
    ]);
  });

  it('adds filtered rows, failed chunks, steps, several targets, the deep check and seeding when there are some', () => {
    const lines = formatRunSummary({
      ...BASE,
      run: { ...RUN, status: 'failed', rowsFiltered: 1234n, chunksFailed: 2, chunksDone: 7, stepsTotal: 4, stepsDone: 3 },
      targetRows: new Map([['a', 1n], ['b', 2000n]]),
      verification: { ok: false, chunks: [GOOD, ...Array.from({ length: 12 }, (_, i) => badChunk(i + 10))], rowsRead: 5000 },
      seeded: true,
    });
    assert.deepEqual(lines, [
      '',
      `run ${RUN_ID}: failed (full refresh: built beside the targets, indexed, swapped in)`,
      '  rows read 9,000, written 8,991, rejected 9 (see etl.rejects), filtered 1,234',
      '  targets: a 1 rows written; b 2,000 rows written',
      '  chunks 7/9 done, 2 failed, steps 3/4, retries 2, DLQ depth 0',
      "  worker peak RSS 120 MB (largest of 2 instance(s)); workers' CPU 2.50s (277.78 s per million rows read)",
      '  run 3.00s at 3,000 rows/s: planned and enqueued in 0.50s, copied, indexed and swapped in 2.50s; verified in 0.25s; job 6.00s with start-up and seeding',
      '  deep verification: DIFFERENCES — 5,000 source rows read again, put through the pipeline and compared row for row with the targets and etl.rejects over 13 chunk(s)',
      ...Array.from({ length: 10 }, (_, i) => `    ${badText(i + 10)}`),
    ]);
  });

  it('reports an exact deep check', () => {
    const lines = formatRunSummary({ ...BASE, verification: { ok: true, chunks: [GOOD], rowsRead: 1000 } });
    assert.equal(lines.at(-1), '  deep verification: exact — 1,000 source rows read again, put through the pipeline and compared row for row with the targets and etl.rejects over 1 chunk(s)');
  });

  it('says nothing changed for an incremental run that read and deleted nothing, and counts deletions', () => {
    const quiet = formatRunSummary({ ...BASE, run: { ...RUN, mode: 'incremental', refresh: null, rowsRead: 0n, rowsWritten: 0n, rowsRejected: 0n } });
    assert.equal(quiet[1], `run ${RUN_ID}: completed (incremental: every change since the last run)`);
    assert.equal(quiet[2], '  rows read 0, written 0, rejected 0 (see etl.rejects), deleted 0 (source rows gone)');
    assert.ok(quiet.includes('  nothing changed since the last run'));
    const deleted = formatRunSummary({ ...BASE, run: { ...RUN, mode: 'incremental', refresh: null, rowsRead: 0n, rowsDeleted: 3n } });
    assert.equal(deleted[2], '  rows read 0, written 8,991, rejected 9 (see etl.rejects), deleted 3 (source rows gone)');
    assert.ok(!deleted.includes('  nothing changed since the last run'));
    const both = formatRunSummary({ ...BASE, run: { ...RUN, mode: 'incremental', refresh: null, rowsFiltered: 2n, rowsDeleted: 3n } });
    assert.equal(both[2], '  rows read 9,000, written 8,991, rejected 9 (see etl.rejects), filtered 2, deleted 3 (source rows gone)');
    const read = formatRunSummary({ ...BASE, run: { ...RUN, mode: 'incremental', refresh: null, rowsRead: 5n } });
    assert.ok(!read.includes('  nothing changed since the last run'));
    assert.ok(!formatRunSummary({ ...BASE, run: { ...RUN, rowsRead: 0n } }).includes('  nothing changed since the last run'));
  });

  it('counts missing totals as 0 and times an unfinished run up to now', () => {
    const startedMsAgo = 10_000;
    const lines = formatRunSummary({ ...BASE, run: { ...RUN, status: 'running', rowsRead: null, rowsWritten: null, rowsRejected: null, rowsFiltered: null, finishedAt: null, createdAt: new Date(Date.now() - startedMsAgo) } });
    assert.equal(lines[2], '  rows read 0, written 0, rejected 0 (see etl.rejects)');
    const timings = lines[6] ?? '';
    const copied = /copied in (\d+\.\d\d)s/.exec(timings);
    assert.ok(copied !== null, timings);
    assert.ok(Number(copied[1]) >= 10 && Number(copied[1]) < 20, timings);
    assert.ok(!lines.some((l) => l.startsWith('  checked in every chunk')));
  });
});
