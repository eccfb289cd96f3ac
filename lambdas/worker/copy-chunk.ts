// The chunk operation: COPY one key range out of the source, transform it in-process, COPY it into
// the target, all committed in one transaction together with the range's rejects and the chunk's
// ledger row. Re-running it (in sequence or concurrently) leaves exactly one copy of every row.
import { pipeline } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import { guardClient, sqlLiteral, withClient, type Pool, type PoolClient } from '../shared/db.ts';
import { ChunkFailedError, describe, InvalidMessageError } from '../shared/errors.ts';
import { rangeText } from '../shared/keys.ts';
import { beginChunk, commitChunk, recordChunkFailure, type ChunkStatus, type RunStatus } from '../shared/ledger.ts';
import type { ChunkMessage } from '../shared/messages.ts';
import type { ResolvedTables } from '../shared/table-schema.ts';
import { encodeField } from '../transform/copy-text.ts';
import { createCopyTransform } from '../transform/copy-transform-stream.ts';
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
}

export async function copyChunk(ctx: ChunkContext, chunk: ChunkMessage, options: CopyChunkOptions = {}): Promise<ChunkResult> {
  const started = performance.now();
  const range = rangeText(chunk.lo, chunk.hi);
  const loader = await ctx.pool.connect();
  const loaderErrors = guardClient(loader);
  let loaderBroken = false;
  try {
    // The range is cleared in the same round trip, guarded: it is deleted only if the ledger has
    // this chunk pending with this very range, and the transaction is rolled back otherwise.
    const ledgerChunk = await beginChunk(loader, chunk, (pendingGuard) => [
      `DELETE FROM ${ctx.tables.target.sql} WHERE ${rangeSql(ctx.tables.keySql, chunk)} AND ${pendingGuard}`,
      `DELETE FROM etl.rejects WHERE pipeline = ${sqlLiteral(ctx.tables.pipeline)} AND ${rangeSql('source_id', chunk)} AND ${pendingGuard}`,
    ]);
    let result: ChunkResult | undefined;
    try {
      if (ledgerChunk === undefined) {
        throw new InvalidMessageError(`chunk ${chunk.chunkNo} of run ${chunk.runId} is not in the ledger: the message is stale or forged; it will go to the DLQ.`);
      }
      if (ledgerChunk.lo !== chunk.lo || ledgerChunk.hi !== chunk.hi) {
        throw new InvalidMessageError(`message range ${range} differs from the ledger's ${rangeText(ledgerChunk.lo, ledgerChunk.hi)} for chunk ${chunk.chunkNo} of run ${chunk.runId}.`);
      }
      // Done by an earlier delivery, or by a concurrent copy whose commit this one waited for.
      if (ledgerChunk.status !== 'done') result = await copyAndCommit(ctx, loader, chunk, ledgerChunk.status, started);
    } finally {
      if (result === undefined) await loader.query('ROLLBACK').catch(() => undefined);
    }
    return result ?? { runId: chunk.runId, chunkNo: chunk.chunkNo, skipped: true, rowsRead: 0, rowsWritten: 0, rowsRejected: 0, durationMs: performance.now() - started };
  } catch (error) {
    if (error instanceof InvalidMessageError) throw error;
    loaderBroken = true;
    const failure = new ChunkFailedError(chunk.runId, chunk.chunkNo, range, loaderErrors[0] ?? error);
    await recordFailure(ctx, chunk, failure.message, options.lastAttempt ?? false);
    throw failure;
  } finally {
    loader.release(loaderBroken || loaderErrors.length > 0 ? true : undefined);
  }
}

/** `column` within the chunk's range. Simple-query statements and COPY take no parameters: the bounds are bigints rendered by BigInt. */
function rangeSql(column: string, chunk: ChunkMessage): string {
  return chunk.hi === null ? `${column} >= ${chunk.lo}` : `${column} >= ${chunk.lo} AND ${column} < ${chunk.hi}`;
}

/** Inside the chunk's open transaction, its range cleared: copy the range into the target, record its rejects, commit. */
async function copyAndCommit(ctx: ChunkContext, loader: PoolClient, chunk: ChunkMessage, previous: ChunkStatus, started: number): Promise<ChunkResult> {
  const { tables } = ctx;
  const key = tables.keySql;
  const spool = new RejectSpool();
  try {
    const transform = createCopyTransform({
      transform: ctx.transform,
      rejectPrefix: Buffer.concat([encodeField(chunk.runId), Buffer.from('\t'), encodeField(tables.pipeline), Buffer.from('\t')]),
      onRejects: (lines) => spool.add(lines),
    });
    const extractSql = `COPY (SELECT ${[key, ...tables.sourceColumnsSql].join(', ')} FROM ${tables.source.sql} WHERE ${rangeSql(key, chunk)}) TO STDOUT`;
    const loadSql = `COPY ${tables.target.sql} (${[key, ...tables.targetColumnsSql].join(', ')}) FROM STDIN`;

    // The second connection only streams the range out; one that broke mid-stream is destroyed.
    await withClient(ctx.pool, (extractor) => pipeline(extractor.query(copyStreams.to(extractSql)), transform, loader.query(copyStreams.from(loadSql))));

    if (!spool.isEmpty) {
      const rejectSink = loader.query(copyStreams.from('COPY etl.rejects (run_id, pipeline, source_id, reason, name, age) FROM STDIN'));
      await pipeline(await spool.readable(), rejectSink);
    }

    const counts = { rowsRead: transform.rowsRead, rowsWritten: transform.rowsWritten, rowsRejected: transform.rowsRejected, durationMs: performance.now() - started };
    const runStatus = await commitChunk(loader, chunk.runId, chunk.chunkNo, previous, counts);
    return { runId: chunk.runId, chunkNo: chunk.chunkNo, skipped: false, ...counts, runStatus };
  } finally {
    await spool.dispose();
  }
}

async function recordFailure(ctx: ChunkContext, chunk: ChunkMessage, message: string, lastAttempt: boolean): Promise<void> {
  // A fresh connection: the one that failed may be dead. If the ledger itself is unreachable the
  // chunk's error still travels with the thrown ChunkFailedError and the message is retried.
  await withClient(ctx.pool, (client) => recordChunkFailure(client, chunk.runId, chunk.chunkNo, message, lastAttempt)).catch((error: unknown) => {
    console.error(JSON.stringify({ level: 'error', message: 'could not record chunk failure in the ledger', chunk: chunk.chunkNo, runId: chunk.runId, error: describe(error) }));
  });
}
