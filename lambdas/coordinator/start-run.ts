// Starting, joining and resuming runs: choose what the run does (an incremental run needs a
// completed run of this very definition to capture changes since, else it is a full one), plan the
// chunks, prepare the shadow tables of a full refresh, record the run, its chunks and steps in the
// ledger in one transaction, then enqueue one SQS message per chunk. Any crash leaves a run that a
// later trigger or `resume` finishes enqueuing.
import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { IndexBuildConfig, RunMode } from '../shared/config.ts';
import { withClient, type Pool, type PoolClient } from '../shared/db.ts';
import { DefinitionChangedError, RunStateError } from '../shared/errors.ts';
import type { KeyValue } from '../shared/keys.ts';
import {
  activeRun, cancelRun, chunksToSend, createRun, getRun, lastBaseline, lastHighWaterMark, markEnqueueComplete, markEnqueued, reopenRun,
  type Refresh, type RunRow, type RunTarget,
} from '../shared/ledger.ts';
import { encodeChunkMessage } from '../shared/messages.ts';
import { sendAll } from '../shared/queue.ts';
import { baselineUsable } from '../shared/snapshots.ts';
import type { ResolvedPipeline } from '../pipeline/resolve-pipeline.ts';
import { createMissingTargets } from '../pipeline/create-targets.ts';
import { createShadowTables, dropShadowTables, planShadowRefresh } from '../shadow/shadow-plan.ts';
import { sendDueSteps } from '../shadow/send-steps.ts';
import { planSource } from './plan-source.ts';
import { planChunks } from './plan.ts';

export interface CoordinatorDeps {
  /** The source database, read only. */
  source: Pool;
  /** The target database: targets and ledger. */
  target: Pool;
  sqs: SQSClient;
  queueUrl: string;
  pipeline: ResolvedPipeline;
  chunkRows: number;
  indexBuild: IndexBuildConfig;
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
  /** What the run does (an incremental request becomes a full run when there is nothing to capture changes since). */
  mode: RunMode;
  refresh?: Refresh | null;
  /** Why the run is not what was asked, or what was done first, for the log and the CLI. */
  note?: string;
}

export interface StartOptions {
  /** A full run's way of replacing the targets; default: the pipeline's `fullRefresh`. */
  refresh?: Refresh;
}

