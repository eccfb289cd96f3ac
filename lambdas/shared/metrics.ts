// Chunk metrics as CloudWatch Embedded Metric Format (EMF): one JSON line per finished chunk that
// CloudWatch Logs turns into metrics, with no PutMetricData call and no network from the worker.
//
// The line is written with process.stdout.write, not console.log: with the function's JSON log
// format Lambda wraps console output in its own envelope, and an EMF document is only recognised
// when `_aws` is at the top level. The line carries no "level", so Lambda's log-level filter treats
// it as INFO; the stack therefore never sets the application log level above INFO.

/** The CloudWatch namespace the worker publishes to and the stack's dashboard and alarms read. */
export const METRICS_NAMESPACE = 'PgFanout';

/** The dimension every chunk metric carries: the pipeline's name. */
export const PIPELINE_DIMENSION = 'Pipeline';

/** Metric names, shared with the dashboard so a rename cannot leave an empty graph behind. */
export const CHUNK_METRICS = Object.freeze({
  rowsRead: 'RowsRead',
  rowsWritten: 'RowsWritten',
  rowsRejected: 'RowsRejected',
  duration: 'ChunkDuration',
});

export interface ChunkMetrics {
  /** The pipeline's name: the metrics' one dimension, so two pipelines (or stacks) do not mix their numbers. */
  pipeline: string;
  runId: string;
  chunkNo: number;
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  durationMs: number;
}

/**
 * One EMF document (a single line, no trailing newline) for a finished chunk. The counts become
 * metrics in `namespace` with one dimension, `Pipeline`; runId and chunkNo are kept as searchable
 * properties only, because a dimension per run would create a new metric (and a new bill line) for
 * every run.
 * Pure: the same arguments give the same line. Throws a RangeError on a value CloudWatch would
 * reject or misread (negative, fractional or non-finite counts), since a wrong metric is worse
 * than a loud one.
 */
export function formatChunkMetrics(m: ChunkMetrics, namespace: string = METRICS_NAMESPACE, timestampMs: number = Date.now()): string {
  if (namespace.trim() === '') throw new RangeError('namespace is empty: pass a CloudWatch namespace such as "PgFanout".');
  if (m.runId === '') throw new RangeError('runId is empty: every chunk metric belongs to a run.');
  if (m.pipeline === '') throw new RangeError('pipeline is empty: every chunk metric belongs to a pipeline.');
  for (const key of ['chunkNo', 'rowsRead', 'rowsWritten', 'rowsRejected'] as const) {
    const value = m[key];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${key} is ${value}: a chunk metric count must be a whole number >= 0.`);
    }
  }
  if (!Number.isFinite(m.durationMs) || m.durationMs < 0) {
    throw new RangeError(`durationMs is ${m.durationMs}: it must be a finite number of milliseconds >= 0.`);
  }
  if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) {
    throw new RangeError(`timestampMs is ${timestampMs}: it must be epoch milliseconds.`);
  }
  const document = {
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [[PIPELINE_DIMENSION]],
          Metrics: [
            { Name: CHUNK_METRICS.rowsRead, Unit: 'Count' },
            { Name: CHUNK_METRICS.rowsWritten, Unit: 'Count' },
            { Name: CHUNK_METRICS.rowsRejected, Unit: 'Count' },
            { Name: CHUNK_METRICS.duration, Unit: 'Milliseconds' },
          ],
        },
      ],
    },
    [CHUNK_METRICS.rowsRead]: m.rowsRead,
    [CHUNK_METRICS.rowsWritten]: m.rowsWritten,
    [CHUNK_METRICS.rowsRejected]: m.rowsRejected,
    [CHUNK_METRICS.duration]: m.durationMs,
    [PIPELINE_DIMENSION]: m.pipeline,
    runId: m.runId,
    chunkNo: m.chunkNo,
  };
  return JSON.stringify(document);
}

/** Write one chunk's EMF line to stdout, where the Lambda runtime ships it to CloudWatch Logs. */
export function emitChunkMetrics(m: ChunkMetrics, namespace: string = METRICS_NAMESPACE): void {
  process.stdout.write(`${formatChunkMetrics(m, namespace)}\n`);
}
