// What a chunk does inside its transaction, by run mode, once the ledger rows are locked:
// - full (shadow) / full in-place / append: the chunk's rows stream from the source through the
//   engine straight into the first target's COPY FROM; the other targets and the rejects are
//   spooled and copied after it. Several chunks of a batch share those COPY statements.
// - incremental: the changed rows are spooled first; the old rows of changed and vanished source
//   rows are deleted; then the spools are copied in.
// Every count is checked against what PostgreSQL reports at both ends before the chunk may commit.
import { pipeline } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import type { PoolClient } from '../shared/db.ts';
import { VerificationError } from '../shared/errors.ts';
import type { KeyValue } from '../shared/keys.ts';
import type { ChunkCounts, ChunkRef, RunContext } from '../shared/ledger.ts';
import type { ResolvedPipeline } from '../pipeline/resolve-pipeline.ts';
import { encodeField } from '../transform/copy-text.ts';
import { createCopyTransform, type CopyTransform } from '../transform/copy-transform-stream.ts';
import type { RowEngine } from '../transform/row-engine.ts';
import { deleteChangedRows } from './change-capture.ts';
import { extractSql, LOAD_REJECTS_SQL, loadSql, type LoadTable } from './chunk-sql.ts';
import type { ExtractSession } from './extract-session.ts';
import { Spool } from './spool.ts';

export interface LoadContext {
  readonly pipeline: ResolvedPipeline;
  readonly engine: RowEngine;
  /** Source and target are one database (and the loading role reads the source): vanished rows are found in SQL. */
  readonly sameDatabase: boolean;
  /** Where rejects go. @default LOAD_REJECTS_SQL (etl.rejects) */
  readonly rejectsSql?: string;
}

/** A run as its chunks are loaded: where each target is written. */
export interface RunLoad {
  readonly run: RunContext;
  readonly tables: readonly LoadTable[];
}

export interface ChunkLoadResult {
  readonly counts: ChunkCounts;
  /** The chunk held more than `maxRows`: it covers `[lo, splitAt)` and the rest is a new chunk. */
  readonly splitAt?: KeyValue;
}

/** The reject lines' first columns: run_id, pipeline, chunk_no. */
export function rejectPrefix(pipeline: string, chunk: ChunkRef): Buffer {
  return Buffer.concat([encodeField(chunk.runId), Buffer.from('\t'), encodeField(pipeline), Buffer.from(`\t${chunk.chunkNo}\t`)]);
}

/**
 * Streams the chunks (full and append runs) one after another through one COPY FROM per target.
 * With `maxRows`, a chunk reads at most that many rows and is split where the rest begins.
 */
export async function loadStreamed(
  ctx: LoadContext,
  loader: PoolClient,
  session: ExtractSession,
  load: RunLoad,
  chunks: readonly ChunkRef[],
  options: { maxRows?: number; started: number },
): Promise<ChunkLoadResult[]> {
  const { pipeline: p, engine } = ctx;
  const spools = load.tables.map(() => new Spool());
  const rejects = new Spool();
  try {
    const transforms: CopyTransform[] = [];
    const sent: number[] = [];
    async function* copyText(): AsyncGenerator<Buffer> {
      for (const chunk of chunks) {
        const transform = createCopyTransform({
          engine,
          streamTarget: 0,
          onTargetLines: (t, lines) => spools[t]!.add(lines),
          rejectPrefix: rejectPrefix(p.name, chunk),
          onRejects: (lines) => rejects.add(lines),
          maxRows: options.maxRows,
        });
        transforms.push(transform);
        const limit = options.maxRows === undefined ? undefined : options.maxRows + 1;
        sent.push(yield* session.through(extractSql(p, chunk, { limit }), transform));
      }
    }
    const first = loader.query(copyStreams.from(loadSql(load.tables[0]!)));
    await pipeline(copyText, first);
    // A batch's chunks are loaded by one COPY: each is timed to the end of that COPY.
    const durationMs = performance.now() - options.started;
    const loaded = [first.rowCount];
    for (let t = 1; t < load.tables.length; t++) loaded.push(await copySpool(loader, spools[t]!, loadSql(load.tables[t]!)));
    const rejected = await copySpool(loader, rejects, ctx.rejectsSql ?? LOAD_REJECTS_SQL);

    transforms.forEach((tr, i) => checkRead(chunks[i]!, sent[i]!, tr.rowsRead + tr.overflowRows));
    checkLoaded(load, transforms, loaded, rejected);
    return transforms.map((tr) => ({
      counts: countsOf(load, tr, 0, durationMs),
      ...(tr.overflowKey === null ? {} : { splitAt: Object.freeze(tr.overflowKey) }),
    }));
  } finally {
    await Promise.all([...spools, rejects].map((s) => s.dispose()));
  }
}

/**
 * An incremental chunk: spools the rows changed since the run's baseline, deletes the targets' and
 * rejects' rows for those keys and for source rows that vanished from the range, then copies the
 * spools in.
 */
