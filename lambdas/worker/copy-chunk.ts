// The chunk operation: COPY one key range out of the source, transform it in-process, COPY it into
// the target, all committed in one transaction together with the range's rejects and the chunk's
// ledger row. Re-running it (in sequence or concurrently) leaves exactly one copy of every row.
// The chunks of one SQS batch can share that transaction and its COPY FROM (copyChunksTogether):
// per-statement and per-commit costs, not rows, are what make small chunks slow.
import { pipeline as streamPipeline } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import { guardClient, sqlLiteral, withClient, type Pool, type PoolClient } from '../shared/db.ts';
import { ChunkFailedError, describe, InvalidMessageError } from '../shared/errors.ts';
import { rangeText } from '../shared/keys.ts';
import { beginChunks, commitChunks, recordChunkFailure, type ChunkStatus, type RunStatus } from '../shared/ledger.ts';
import { chunkKey, type ChunkMessage } from '../shared/messages.ts';
import type { ResolvedTables } from '../shared/table-schema.ts';
import { encodeField } from '../transform/copy-text.ts';
import { createCopyTransform, type CopyTransform } from '../transform/copy-transform-stream.ts';
import type { RowTransform } from '../transform/row-transform.ts';
import { RejectSpool } from './reject-spool.ts';

export interface ChunkContext {
  /** Holds at least two connections: one COPYs out while the other COPYs in. */
  pool: Pool;
  tables: ResolvedTables;
  transform: RowTransform;
}

export interface ChunkResult {
  runId: string;
  chunkNo: number;
  /** true when the chunk was already done and nothing was written. */
  skipped: boolean;
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  durationMs: number;
  /** The run's status after this chunk (completed when this was its last chunk). */
  runStatus?: RunStatus;
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
    [outcome] = await copyChunksTogether(ctx, [chunk], { countAttempts: !options.attemptCounted });
  } catch (error) {
    const failure = new ChunkFailedError(chunk.runId, chunk.chunkNo, rangeText(chunk.lo, chunk.hi), error);
    await recordFailure(ctx, chunk, failure.message, options.lastAttempt ?? false);
    throw failure;
  }
  if (outcome!.kind === 'invalid') throw outcome!.error;
  return outcome!.result;
}

/**
 * Copies the chunks in one transaction through one COPY FROM, extracting them one after another on
 * the second connection, and commits them with their rejects and ledger rows. A chunk already done
 * is skipped; one the ledger does not have (or has with another range) is left alone and reported
 * invalid. All or nothing: on any error the transaction rolls back and the error is thrown — the
 * caller then copies the chunks one by one (copyChunk), which isolates and records a failing one.
 */
export async function copyChunksTogether(
  ctx: ChunkContext,
  chunks: readonly ChunkMessage[],
  options: { countAttempts?: boolean; onAttemptsCounted?: () => void } = {},
): Promise<ChunkOutcome[]> {
  const keys = new Set(chunks.map(chunkKey));
  if (keys.size !== chunks.length) throw new TypeError('copyChunksTogether: a chunk appears twice');
  const started = performance.now();
  const loader = await ctx.pool.connect();
  const loaderErrors = guardClient(loader);
  let committed = false;
  let broken = false;
  try {
    // Each range is cleared in the same round trip, guarded: deleted only if the ledger has the
    // chunk pending with this very range; the transaction is rolled back if nothing is copied.
    const ledger = await beginChunks(loader, chunks, (chunk, pendingGuard) => [
      `DELETE FROM ${ctx.tables.target.sql} WHERE ${rangeSql(ctx.tables.keySql, chunk)} AND ${pendingGuard}`,
      `DELETE FROM etl.rejects WHERE pipeline = ${sqlLiteral(ctx.tables.pipeline)} AND ${rangeSql('source_id', chunk)} AND ${pendingGuard}`,
    ], { countAttempts: options.countAttempts });
    options.onAttemptsCounted?.();
    const outcomes = chunks.map((chunk, i): ChunkOutcome | undefined => {
      const row = ledger[i];
      const range = rangeText(chunk.lo, chunk.hi);
      if (row === undefined) {
        return { kind: 'invalid', error: new InvalidMessageError(`chunk ${chunk.chunkNo} of run ${chunk.runId} is not in the ledger: the message is stale or forged; it will go to the DLQ.`) };
      }
      if (row.lo !== chunk.lo || row.hi !== chunk.hi) {
        return { kind: 'invalid', error: new InvalidMessageError(`message range ${range} differs from the ledger's ${rangeText(row.lo, row.hi)} for chunk ${chunk.chunkNo} of run ${chunk.runId}.`) };
      }
      // Done by an earlier delivery, or by a concurrent copy whose commit this one waited for.
      if (row.status === 'done') return { kind: 'done', result: { runId: chunk.runId, chunkNo: chunk.chunkNo, skipped: true, rowsRead: 0, rowsWritten: 0, rowsRejected: 0, durationMs: performance.now() - started } };
      return undefined;
    });
    const toCopy = chunks.flatMap((chunk, i) => (outcomes[i] === undefined ? [{ chunk, previous: ledger[i]!.status, index: i }] : []));
    if (toCopy.length > 0) {
      const results = await copyAndCommit(ctx, loader, toCopy, started);
      committed = true;
      toCopy.forEach(({ index }, k) => (outcomes[index] = { kind: 'done', result: results[k]! }));
    }
    return outcomes as ChunkOutcome[];
  } catch (error) {
    broken = true;
    throw loaderErrors[0] ?? error;
  } finally {
    if (!committed) await loader.query('ROLLBACK').catch(() => undefined);
    loader.release(broken || loaderErrors.length > 0 ? true : undefined);
  }
}

