// The SQL text of a chunk's statements, built from a resolved pipeline and a key range. Pure. The
// statements go out in simple-query round trips and COPY, which take no parameters, so every value
// in them is a literal quoted by sqlLiteral and cast to its column's type.
import { sqlLiteral } from '../shared/db.ts';
import { collated, keyExpression, keyRangeSql, type KeyRange, type KeySql } from '../shared/keys.ts';
import type { ResolvedPipeline } from '../pipeline/resolve-pipeline.ts';

/** A table a chunk writes: a live target or its shadow, with the columns written in order. */
export interface LoadTable {
  /** The pipeline's name for the target. */
  readonly name: string;
  /** Quoted, schema-qualified. */
  readonly sql: string;
  /** Bare relation name, as PostgreSQL names it in COPY error contexts. */
  readonly relname: string;
  readonly columnsSql: readonly string[];
  /** Quoted columns holding the source key. */
  readonly sourceKeySql: readonly string[];
}

export interface ExtractOptions {
  /** Only rows whose creating transaction was not visible to the baseline snapshot (see change-capture.ts). */
  readonly changedSinceXid?: string;
  /** Read at most this many rows, in key order (the chunk is split at run time when more are there). */
  readonly limit?: number;
}

/** `(SELECT key…, columns… FROM source WHERE range …)`: the rows a chunk reads. */
export function selectChunkRows(p: ResolvedPipeline, range: KeyRange, options: ExtractOptions = {}): string {
  const where = [keyRangeSql(p.key, range, sqlLiteral)];
  if (options.changedSinceXid !== undefined) where.push(changedSql(options.changedSinceXid));
  const order = options.limit === undefined ? '' : ` ORDER BY ${p.key.columns.join(', ')} LIMIT ${options.limit}`;
  return `SELECT ${p.sourceColumns.map((c) => c.sql).join(', ')} FROM ${p.source.sql} WHERE ${where.join(' AND ')}${order}`;
}

export function extractSql(p: ResolvedPipeline, range: KeyRange, options: ExtractOptions = {}): string {
  return `COPY (${selectChunkRows(p, range, options)}) TO STDOUT`;
}

/**
 * Rows whose `xmin` (the transaction that wrote this version) is not older than the baseline
 * snapshot's oldest running transaction. `age()` counts back from the current transaction id in
 * 32-bit arithmetic that is exact while the distance is below 2^31 (the caller checks that); a
 * negative age only comes from a frozen row's ancient xmin, which is old.
 */
export function changedSql(baselineXid: string): string {
  if (!/^\d+$/.test(baselineXid)) throw new TypeError(`not a transaction id: ${baselineXid}`);
  return `age(xmin) BETWEEN 0 AND age(${sqlLiteral(baselineXid)}::xid)`;
}

export function loadSql(table: LoadTable): string {
  return `COPY ${table.sql} (${table.columnsSql.join(', ')}) FROM STDIN`;
}

export const REJECT_COLUMNS = '(run_id, pipeline, chunk_no, source_key, target, reason, source_row)';
export const LOAD_REJECTS_SQL = `COPY etl.rejects ${REJECT_COLUMNS} FROM STDIN`;

/** The key columns as stored in etl.rejects, cast back to the key's types. */
export function rejectKeyColumns(key: KeySql): string[] {
  return key.types.map((t, i) => `(source_key[${i + 1}])::${t}`);
}

/** Deletes a table's rows whose source key is in the range (an in-place rewrite of the range). */
export function deleteRangeSql(table: LoadTable, key: KeySql, range: KeyRange, guard: string): string {
  return `DELETE FROM ${table.sql} WHERE ${keyRangeSql(key, range, sqlLiteral, table.sourceKeySql)} AND ${guard}`;
}

/** Deletes a pipeline's rejects in the range (the key is cast back from its text form, row by row). */
export function deleteRejectsInRangeSql(pipeline: string, key: KeySql, range: KeyRange, guard: string): string {
  return `DELETE FROM etl.rejects WHERE pipeline = ${sqlLiteral(pipeline)} AND ${keyRangeSql(key, range, sqlLiteral, rejectKeyColumns(key))} AND ${guard}`;
}

