// The deletes of an incremental chunk, before its changed rows are copied in: the targets' and
// rejects' rows of every changed source row (they are replaced), and of every source row that has
// vanished from the range since (deleted, or its key changed). Vanished rows are found by a
// key-set difference: in SQL when source and target are one database; across two databases by
// comparing digests of the two key sets first and only listing keys when they differ.
import copyStreams from 'pg-copy-streams';
import type { PoolClient } from '../shared/db.ts';
import { sqlLiteral } from '../shared/db.ts';
import { keyRangeSql, type KeyRange } from '../shared/keys.ts';
import type { ResolvedPipeline } from '../pipeline/resolve-pipeline.ts';
import { decodeFieldText, NEWLINE, TAB } from '../transform/copy-text.ts';
import {
  changedSql, deleteKeysSql, deleteRejectKeysSql, deleteVanishedRejectsSql, deleteVanishedSql, keyDigestSql, rejectKeyColumns, type LoadTable,
} from './chunk-sql.ts';
import type { ExtractSession } from './extract-session.ts';

interface DeleteContext {
  readonly pipeline: ResolvedPipeline;
  readonly sameDatabase: boolean;
}

/** Returns how many target rows were deleted because their source rows vanished. */
export async function deleteChangedRows(
  ctx: DeleteContext,
  loader: PoolClient,
  session: ExtractSession,
  load: { readonly tables: readonly LoadTable[] },
  range: KeyRange,
  options: { changedKeys: Buffer; baselineXid: string },
): Promise<number> {
  const p = ctx.pipeline;
  const changed = keyColumnsOf(options.changedKeys, p.key.types.length);
  if (changed[0]!.length > 0) {
    for (const table of load.tables) await loader.query(deleteKeysSql(table, p.key), changed);
    await loader.query(deleteRejectKeysSql(p.key), [p.name, ...changed]);
  }
  if (ctx.sameDatabase) {
    let deleted = 0;
    for (const table of load.tables) deleted += (await loader.query(deleteVanishedSql(p, table, range))).rowCount ?? 0;
    await loader.query(deleteVanishedRejectsSql(p, range));
    return deleted;
  }
  return deleteVanishedAcross(p, loader, session, load.tables, range, changed, options.baselineXid);
}

