// When a target refuses a value inside COPY (a varchar overflow, an out-of-range integer, a CHECK,
// NOT NULL or unique violation), the chunk is not poisoned: its rows are read again in the same
// snapshot and loaded in small batches, each under a savepoint. A batch a target refuses is rolled
// back to its savepoint, the source row behind the refused line (PostgreSQL names the line) is set
// aside, and the batch is loaded again without it — in every target, so a source row is either
// wholly in the targets or wholly in etl.rejects with PostgreSQL's message. Its batch-mates commit
// exactly once. Memory holds one batch.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import copyStreams from 'pg-copy-streams';
import type { PoolClient } from '../shared/db.ts';
import type { ChunkRef } from '../shared/ledger.ts';
import { keyArrayLiteral } from '../shared/keys.ts';
import { CopyTextWriter, decodeFieldText, NEWLINE, TAB } from '../transform/copy-text.ts';
import { createCopyTransform } from '../transform/copy-transform-stream.ts';
import { isDataError, refusedLine, checkRead, rejectPrefix, type ChunkLoadResult, type LoadContext, type RunLoad } from './load-chunk.ts';
import { LOAD_REJECTS_SQL, loadSql, type LoadTable } from './chunk-sql.ts';
import type { ExtractSession } from './extract-session.ts';
import { Spool } from './spool.ts';

/** Source rows per savepoint batch: a refused row costs a reload of at most this many rows. */
const BATCH_ROWS = 1000;

interface Refusal {
  readonly target: string;
  readonly message: string;
}

export async function loadIsolating(
  ctx: LoadContext,
  loader: PoolClient,
  session: ExtractSession,
  load: RunLoad,
  chunk: ChunkRef,
  options: { extractSql: string; maxRows?: number; rowsDeleted: number; started: number },
): Promise<ChunkLoadResult> {
  const { engine } = ctx;
  const prefix = rejectPrefix(ctx.pipeline.name, chunk);
  const rejects = new Spool();
  const lines: Buffer[][] = load.tables.map(() => []);
  const sources: number[][] = load.tables.map(() => []);
  const transform = createCopyTransform({
    engine,
    streamTarget: null,
    onTargetLines: (t, buf) => lines[t]!.push(buf),
    onLineSources: (t, s) => sources[t]!.push(...s),
    rejectPrefix: prefix,
    onRejects: (buf) => rejects.add(buf),
    maxRows: options.maxRows,
  });
  const refused = new Map<number, Refusal>();
  const loaded = load.tables.map(() => 0);
  try {
    let pending: Buffer[] = [];
    let pendingRows = 0;
    let firstRow = 0;
    const flush = async () => {
      if (pendingRows === 0) return;
      const raw = Buffer.concat(pending);
      pending = [];
      pendingRows = 0;
      transform.transformLines(raw);
      const batch = { lines: lines.map((l) => splitLines(Buffer.concat(l))), sources: sources.map((s) => [...s]) };
      lines.forEach((l) => (l.length = 0));
      sources.forEach((s) => (s.length = 0));
      const setAside = await loadBatch(loader, load.tables, batch, refused, loaded);
      for (const ordinal of setAside) writeRefusedReject(rejects, prefix, engine, rowAt(raw, ordinal - firstRow), refused.get(ordinal)!);
      firstRow = transform.rowsRead + transform.overflowRows;
    };
    let tail: Buffer = Buffer.alloc(0);
    const extract = session.copyOut(options.extractSql);
    let sent = 0;
    for (;;) {
      const next = await extract.next();
      if (next.done) {
        sent = next.value;
        break;
      }
      const buf = tail.length === 0 ? next.value : Buffer.concat([tail, next.value]);
      const last = buf.lastIndexOf(NEWLINE);
      if (last === -1) {
        tail = Buffer.from(buf);
        continue;
      }
      const whole = buf.subarray(0, last + 1);
      tail = Buffer.from(buf.subarray(last + 1));
      pending.push(Buffer.from(whole));
      for (let i = 0; i < whole.length; i++) if (whole[i] === NEWLINE) pendingRows++;
      if (pendingRows >= BATCH_ROWS) await flush();
    }
    if (tail.length > 0) throw new Error(`chunk ${chunk.chunkNo}: the source's COPY output ended mid-row`);
    await flush();
    checkRead(chunk, sent, transform.rowsRead + transform.overflowRows);
    const rejected = await copySpool(loader, rejects, ctx.rejectsSql ?? LOAD_REJECTS_SQL);
    const targetRows: Record<string, number> = {};
    load.tables.forEach((t, i) => (targetRows[t.name] = loaded[i]!));
    if (rejected !== transform.rowsRejected + refused.size) throw new Error(`chunk ${chunk.chunkNo}: ${transform.rowsRejected + refused.size} rejects were sent but etl.rejects took ${rejected}`);
    return {
      counts: {
        rowsRead: transform.rowsRead,
        rowsWritten: transform.rowsWritten - refused.size,
        rowsRejected: transform.rowsRejected + refused.size,
        rowsFiltered: transform.rowsFiltered,
        rowsDeleted: options.rowsDeleted,
        targetRows,
        durationMs: performance.now() - options.started,
      },
      ...(transform.overflowKey === null ? {} : { splitAt: Object.freeze(transform.overflowKey) }),
    };
  } finally {
    await rejects.dispose();
  }
}

