// Starting, joining and resuming runs: plan the chunks, record the run and its chunks in the
// ledger in one transaction, then enqueue one SQS message per chunk. Any crash leaves a run that a
// later trigger or `resume` finishes enqueuing.
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { RunMode } from '../shared/config.ts';
import { withClient, type Pool } from '../shared/db.ts';
import { RunStateError } from '../shared/errors.ts';
import { MAX_KEY, MIN_KEY } from '../shared/keys.ts';
import {
  activeRun, chunksToSend, createRun, getRun, lastHighWaterMark, markEnqueueComplete, markEnqueued, reopenRun, type RunRow,
} from '../shared/ledger.ts';
import { encodeChunkMessage } from '../shared/messages.ts';
import { sendAll } from '../shared/queue.ts';
import type { ResolvedTables } from '../shared/table-schema.ts';
import { readKeyBounds } from './key-bounds.ts';
import { planChunks } from './plan.ts';

export interface CoordinatorDeps {
  pool: Pool;
  sqs: SQSClient;
  queueUrl: string;
  tables: ResolvedTables;
  chunkRows: number;
  /** A run whose enqueuing has made no progress for this long is taken over by the next trigger. */
  staleEnqueueMs: number;
  /**
   * A fully enqueued run with no chunk settled for this long has lost messages (a purged queue or
   * DLQ): every delivery would have settled a chunk by then. The next trigger re-sends what is not
   * done. Derive it as maxReceiveCount x visibility timeout plus a margin.
   */
  lostMessagesMs: number;
}

export interface StartRunResult {
  runId: string;
  /** false: another run was active, nothing new started. */
  started: boolean;
  status: RunRow['status'];
  chunks: number;
  enqueued: number;
  mode: RunMode;
}

export async function startRun(deps: CoordinatorDeps, mode: RunMode): Promise<StartRunResult> {
  const existing = await withClient(deps.pool, (c) => activeRun(c, deps.tables.pipeline));
  if (existing !== undefined) return joinActive(deps, existing);

  const planned = await withClient(deps.pool, async (client) => {
    const hwm = mode === 'incremental' ? await lastHighWaterMark(client, deps.tables.pipeline) : null;
    // Past the largest bigint there is nothing left to read: an empty run completes at once.
    const exhausted = hwm === MAX_KEY;
    const domainLo = hwm === null ? MIN_KEY : exhausted ? MAX_KEY : hwm + 1n;
    const bounds = exhausted ? { totalRows: 0n, maxKey: null, chunkStarts: [] } : await readKeyBounds(client, deps.tables, deps.chunkRows, hwm);
    const chunks = exhausted ? [] : planChunks({ domainLo, domainHi: null, chunkStarts: bounds.chunkStarts, totalRows: bounds.totalRows, rowsPerChunk: BigInt(deps.chunkRows) });
    return createRun(client, {
      pipeline: deps.tables.pipeline,
      mode,
      sourceTable: deps.tables.source.display,
      targetTable: deps.tables.target.display,
      keyColumn: deps.tables.keyName,
      chunkRows: deps.chunkRows,
      lo: domainLo,
      hi: null,
      highWaterMark: bounds.maxKey ?? hwm,
      rowsPlanned: bounds.totalRows,
      chunks,
    });
  });
  if (!planned.created) return joinActive(deps, planned.run);
  const enqueued = await enqueueChunks(deps, planned.run.runId, { onlyNeverEnqueued: true });
  const run = await withClient(deps.pool, (c) => getRun(c, planned.run.runId));
  return { runId: run.runId, started: true, status: run.status, chunks: run.chunksTotal, enqueued, mode };
}

/**
 * A trigger while a run is active starts nothing. It only repairs a run that cannot finish by
 * itself: an enqueue that a crash cut short, or a run whose messages were lost.
 */
async function joinActive(deps: CoordinatorDeps, run: RunRow): Promise<StartRunResult> {
  let enqueued = 0;
  const quietMs = Date.now() - run.heartbeatAt.getTime();
  if (!run.enqueueComplete && quietMs > deps.staleEnqueueMs) {
    enqueued = await enqueueChunks(deps, run.runId, { onlyNeverEnqueued: true });
  } else if (run.enqueueComplete && quietMs > deps.lostMessagesMs) {
    enqueued = await enqueueChunks(deps, run.runId, { onlyNeverEnqueued: false });
  }
  return { runId: run.runId, started: false, status: run.status, chunks: run.chunksTotal, enqueued, mode: run.mode };
}

/**
 * Re-send every chunk of a run that is not done (messages lost, DLQ drained by hand, a local queue
 * that died with its process). Chunks already done are skipped; duplicates are harmless.
 */
export async function resumeRun(deps: CoordinatorDeps, runId: string): Promise<StartRunResult> {
  const run = await withClient(deps.pool, (c) => getRun(c, runId));
  if (run.pipeline !== deps.tables.pipeline) {
    throw new RunStateError(`run ${runId} belongs to pipeline ${run.pipeline}, not ${deps.tables.pipeline}: set SOURCE_TABLE/TARGET_TABLE to match.`);
  }
  if (run.status === 'completed' || run.status === 'cancelled') {
    return { runId, started: false, status: run.status, chunks: run.chunksTotal, enqueued: 0, mode: run.mode };
  }
  if (run.status === 'failed') await withClient(deps.pool, (c) => reopenRun(c, runId));
  const enqueued = await enqueueChunks(deps, runId, { onlyNeverEnqueued: false });
  const after = await withClient(deps.pool, (c) => getRun(c, runId));
  return { runId, started: false, status: after.status, chunks: after.chunksTotal, enqueued, mode: after.mode };
}

const PAGE = 500;

async function enqueueChunks(deps: CoordinatorDeps, runId: string, options: { onlyNeverEnqueued: boolean }): Promise<number> {
  let sent = 0;
  let after = -1;
  for (;;) {
    const page = await withClient(deps.pool, (c) => chunksToSend(c, runId, { onlyNeverEnqueued: options.onlyNeverEnqueued, afterChunk: after, limit: PAGE }));
    if (page.length === 0) break;
    // Recorded per batch of 10 as SQS accepts it, so a crash re-sends at most one batch.
    await sendAll(
      deps.sqs,
      deps.queueUrl,
      page.map((c) => ({ id: String(c.chunkNo), body: encodeChunkMessage({ runId, chunkNo: c.chunkNo, lo: c.lo, hi: c.hi }) })),
      { onBatchSent: (ids) => withClient(deps.pool, (c) => markEnqueued(c, runId, ids.map(Number))) },
    );
    sent += page.length;
    after = page[page.length - 1]!.chunkNo;
  }
  await withClient(deps.pool, (c) => markEnqueueComplete(c, runId));
  return sent;
}