/** Two databases: compare digests of the unchanged keys on both sides; list and diff the keys only when they differ. */
async function deleteVanishedAcross(
  p: ResolvedPipeline,
  loader: PoolClient,
  session: ExtractSession,
  tables: readonly LoadTable[],
  range: KeyRange,
  changed: string[][],
  baselineXid: string,
): Promise<number> {
  const keyCols = p.key.columns;
  const aliases = keyCols.map((_, i) => `k${i}`);
  const sourceRows = `${p.source.sql} WHERE ${keyRangeSql(p.key, range, sqlLiteral)} AND NOT (${changedSql(baselineXid)})`;
  const [source] = await session.query<{ n: string; x: string }>(keyDigestSql(keyCols, sourceRows));
  const landed = [
    ...tables.map((t) => `SELECT ${t.sourceKeySql.map((c, i) => `${c} AS ${aliases[i]}`).join(', ')} FROM ${t.sql} WHERE ${keyRangeSql(p.key, range, sqlLiteral, t.sourceKeySql)}`),
    `SELECT ${rejectKeyColumns(p.key).map((c, i) => `${c} AS ${aliases[i]}`).join(', ')} FROM etl.rejects
      WHERE pipeline = ${sqlLiteral(p.name)} AND ${keyRangeSql(p.key, range, sqlLiteral, rejectKeyColumns(p.key))}`,
  ].join(' UNION ');
  const keyTuple = aliases.length === 1 ? aliases[0]! : `(${aliases.join(', ')})`;
  const unchangedLanded = `(${landed}) u WHERE ${keyTuple} NOT IN (SELECT ${p.key.types.map((t, i) => `c${i}::${t}`).join(', ')} FROM unnest(${p.key.types.map((_, i) => `$${i + 1}::text[]`).join(', ')}) AS c(${p.key.types.map((_, i) => `c${i}`).join(', ')}))`;
  const target = (await loader.query<{ n: string; x: string }>(keyDigestSql(aliases, unchangedLanded), changed)).rows[0];
  if (source?.n === target?.n && source?.x === target?.x) return 0;

  // The sets differ: list the source keys of the range and find the landed keys it lacks.
  const present = new Set<string>();
  const listSql = `COPY (SELECT ${keyCols.join(', ')} FROM ${p.source.sql} WHERE ${keyRangeSql(p.key, range, sqlLiteral)}) TO STDOUT`;
  for await (const lines of linesOf(session.copyOut(listSql))) for (const line of lines) present.add(line);
  let deleted = 0;
  for (const t of tables) {
    const gone = await missingKeys(loader, `SELECT DISTINCT ${t.sourceKeySql.join(', ')} FROM ${t.sql} WHERE ${keyRangeSql(p.key, range, sqlLiteral, t.sourceKeySql)}`, present, p.key.types.length);
    if (gone[0]!.length > 0) deleted += (await loader.query(deleteKeysSql(t, p.key), gone)).rowCount ?? 0;
  }
  const goneRejects = await missingKeys(
    loader,
    `SELECT ${rejectKeyColumns(p.key).join(', ')} FROM etl.rejects WHERE pipeline = ${sqlLiteral(p.name)} AND ${keyRangeSql(p.key, range, sqlLiteral, rejectKeyColumns(p.key))}`,
    present,
    p.key.types.length,
  );
  if (goneRejects[0]!.length > 0) await loader.query(deleteRejectKeysSql(p.key), [p.name, ...goneRejects]);
  return deleted;
}

/** Keys the query lists (as COPY text lines) that are not in `present`, as one text array per key column. */
async function missingKeys(loader: PoolClient, select: string, present: ReadonlySet<string>, parts: number): Promise<string[][]> {
  const missing: Buffer[] = [];
  const stream = loader.query(copyStreams.to(`COPY (${select}) TO STDOUT`));
  async function* chunks(): AsyncGenerator<Buffer, number> {
    for await (const buf of stream) yield buf as Buffer;
    return stream.rowCount;
  }
  for await (const lines of linesOf(chunks())) for (const line of lines) if (!present.has(line)) missing.push(Buffer.from(`${line}\n`, 'utf8'));
  return keyColumnsOf(Buffer.concat(missing), parts);
}

/** COPY text chunks regrouped into whole lines (without the newline), as strings; a chunk may end mid-character. */
async function* linesOf(chunks: AsyncIterable<Buffer>): AsyncGenerator<string[]> {
  let tail: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const buf = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
    const last = buf.lastIndexOf(NEWLINE);
    if (last === -1) {
      tail = Buffer.from(buf);
      continue;
    }
    tail = Buffer.from(buf.subarray(last + 1));
    yield buf.toString('utf8', 0, last).split('\n');
  }
  if (tail.length > 0) yield [tail.toString('utf8')];
}

/** COPY text lines of key fields -> one array of decoded texts per key column. */
export function keyColumnsOf(lines: Buffer, parts: number): string[][] {
  const columns: string[][] = Array.from({ length: parts }, () => []);
  let p = 0;
  while (p < lines.length) {
    let end = lines.indexOf(NEWLINE, p);
    if (end === -1) end = lines.length;
    let fieldStart = p;
    for (let k = 0; k < parts; k++) {
      let fieldEnd = k === parts - 1 ? end : lines.indexOf(TAB, fieldStart);
      if (fieldEnd === -1 || fieldEnd > end) fieldEnd = end;
      columns[k]!.push(decodeFieldText(lines, fieldStart, fieldEnd) ?? '');
      fieldStart = fieldEnd + 1;
    }
    p = end + 1;
  }
  return columns;
}