/**
 * Loads one batch into every target under a savepoint, setting aside each source row a target
 * refuses until the whole batch goes in. Returns the source rows set aside in this batch.
 */
async function loadBatch(
  loader: PoolClient,
  tables: readonly LoadTable[],
  batch: { lines: Buffer[][]; sources: number[][] },
  refused: Map<number, Refusal>,
  loaded: number[],
): Promise<number[]> {
  const setAside: number[] = [];
  for (;;) {
    await loader.query('SAVEPOINT pg_fanout_rows');
    let refusal: { ordinal: number; refusal: Refusal } | undefined;
    const counts: number[] = [];
    for (let t = 0; t < tables.length && refusal === undefined; t++) {
      const sendable = batch.lines[t]!.map((_, i) => i).filter((i) => !refused.has(batch.sources[t]![i]!));
      counts.push(sendable.length);
      if (sendable.length === 0) continue;
      const sink = loader.query(copyStreams.from(loadSql(tables[t]!)));
      try {
        await pipeline(Readable.from([Buffer.concat(sendable.map((i) => batch.lines[t]![i]!))]), sink);
      } catch (error) {
        const at = isDataError(error) ? refusedLine(error, tables[t]!.relname) : undefined;
        const index = at === undefined ? undefined : sendable[at.line - 1];
        if (at === undefined || index === undefined) throw error;
        const message = `${tables[t]!.name} refused the row: ${(error as Error).message}${at.column === null ? '' : ` (column ${at.column})`}`;
        refusal = { ordinal: batch.sources[t]![index]!, refusal: { target: tables[t]!.name, message } };
      }
    }
    if (refusal === undefined) {
      await loader.query('RELEASE SAVEPOINT pg_fanout_rows');
      counts.forEach((n, t) => (loaded[t]! += n));
      return setAside;
    }
    await loader.query('ROLLBACK TO SAVEPOINT pg_fanout_rows');
    refused.set(refusal.ordinal, refusal.refusal);
    setAside.push(refusal.ordinal);
  }
}

/** Whole lines of a COPY text buffer, each with its newline. */
function splitLines(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let p = 0;
  while (p < buf.length) {
    const end = buf.indexOf(NEWLINE, p);
    out.push(buf.subarray(p, end + 1));
    p = end + 1;
  }
  return out;
}

/** The n-th line (from 0) of a COPY text buffer, without its newline. */
function rowAt(buf: Buffer, n: number): Buffer {
  let p = 0;
  for (let i = 0; i < n; i++) p = buf.indexOf(NEWLINE, p) + 1;
  return buf.subarray(p, buf.indexOf(NEWLINE, p));
}

function writeRefusedReject(rejects: Spool, prefix: Buffer, engine: LoadContext['engine'], raw: Buffer, refusal: Refusal): void {
  const start = new Int32Array(engine.fieldCount);
  const end = new Int32Array(engine.fieldCount);
  let f = 0;
  start[0] = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === TAB) {
      end[f] = i;
      start[++f] = i + 1;
    }
  }
  end[f] = raw.length;
  const row = { buf: raw, start, end };
  const key: string[] = [];
  for (let k = 0; k < engine.keyFields; k++) key.push(decodeFieldText(raw, start[k], end[k]) ?? '');
  const w = new CopyTextWriter(256);
  w.appendRaw(prefix);
  w.textField(keyArrayLiteral(key));
  w.textField(refusal.target);
  w.textField(refusal.message);
  w.textField(engine.rejectJson(row));
  w.endLine();
  rejects.add(w.take());
}

async function copySpool(loader: PoolClient, spool: Spool, sql: string): Promise<number> {
  if (spool.isEmpty) return 0;
  const sink = loader.query(copyStreams.from(sql));
  await pipeline(await spool.readable(), sink);
  return sink.rowCount;
}
