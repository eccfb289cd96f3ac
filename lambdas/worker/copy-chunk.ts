// The chunk operation: read one key range of the source, transform it in-process, write it into
// the targets, all committed in one transaction together with the range's rejects and the chunk's
// ledger row. Re-running it (in sequence or concurrently) leaves exactly one copy of every row.
// The chunks of one SQS batch can share that transaction and its COPY statements
// (copyChunksTogether): per-statement and per-commit costs, not rows, are what make small chunks slow.
import { DefinitionChangedError, ChunkFailedError, describe, InvalidMessageError } from '../shared/errors.ts';
import { guardClient, withClient, type Pool, type PoolClient } from '../shared/db.ts';
import { rangeText, sameKey } from '../shared/keys.ts';
import {
  beginChunks, commitChunks, markEnqueued, recordChunkFailure, type ChunkRef, type ChunkStatus, type CompletedChunk, type RunAfterCommit, type RunContext,
} from '../shared/ledger.ts';
import { chunkKey, encodeChunkMessage, type ChunkMessage } from '../shared/messages.ts';
import { sendDueSteps } from '../shadow/send-steps.ts';
import type { OutgoingMessage } from '../shared/queue.ts';
import { baselineXid } from '../shared/snapshots.ts';
import type { ResolvedPipeline } from '../pipeline/resolve-pipeline.ts';
import type { RowEngine } from '../transform/row-engine.ts';
import { deleteRangeSql, deleteRejectsInRangeSql, extractSql, type LoadTable } from './chunk-sql.ts';
import { ExtractSession } from './extract-session.ts';
import { loadIsolating } from './isolate-refused-rows.ts';
import { isDataError, loadChanges, loadStreamed, type ChunkLoadResult, type LoadContext, type RunLoad } from './load-chunk.ts';

export interface ChunkContext {
  /** Connections to the source: the worker reads through one at a time. */
  source: Pool;
  /** Connections to the target database, which holds the ledger. */
  target: Pool;
  pipeline: ResolvedPipeline;
  engine: RowEngine;
  /** Source and target are one database the loading role can read the source in. */
  sameDatabase: boolean;
  /** A chunk of a full or append run reads at most this many rows; the rest of its range becomes a new chunk. */
  maxChunkRows?: number;
  /** Sends work messages once a transaction committed (chunks split off, steps due); without it the coordinator's repair sends them. */
  send?: (messages: OutgoingMessage[]) => Promise<void>;
  /** Runs seen by this worker (what a chunk needs of a run does not change during the run). */
  runs?: Map<string, RunContext>;
}

export interface ChunkResult {
  runId: string;
  chunkNo: number;
  /** true when the chunk was already done (or its run cancelled) and nothing was written. */
  skipped: boolean;
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  rowsFiltered: number;
  rowsDeleted: number;
  durationMs: number;
  /** The run's status after this chunk (completed when this was its last chunk). */
  runStatus?: RunAfterCommit['status'];
}

export interface CopyChunkOptions {
  /** This is the last delivery SQS will make before the DLQ: a failure marks the chunk failed. */
  lastAttempt?: boolean;
  /** A batch transaction that rolled back already counted this delivery as an attempt. */
  attemptCounted?: boolean;
}

/** What became of one chunk of a transaction. */
export type ChunkOutcome = { kind: 'done'; result: ChunkResult } | { kind: 'invalid'; error: InvalidMessageError };

export async function copyChunk(ctx: ChunkContext, chunk: ChunkMessage, options: CopyChunkOptions = {}): Promise<ChunkResult> {
  let outcome: ChunkOutcome | undefined;
  try {
    [outcome] = await copyChunksTogether(ctx, [chunk], { countAttempts: !options.attemptCounted, isolateRefusedRows: true });
  } catch (error) {
    const failure = new ChunkFailedError(chunk.runId, chunk.chunkNo, rangeText(chunk.lo, chunk.hi), error);
    await recordFailure(ctx, chunk, failure.message, options.lastAttempt ?? false);
    throw failure;
  }
  if (outcome!.kind === 'invalid') throw outcome!.error;
  return outcome!.result;
}

