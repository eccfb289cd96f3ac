// The worker's EMF line: one valid CloudWatch Embedded Metric Format document per chunk, with the
// one dimension (`Pipeline`) the stack's dashboard and alarms read.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CHUNK_METRICS, METRICS_NAMESPACE, PIPELINE_DIMENSION, emitChunkMetrics, formatChunkMetrics, type ChunkMetrics } from '../../lambdas/shared/metrics.ts';

const chunk: ChunkMetrics = { pipeline: 'public.input_table -> public.output_table', runId: 'run-42', chunkNo: 7, rowsRead: 100_000, rowsWritten: 99_998, rowsRejected: 2, durationMs: 1234.5 };
const T = Date.UTC(2026, 0, 2, 3, 4, 5);

describe('formatChunkMetrics', () => {
  test('is one line of JSON with the EMF metadata at the top level', () => {
    const line = formatChunkMetrics(chunk, undefined, T);
    assert.equal(line.includes('\n'), false);
    const doc = JSON.parse(line);
    assert.deepEqual(doc._aws, {
      Timestamp: T,
      CloudWatchMetrics: [
        {
          Namespace: 'PgFanout',
          Dimensions: [['Pipeline']],
          Metrics: [
            { Name: 'RowsRead', Unit: 'Count' },
            { Name: 'RowsWritten', Unit: 'Count' },
            { Name: 'RowsRejected', Unit: 'Count' },
            { Name: 'ChunkDuration', Unit: 'Milliseconds' },
          ],
        },
      ],
    });
  });

  test('the one dimension is the pipeline, its value on the root node; run and chunk are no dimensions', () => {
    const doc = JSON.parse(formatChunkMetrics(chunk, undefined, T));
    assert.equal(PIPELINE_DIMENSION, 'Pipeline');
    assert.deepEqual(doc._aws.CloudWatchMetrics[0].Dimensions, [[PIPELINE_DIMENSION]]);
    assert.equal(doc.Pipeline, 'public.input_table -> public.output_table');
  });

  test('every declared metric has its value on the root node, and run and chunk ride along as properties', () => {
    const doc = JSON.parse(formatChunkMetrics(chunk, undefined, T));
    assert.equal(doc.RowsRead, 100_000);
    assert.equal(doc.RowsWritten, 99_998);
    assert.equal(doc.RowsRejected, 2);
    assert.equal(doc.ChunkDuration, 1234.5);
    assert.equal(doc.runId, 'run-42');
    assert.equal(doc.chunkNo, 7);
    for (const { Name } of doc._aws.CloudWatchMetrics[0].Metrics) assert.equal(typeof doc[Name], 'number', Name);
    // Every dimension set may only name members of the root node (here: the pipeline, so no per-run metrics).
    for (const set of doc._aws.CloudWatchMetrics[0].Dimensions) for (const key of set) assert.ok(key in doc);
  });

  test('the names match the ones the dashboard graphs', () => {
    assert.deepEqual(Object.values(CHUNK_METRICS), ['RowsRead', 'RowsWritten', 'RowsRejected', 'ChunkDuration']);
    assert.equal(METRICS_NAMESPACE, 'PgFanout');
  });

  test('takes another namespace', () => {
    const doc = JSON.parse(formatChunkMetrics(chunk, 'Staging/PgFanout', T));
    assert.equal(doc._aws.CloudWatchMetrics[0].Namespace, 'Staging/PgFanout');
  });

  test('is pure: the same chunk and time give the same line', () => {
    assert.equal(formatChunkMetrics(chunk, undefined, T), formatChunkMetrics({ ...chunk }, undefined, T));
  });

  test('stamps the current time when none is given', () => {
    const before = Date.now();
    const stamped = JSON.parse(formatChunkMetrics(chunk))._aws.Timestamp;
    assert.ok(stamped >= before && stamped <= Date.now());
  });

  test('zero rows is a valid chunk', () => {
    const doc = JSON.parse(formatChunkMetrics({ ...chunk, rowsRead: 0, rowsWritten: 0, rowsRejected: 0, durationMs: 0 }, undefined, T));
    assert.deepEqual([doc.RowsRead, doc.RowsWritten, doc.RowsRejected, doc.ChunkDuration], [0, 0, 0, 0]);
  });

  test('rejects counts CloudWatch would misread, naming the field', () => {
    assert.throws(() => formatChunkMetrics({ ...chunk, rowsRead: -1 }), /rowsRead is -1/);
    assert.throws(() => formatChunkMetrics({ ...chunk, rowsWritten: 1.5 }), /rowsWritten is 1.5/);
    assert.throws(() => formatChunkMetrics({ ...chunk, rowsRejected: Number.NaN }), /rowsRejected is NaN/);
    assert.throws(() => formatChunkMetrics({ ...chunk, chunkNo: -3 }), /chunkNo is -3/);
    assert.throws(() => formatChunkMetrics({ ...chunk, durationMs: Number.POSITIVE_INFINITY }), /durationMs is Infinity/);
    assert.throws(() => formatChunkMetrics({ ...chunk, runId: '' }), /runId is empty/);
    assert.throws(() => formatChunkMetrics({ ...chunk, pipeline: '' }), /pipeline is empty/);
    assert.throws(() => formatChunkMetrics(chunk, ' '), /namespace is empty/);
  });
});

describe('emitChunkMetrics', () => {
  test('writes exactly the formatted line plus a newline to stdout, bypassing console', (t) => {
    const written: string[] = [];
    t.mock.method(process.stdout, 'write', (data: string | Uint8Array) => {
      written.push(String(data));
      return true;
    });
    const log = t.mock.method(console, 'log', () => {});
    emitChunkMetrics(chunk);
    t.mock.restoreAll();
    assert.equal(written.length, 1);
    const line = written[0] as string;
    assert.ok(line.endsWith('\n'));
    const doc = JSON.parse(line);
    assert.equal(doc.RowsWritten, 99_998);
    assert.equal(doc._aws.CloudWatchMetrics[0].Namespace, 'PgFanout');
    assert.equal(log.mock.callCount(), 0);
  });
});