/** `column` within the chunk's range. Simple-query statements and COPY take no parameters: the bounds are bigints rendered by BigInt. */
function rangeSql(column: string, chunk: ChunkMessage): string {
  return chunk.hi === null ? `${column} >= ${chunk.lo}` : `${column} >= ${chunk.lo} AND ${column} < ${chunk.hi}`;
}

/** Inside the open transaction, the ranges cleared: stream the chunks into the target, record their rejects, commit. */
async function copyAndCommit(
  ctx: ChunkContext,
  loader: PoolClient,
  items: readonly { chunk: ChunkMessage; previous: ChunkStatus }[],
  started: number,
): Promise<ChunkResult[]> {
  const { tables } = ctx;
  const key = tables.keySql;
  const spool = new RejectSpool();
  try {
    const transforms: CopyTransform[] = [];
    async function* copyText(): AsyncGenerator<Buffer> {
      for (const { chunk } of items) {
        const transform = createCopyTransform({
          transform: ctx.transform,
          rejectPrefix: Buffer.concat([encodeField(chunk.runId), Buffer.from('\t'), encodeField(tables.pipeline), Buffer.from('\t')]),
          onRejects: (lines) => spool.add(lines),
        });
        const extractSql = `COPY (SELECT ${[key, ...tables.sourceColumnsSql].join(', ')} FROM ${tables.source.sql} WHERE ${rangeSql(key, chunk)}) TO STDOUT`;
        transforms.push(transform);
        yield* extractThrough(ctx.pool, extractSql, transform);
      }
    }
    const loadSql = `COPY ${tables.target.sql} (${[key, ...tables.targetColumnsSql].join(', ')}) FROM STDIN`;
    await pipeline(copyText, loader.query(copyStreams.from(loadSql)));
    // A batch's chunks are loaded by one COPY: each is timed to the end of that COPY.
    const durationMs = performance.now() - started;

    if (!spool.isEmpty) {
      const rejectSink = loader.query(copyStreams.from('COPY etl.rejects (run_id, pipeline, source_id, reason, name, age) FROM STDIN'));
      await pipeline(await spool.readable(), rejectSink);
    }

    const completed = items.map(({ chunk, previous }, k) => {
      const transform = transforms[k]!;
      return { runId: chunk.runId, chunkNo: chunk.chunkNo, previous, counts: { rowsRead: transform.rowsRead, rowsWritten: transform.rowsWritten, rowsRejected: transform.rowsRejected, durationMs } };
    });
    const runStatus = await commitChunks(loader, completed);
    return completed.map(({ runId, chunkNo, counts }) => ({ runId, chunkNo, skipped: false, ...counts, runStatus: runStatus.get(runId) }));
  } finally {
    await spool.dispose();
  }
}

/**
 * One range's COPY text through `transform`, on a connection of its own: a connection cannot COPY
 * out while another COPY into it is open. One that broke or was abandoned mid-stream is destroyed.
 */
async function* extractThrough(pool: Pool, sql: string, transform: CopyTransform): AsyncGenerator<Buffer> {
  const extractor = await pool.connect();
  const errors = guardClient(extractor);
  let finished = false;
  try {
    // Errors of the extract reach the loop below through the transform, which the pipeline destroys with them.
    const out = streamPipeline(extractor.query(copyStreams.to(sql)), transform, () => undefined);
    for await (const buf of out) yield buf as Buffer;
    finished = true;
  } finally {
    extractor.release(finished && errors.length === 0 ? undefined : true);
  }
}

async function recordFailure(ctx: ChunkContext, chunk: ChunkMessage, message: string, lastAttempt: boolean): Promise<void> {
  // A fresh connection: the one that failed may be dead. If the ledger itself is unreachable the
  // chunk's error still travels with the thrown ChunkFailedError and the message is retried.
  await withClient(ctx.pool, (client) => recordChunkFailure(client, chunk.runId, chunk.chunkNo, message, lastAttempt)).catch((error: unknown) => {
    console.error(JSON.stringify({ level: 'error', message: 'could not record chunk failure in the ledger', chunk: chunk.chunkNo, runId: chunk.runId, error: describe(error) }));
  });
}