const skippedResult = (chunk: ChunkMessage, started: number): ChunkResult => ({
  runId: chunk.runId, chunkNo: chunk.chunkNo, skipped: true, rowsRead: 0, rowsWritten: 0, rowsRejected: 0, rowsFiltered: 0, rowsDeleted: 0,
  durationMs: performance.now() - started,
});

/**
 * Copies the chunks in one transaction, extracting them one after another, and commits them with
 * their rejects and ledger rows. A chunk already done (or of a cancelled run) is skipped; one the
 * ledger does not have (or has with another range) is left alone and reported invalid. All or
 * nothing: on any error the transaction rolls back and the error is thrown — the caller then
 * copies the chunks one by one (copyChunk), which isolates and records a failing one, and with
 * `isolateRefusedRows` sets aside the rows a target refuses instead of failing the chunk.
 */
export async function copyChunksTogether(
  ctx: ChunkContext,
  chunks: readonly ChunkMessage[],
  options: { countAttempts?: boolean; onAttemptsCounted?: () => void; isolateRefusedRows?: boolean } = {},
): Promise<ChunkOutcome[]> {
  const keys = new Set(chunks.map(chunkKey));
  if (keys.size !== chunks.length) throw new TypeError('copyChunksTogether: a chunk appears twice');
  const started = performance.now();
  const loader = await ctx.target.connect();
  const loaderErrors = guardClient(loader);
  let committed = false;
  let broken = false;
  let after: Map<string, RunAfterCommit> | undefined;
  try {
    const runs = await runContexts(ctx, loader, [...new Set(chunks.map((c) => c.runId))]);
    const loads = new Map([...runs].map(([runId, run]) => [runId, runLoad(ctx.pipeline, run)]));
    // Each range is cleared in the same round trip, guarded: deleted only if the ledger has the
    // chunk pending with this very range; the transaction is rolled back if nothing is copied.
    const begun = await beginChunks(loader, chunks, (chunk, guard) => {
      const load = loads.get(chunk.runId);
      if (load === undefined || !rewritesInPlace(load.run)) return [];
      return [
        ...load.tables.map((t) => deleteRangeSql(t, ctx.pipeline.key, chunk, guard)),
        deleteRejectsInRangeSql(ctx.pipeline.name, ctx.pipeline.key, chunk, guard),
      ];
    }, { countAttempts: options.countAttempts });
    options.onAttemptsCounted?.();
    const outcomes = chunks.map((chunk, i): ChunkOutcome | undefined => {
      const row = begun.chunks[i];
      const run = begun.runs.get(chunk.runId);
      if (row === undefined || run === undefined) {
        return { kind: 'invalid', error: new InvalidMessageError(`chunk ${chunk.chunkNo} of run ${chunk.runId} is not in the ledger: the message is stale or forged; it will go to the DLQ.`) };
      }
      // Done by an earlier delivery, or by a concurrent copy whose commit this one waited for.
      if (row.status === 'done' || run.status === 'cancelled' || run.status === 'completed') return { kind: 'done', result: skippedResult(chunk, started) };
      if (!sameKey(row.lo, chunk.lo) || !sameKey(row.hi, chunk.hi)) {
        return { kind: 'invalid', error: new InvalidMessageError(`message range ${rangeText(chunk.lo, chunk.hi)} differs from the ledger's ${rangeText(row.lo, row.hi)} for chunk ${chunk.chunkNo} of run ${chunk.runId}.`) };
      }
      return undefined;
    });
    const toCopy = chunks.flatMap((chunk, i) => (outcomes[i] === undefined ? [{ chunk, previous: begun.chunks[i]!.status, index: i }] : []));
    if (toCopy.length > 0) {
      const completed: CompletedChunk[] = [];
      // One connection to the source at a time: a session a failed COPY broke is closed before the next opens.
      let session = await ExtractSession.open(ctx.source);
      const reopen = async () => {
        await session.close();
        session = await ExtractSession.open(ctx.source);
        return session;
      };
      try {
        for (const runId of new Set(toCopy.map((c) => c.chunk.runId))) {
          const items = toCopy.filter((c) => c.chunk.runId === runId);
          const results = await loadRun(ctx, loader, session, reopen, loads.get(runId)!, items.map((c) => c.chunk), { started, isolate: options.isolateRefusedRows === true && items.length === 1 });
          items.forEach((item, k) => completed.push(completedChunk(item.chunk, item.previous, results[k]!)));
        }
      } finally {
        await session.close();
      }
      after = await commitChunks(loader, completed, new Map(toCopy.map(({ chunk }) => [chunkKey(chunk), chunk])));
      committed = true;
      toCopy.forEach(({ index, chunk }, k) => {
        const c = completed[k]!;
        outcomes[index] = { kind: 'done', result: { runId: chunk.runId, chunkNo: chunk.chunkNo, skipped: false, ...c.counts, runStatus: after!.get(chunk.runId)?.status } };
      });
    }
    return outcomes as ChunkOutcome[];
  } catch (error) {
    broken = true;
    throw loaderErrors[0] ?? error;
  } finally {
    if (!committed) await loader.query('ROLLBACK').catch(() => undefined);
    loader.release(broken || loaderErrors.length > 0 ? true : undefined);
    if (after !== undefined) await sendFollowUps(ctx, after);
  }
}