/**
 * Deletes a table's rows whose source key is one of `$1…$n` (one text array per key column, cast to
 * the key's types): the old rows of changed source rows.
 */
export function deleteKeysSql(table: LoadTable, key: KeySql): string {
  return `DELETE FROM ${table.sql} WHERE ${keyExpression(key, collated(key, table.sourceKeySql))} IN (${unnestKeys(key)})`;
}

/** Deletes a pipeline's rejects for the keys `$2…` (text arrays, one per key column). */
export function deleteRejectKeysSql(key: KeySql): string {
  const cols = key.types.map((_, i) => `k${i}`);
  return `DELETE FROM etl.rejects WHERE pipeline = $1 AND source_key IN (
            SELECT ARRAY[${cols.join(', ')}] FROM unnest(${key.types.map((_, i) => `$${i + 2}::text[]`).join(', ')}) AS u(${cols.join(', ')}))`;
}

function unnestKeys(key: KeySql, firstParam = 1): string {
  const cols = key.types.map((_, i) => `k${i}`);
  return `SELECT ${cols.map((c, i) => `${c}::${key.types[i]}`).join(', ')} FROM unnest(${key.types.map((_, i) => `$${firstParam + i}::text[]`).join(', ')}) AS u(${cols.join(', ')})`;
}

/**
 * When source and target are one database: deletes a table's rows in the range whose source row
 * no longer exists (a merge anti-join of two index scans).
 */
export function deleteVanishedSql(p: ResolvedPipeline, table: LoadTable, range: KeyRange): string {
  const t = keyExpression(p.key, collated(p.key, table.sourceKeySql.map((c) => `t.${c}`)));
  const s = keyExpression(p.key, p.key.columns.map((c) => `s.${c}`));
  return `DELETE FROM ${table.sql} t WHERE ${keyRangeSql(p.key, range, sqlLiteral, table.sourceKeySql.map((c) => `t.${c}`))}
            AND NOT EXISTS (SELECT FROM ${p.source.sql} s WHERE ${s} = ${t} AND ${sourceRangeSql(p, range)})`;
}

/** The same for the pipeline's rejects. */
export function deleteVanishedRejectsSql(p: ResolvedPipeline, range: KeyRange): string {
  const r = keyExpression(p.key, collated(p.key, rejectKeyColumns(p.key)));
  const s = keyExpression(p.key, p.key.columns.map((c) => `s.${c}`));
  return `DELETE FROM etl.rejects WHERE pipeline = ${sqlLiteral(p.name)} AND ${keyRangeSql(p.key, range, sqlLiteral, rejectKeyColumns(p.key))}
            AND NOT EXISTS (SELECT FROM ${p.source.sql} s WHERE ${s} = ${r} AND ${sourceRangeSql(p, range)})`;
}

/**
 * The range again on the source side of a vanished-row anti-join. Implied by the key equality, but
 * without it PostgreSQL may hash the whole source table for every chunk (measured: a sequential scan
 * of 4M rows per 100k-row chunk, 1 s, against 54 ms for a merge of the two range scans).
 */
function sourceRangeSql(p: ResolvedPipeline, range: KeyRange): string {
  return keyRangeSql(p.key, range, sqlLiteral, p.key.columns.map((c) => `s.${c}`));
}

/** Count and XOR of 64-bit hashes of a set of keys: equal digests mean equal sets (but for a 2^-64 chance). */
export function keyDigestSql(keyColumns: readonly string[], from: string): string {
  const text = keyColumns.length === 1 ? `(${keyColumns[0]})::text` : `ROW(${keyColumns.join(', ')})::text`;
  return `SELECT count(*)::text AS n, coalesce(bit_xor(hashtextextended(${text}, 0)), 0)::text AS x FROM ${from}`;
}