export async function loadChanges(
  ctx: LoadContext,
  loader: PoolClient,
  session: ExtractSession,
  load: RunLoad,
  chunk: ChunkRef,
  options: { baselineXid: string; started: number; isolate?: boolean },
): Promise<ChunkLoadResult> {
  const { pipeline: p, engine } = ctx;
  const spools = load.tables.map(() => new Spool());
  const rejects = new Spool();
  const keyLines: Buffer[] = [];
  try {
    const transform = createCopyTransform({
      engine,
      streamTarget: null,
      onTargetLines: (t, lines) => spools[t]!.add(lines),
      rejectPrefix: rejectPrefix(p.name, chunk),
      onRejects: (lines) => rejects.add(lines),
      onKeys: (lines) => keyLines.push(lines),
    });
    const sql = extractSql(p, chunk, { changedSinceXid: options.baselineXid });
    const rowCount = await drain(session.through(sql, transform));
    checkRead(chunk, rowCount, transform.rowsRead);
    const rowsDeleted = await deleteChangedRows(ctx, loader, session, load, chunk, { changedKeys: Buffer.concat(keyLines), baselineXid: options.baselineXid });
    if (options.isolate) await loader.query('SAVEPOINT pg_fanout_changes');
    try {
      const loaded: number[] = [];
      for (let t = 0; t < load.tables.length; t++) loaded.push(await copySpool(loader, spools[t]!, loadSql(load.tables[t]!)));
      const rejected = await copySpool(loader, rejects, ctx.rejectsSql ?? LOAD_REJECTS_SQL);
      checkLoaded(load, [transform], loaded, rejected);
    } catch (error) {
      if (!options.isolate || !isDataError(error)) throw error;
      // A target refused a row: read the changes again in the same snapshot, setting refused rows aside.
      await loader.query('ROLLBACK TO SAVEPOINT pg_fanout_changes');
      const { loadIsolating } = await import('./isolate-refused-rows.ts');
      return loadIsolating(ctx, loader, session, load, chunk, { extractSql: sql, rowsDeleted, started: options.started });
    }
    return { counts: countsOf(load, transform, rowsDeleted, performance.now() - options.started) };
  } finally {
    await Promise.all([...spools, rejects].map((s) => s.dispose()));
  }
}

/** Consumes a generator and returns what it returns. */
async function drain<R>(g: AsyncGenerator<unknown, R>): Promise<R> {
  for (;;) {
    const r = await g.next();
    if (r.done) return r.value;
  }
}

async function copySpool(loader: PoolClient, spool: Spool, sql: string): Promise<number> {
  if (spool.isEmpty) return 0;
  const sink = loader.query(copyStreams.from(sql));
  await pipeline(await spool.readable(), sink);
  return sink.rowCount;
}

export function countsOf(load: RunLoad, tr: CopyTransform, rowsDeleted: number, durationMs: number): ChunkCounts {
  const targetRows: Record<string, number> = {};
  load.tables.forEach((t, i) => (targetRows[t.name] = tr.targetRows[i]!));
  return {
    rowsRead: tr.rowsRead,
    rowsWritten: tr.rowsWritten,
    rowsRejected: tr.rowsRejected,
    rowsFiltered: tr.rowsFiltered,
    rowsDeleted,
    targetRows,
    durationMs,
  };
}

/** PostgreSQL sent as many rows as the worker parsed. */
export function checkRead(chunk: ChunkRef, sent: number, parsed: number): void {
  if (sent !== parsed) {
    throw new VerificationError(`chunk ${chunk.chunkNo}: the source sent ${sent} rows but the worker parsed ${parsed}: nothing was committed; the chunk will be retried.`);
  }
}

/** Every target took exactly the lines the engine wrote for it, and etl.rejects the rejects. */
export function checkLoaded(load: RunLoad, transforms: readonly CopyTransform[], loaded: readonly number[], rejected: number): void {
  load.tables.forEach((t, i) => {
    const written = transforms.reduce((n, tr) => n + tr.targetRows[i]!, 0);
    if (loaded[i] !== written) {
      throw new VerificationError(`target ${t.name}: ${written} rows were sent but ${t.sql} took ${loaded[i]}: nothing was committed; the chunk will be retried.`);
    }
  });
  const expected = transforms.reduce((n, tr) => n + tr.rowsRejected, 0);
  if (rejected !== expected) throw new VerificationError(`${expected} rejects were sent but etl.rejects took ${rejected}: nothing was committed.`);
}

export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/** The line of a COPY FROM that PostgreSQL refused, from the error's context (`COPY name, line 3, column c: …`). */
export function refusedLine(error: unknown, relname: string): { line: number; column: string | null } | undefined {
  const where = (error as { where?: unknown } | undefined)?.where;
  if (typeof where !== 'string') return undefined;
  const prefix = `COPY ${relname}, line `;
  const at = where.indexOf(prefix);
  if (at === -1) return undefined;
  const m = /^(\d+)(?:, column ([^:]+))?/.exec(where.slice(at + prefix.length));
  if (m === null) return undefined;
  return { line: Number(m[1]), column: m[2] ?? null };
}