function completedChunk(chunk: ChunkMessage, previous: ChunkStatus, r: ChunkLoadResult): CompletedChunk {
  return { runId: chunk.runId, chunkNo: chunk.chunkNo, previous, counts: r.counts, ...(r.splitAt === undefined ? {} : { split: { splitAt: r.splitAt } }) };
}

/** Full runs in place and append runs rewrite each chunk's range in the live targets. */
function rewritesInPlace(run: RunContext): boolean {
  return run.mode === 'append' || (run.mode === 'full' && run.refresh !== 'shadow');
}

/** Loads one run's chunks by its mode. */
async function loadRun(
  ctx: ChunkContext,
  loader: PoolClient,
  session: ExtractSession,
  reopen: () => Promise<ExtractSession>,
  load: RunLoad,
  chunks: readonly ChunkRef[],
  options: { started: number; isolate: boolean },
): Promise<ChunkLoadResult[]> {
  const lc: LoadContext = { pipeline: ctx.pipeline, engine: ctx.engine, sameDatabase: ctx.sameDatabase };
  if (load.run.mode === 'incremental') {
    const xid = baselineXid(load.run.baselineSnapshot);
    const results: ChunkLoadResult[] = [];
    for (const chunk of chunks) {
      results.push(await loadChanges(lc, loader, session, load, chunk, { baselineXid: xid, started: options.started, isolate: options.isolate }));
    }
    return results;
  }
  const maxRows = ctx.maxChunkRows;
  if (!options.isolate) return loadStreamed(lc, loader, session, load, chunks, { maxRows, started: options.started });
  const chunk = chunks[0]!;
  await loader.query('SAVEPOINT pg_fanout_chunk');
  try {
    return await loadStreamed(lc, loader, session, load, [chunk], { maxRows, started: options.started });
  } catch (error) {
    if (!isDataError(error)) throw error;
    await loader.query('ROLLBACK TO SAVEPOINT pg_fanout_chunk');
    // The failed COPY abandoned the first read mid-stream: read again in a new snapshot (the
    // range is rewritten whole either way).
    const again = await reopen();
    const limit = maxRows === undefined ? undefined : maxRows + 1;
    return [await loadIsolating(lc, loader, again, load, chunk, { extractSql: extractSql(ctx.pipeline, chunk, { limit }), maxRows, rowsDeleted: 0, started: options.started })];
  }
}