export async function startRun(deps: CoordinatorDeps, requested: RunMode, options: StartOptions = {}): Promise<StartRunResult> {
  const p = deps.pipeline;
  const notes: string[] = [];
  const existing = await withClient(deps.target, (c) => activeRun(c, p.name));
  if (existing !== undefined) {
    if (existing.fingerprint === p.fingerprint) return joinActive(deps, existing);
    // The pipeline was redeployed with another definition: that run can never finish with it.
    await withClient(deps.target, async (c) => {
      await cancelRun(c, existing.runId, `superseded: the pipeline's definition changed (fingerprint ${existing.fingerprint} -> ${p.fingerprint})`);
      if (existing.refresh === 'shadow') await dropShadowTables(c, existing.targets);
    });
    notes.push(`run ${existing.runId} of the previous definition was cancelled`);
  }

  // A failed full refresh's new tables wait for `resume`; a new run supersedes it: they go.
  const abandoned = await withClient(deps.target, (c) => supersedeFailedRefreshes(c, p.name));
  if (abandoned > 0) notes.push(`${abandoned} failed full refresh(es) of ${p.name} superseded: their new tables were dropped`);
  const decided = await withClient(deps.target, (c) => decideMode(c, deps, requested, options));
  if (decided.note !== undefined) notes.push(decided.note);
  const { mode, refresh, baseline, hwm } = decided;
  const runId = randomUUID();
  const shadow = refresh === 'shadow'
    ? await withClient(deps.target, (c) => planShadowRefresh(c, p, runId, deps.indexBuild))
    : undefined;
  if (shadow === undefined) await withClient(deps.target, (c) => createMissingTargets(c, p));
  const source = await withClient(deps.source, (c) => planSource(c, p, deps.chunkRows, { above: mode === 'append' ? hwm : null }));
  if (mode === 'incremental' && !baselineUsable(baseline!, source.snapshot)) {
    // Too many transactions since the baseline for 32-bit comparisons: start over with a full run.
    return startRun(deps, 'full', options);
  }
  // An append run covers keys above the mark: from the first of them (key types have no "next
  // value" to add), and with none there is nothing to read, so no chunks and the run completes.
  const fromMark = mode === 'append' && hwm !== null;
  const chunks = fromMark && source.minKey === null ? [] : planChunks({
    domainLo: fromMark ? source.minKey : null,
    domainHi: null,
    chunkStarts: source.chunkStarts,
    totalRows: source.totalRows,
    rowsPerChunk: source.rowsPerChunk,
  });
  const targets: RunTarget[] = shadow?.targets.slice() ?? p.targets.map((t) => ({ name: t.name, schema: t.table.schema, table: t.table.name, shadow: null }));
  const planned = await withClient(deps.target, (client) =>
    createRun(client, {
      runId,
      pipeline: p.name,
      fingerprint: p.fingerprint,
      mode,
      refresh,
      sourceTable: p.source.display,
      targets,
      keyColumns: p.key.names,
      chunkRows: deps.chunkRows,
      highWaterMark: source.maxKey ?? hwm,
      rowsPlanned: mode === 'incremental' ? 0n : source.totalRows,
      chunks,
      sourceSnapshot: mode === 'append' ? null : source.snapshot,
      baselineSnapshot: baseline ?? null,
      steps: shadow?.steps,
    }),
  );
  if (!planned.created) return joinActive(deps, planned.run);
  if (refresh === 'shadow') await withClient(deps.target, (c) => createShadowTables(c, p, targets));
  const enqueued = await enqueueChunks(deps, planned.run.runId, { onlyNeverEnqueued: true });
  const run = await withClient(deps.target, (c) => getRun(c, planned.run.runId));
  return {
    runId: run.runId, started: true, status: run.status, chunks: run.chunksTotal, enqueued, mode, refresh,
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
  };
}

async function supersedeFailedRefreshes(client: PoolClient, pipeline: string): Promise<number> {
  const { rows } = await client.query<{ run_id: string; targets: RunTarget[] }>(
    `UPDATE etl.runs SET status = 'cancelled', last_error = coalesce(last_error, '') || ' (superseded by a new run)'
      WHERE pipeline = $1 AND status = 'failed' AND refresh = 'shadow' RETURNING run_id, targets`,
    [pipeline],
  );
  for (const r of rows) await dropShadowTables(client, r.targets);
  return rows.length;
}

interface Decided {
  mode: RunMode;
  refresh: Refresh | null;
  baseline?: string;
  hwm: KeyValue | null;
  note?: string;
}

async function decideMode(client: PoolClient, deps: CoordinatorDeps, requested: RunMode, options: StartOptions): Promise<Decided> {
  const p = deps.pipeline;
  const fullRefresh = options.refresh ?? p.spec.fullRefresh;
  if (requested === 'append') return { mode: 'append', refresh: null, hwm: await lastHighWaterMark(client, p.name, p.fingerprint) };
  if (requested === 'full') return { mode: 'full', refresh: fullRefresh, hwm: null };
  const baseline = await lastBaseline(client, p.name, p.fingerprint);
  const missing = p.targets.filter((t) => !t.exists).map((t) => t.table.display);
  if (baseline === undefined || missing.length > 0) {
    const why = baseline === undefined ? `no completed run of this definition of ${p.name} to capture changes since` : `${missing.join(', ')} does not exist`;
    return { mode: 'full', refresh: fullRefresh, hwm: null, note: `${why}: this run is a full refresh` };
  }
  return { mode: 'incremental', refresh: null, baseline: baseline.sourceSnapshot, hwm: null };
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
    enqueued = run.phase === 'copy'
      ? await enqueueChunks(deps, run.runId, { onlyNeverEnqueued: false })
      : await sendDueSteps(deps.target, (m) => sendAll(deps.sqs, deps.queueUrl, m), run.runId, false);
  }
  return { runId: run.runId, started: false, status: run.status, chunks: run.chunksTotal, enqueued, mode: run.mode, refresh: run.refresh };
}

/**
 * Re-send every chunk (or due step) of a run that is not done (messages lost, DLQ drained by hand,
 * a local queue that died with its process). Chunks already done are skipped; duplicates are harmless.
 */
export async function resumeRun(deps: CoordinatorDeps, runId: string): Promise<StartRunResult> {
  const p = deps.pipeline;
  const run = await withClient(deps.target, (c) => getRun(c, runId));
  if (run.pipeline !== p.name) {
    throw new RunStateError(`run ${runId} belongs to pipeline ${run.pipeline}, not ${p.name}: run resume with that pipeline (--pipeline / PIPELINE_MODULE, or SOURCE_TABLE/TARGET_TABLE for the built-in one).`);
  }
  if (run.fingerprint !== p.fingerprint) {
    throw new DefinitionChangedError(
      `run ${runId} was started by another definition of pipeline ${p.name} (fingerprint ${run.fingerprint ?? 'none'}; this one is ${p.fingerprint}): ` +
        'it cannot be resumed with this one. Start a new run instead: `pg-fanout run` cancels it and starts over with this definition ' +
        `(or \`pg-fanout cancel ${runId}\` first).`,
    );
  }
  if (run.status === 'completed' || run.status === 'cancelled') {
    return { runId, started: false, status: run.status, chunks: run.chunksTotal, enqueued: 0, mode: run.mode, refresh: run.refresh };
  }
  if (run.status === 'failed') await withClient(deps.target, (c) => reopenRun(c, runId));
  const enqueued = run.phase === 'copy'
    ? await enqueueChunks(deps, runId, { onlyNeverEnqueued: false })
    : await sendDueSteps(deps.target, (m) => sendAll(deps.sqs, deps.queueUrl, m), runId, false);
  const after = await withClient(deps.target, (c) => getRun(c, runId));
  return { runId, started: false, status: after.status, chunks: after.chunksTotal, enqueued, mode: after.mode, refresh: after.refresh };
}

const PAGE = 500;

async function enqueueChunks(deps: CoordinatorDeps, runId: string, options: { onlyNeverEnqueued: boolean }): Promise<number> {
  const run = await withClient(deps.target, (c) => getRun(c, runId));
  // A coordinator that died after recording a shadow refresh may not have created its tables.
  if (run.refresh === 'shadow' && run.phase === 'copy') await withClient(deps.target, (c) => createShadowTables(c, deps.pipeline, run.targets));
  let sent = 0;
  let after = -1;
  for (;;) {
    const page = await withClient(deps.target, (c) => chunksToSend(c, runId, { onlyNeverEnqueued: options.onlyNeverEnqueued, afterChunk: after, limit: PAGE }));
    if (page.length === 0) break;
    // Recorded per page once SQS has accepted it (and what it accepted when it fails part-way), so
    // a crash re-sends at most one page: a chunk delivered twice still commits once.
    await sendAll(
      deps.sqs,
      deps.queueUrl,
      page.map((c) => ({ id: String(c.chunkNo), body: encodeChunkMessage({ runId, chunkNo: c.chunkNo, lo: c.lo, hi: c.hi }) })),
      { onSent: (ids) => withClient(deps.target, (c) => markEnqueued(c, runId, ids.map(Number))) },
    );
    sent += page.length;
    after = page[page.length - 1]!.chunkNo;
  }
  await withClient(deps.target, (c) => markEnqueueComplete(c, runId));
  if (run.phase === 'copy' && run.chunksTotal === 0) {
    sent += await sendDueSteps(deps.target, (m) => sendAll(deps.sqs, deps.queueUrl, m), runId);
  }
  return sent;
}