/** Where a run writes each of the pipeline's targets (its shadow tables during a shadow refresh). */
export function runLoad(p: ResolvedPipeline, run: RunContext): RunLoad {
  const tables: LoadTable[] = p.targets.map((t) => {
    const recorded = run.targets.find((r) => r.name === t.name);
    if (recorded === undefined) throw new DefinitionChangedError(`run ${run.runId} has no target ${t.name}: it was started by another definition of ${p.name}.`);
    const relname = run.mode === 'full' && run.refresh === 'shadow' && recorded.shadow !== null ? recorded.shadow : recorded.table;
    return {
      name: t.name,
      sql: `${quote(recorded.schema)}.${quote(relname)}`,
      relname,
      columnsSql: t.columns.map((c) => c.sql),
      sourceKeySql: t.sourceKeySql,
    };
  });
  return { run, tables };
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The runs of these chunks, from this worker's cache or the ledger; a run of another definition is refused. */
async function runContexts(ctx: ChunkContext, loader: PoolClient, runIds: readonly string[]): Promise<Map<string, RunContext>> {
  const cache = (ctx.runs ??= new Map());
  const missing = runIds.filter((r) => !cache.has(r));
  if (missing.length > 0) {
    const { rows } = await loader.query(
      `SELECT run_id::text, status, mode, refresh, fingerprint, baseline_snapshot, targets FROM etl.runs WHERE run_id = ANY($1::uuid[])`,
      [missing],
    );
    if (cache.size > 1000) cache.clear();
    for (const r of rows as Record<string, unknown>[]) {
      cache.set(r.run_id as string, {
        runId: r.run_id as string, status: r.status as RunContext['status'], mode: r.mode as RunContext['mode'], refresh: r.refresh as RunContext['refresh'],
        fingerprint: r.fingerprint as string | null, baselineSnapshot: r.baseline_snapshot as string | null, targets: r.targets as RunContext['targets'],
      });
    }
  }
  const found = new Map<string, RunContext>();
  for (const runId of runIds) {
    const run = cache.get(runId);
    if (run === undefined) continue;
    if (run.fingerprint !== ctx.pipeline.fingerprint) {
      throw new DefinitionChangedError(
        `run ${runId} was started by another definition of pipeline ${ctx.pipeline.name} (fingerprint ${run.fingerprint ?? 'none'}; this worker runs ${ctx.pipeline.fingerprint}): ` +
          `deploy the definition the run was started with, or cancel it (pg-fanout cancel ${runId}) and start a new run.`,
      );
    }
    found.set(runId, run);
  }
  return found;
}

/** After a commit: enqueue the chunks it split off and, when it ended a run's copy phase, the build steps. */
async function sendFollowUps(ctx: ChunkContext, after: Map<string, RunAfterCommit>): Promise<void> {
  if (ctx.send === undefined) return;
  for (const [runId, a] of after) {
    try {
      if (a.newChunks.length > 0) {
        await ctx.send(a.newChunks.map((c) => ({ id: `c${c.chunkNo}`, body: encodeChunkMessage({ runId, ...c }) })));
        await withClient(ctx.target, (c) => markEnqueued(c, runId, a.newChunks.map((n) => n.chunkNo)));
      }
      if (a.copyPhaseEnded) await sendDueSteps(ctx.target, ctx.send, runId);
    } catch (error) {
      // Committed work is safe; the messages are re-sent by the next trigger's repair (or `resume`).
      console.error(JSON.stringify({ level: 'error', message: 'could not enqueue follow-up work', runId, error: describe(error) }));
    }
  }
}

async function recordFailure(ctx: ChunkContext, chunk: ChunkMessage, message: string, lastAttempt: boolean): Promise<void> {
  // A fresh connection: the one that failed may be dead. If the ledger itself is unreachable the
  // chunk's error still travels with the thrown ChunkFailedError and the message is retried.
  await withClient(ctx.target, (client) => recordChunkFailure(client, chunk.runId, chunk.chunkNo, message, lastAttempt)).catch((error: unknown) => {
    console.error(JSON.stringify({ level: 'error', message: 'could not record chunk failure in the ledger', chunk: chunk.chunkNo, runId: chunk.runId, error: describe(error) }));
  });
}

