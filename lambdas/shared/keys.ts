// Key values and key ranges of any key type. A key value is the text PostgreSQL prints for each key
// column, in key column order: it travels in messages and the ledger as text and is cast back to
// the column's type in SQL, so no key is ever parsed into a lossy JS type. Pure.

/** One key: each key column's value as PostgreSQL text. A single-column key has one element. */
export type KeyValue = readonly string[];

/** A chunk's range of keys in the key's btree order: `lo` inclusive, `hi` exclusive; null = unbounded. */
export interface KeyRange {
  readonly lo: KeyValue | null;
  readonly hi: KeyValue | null;
}

/** `[lo, hi)` for messages and logs: `[-inf, 100)`, `[(1, a), (1, b))`. */
export function rangeText(lo: KeyValue | null, hi: KeyValue | null): string {
  return `[${lo === null ? '-inf' : keyText(lo)}, ${hi === null ? '+inf' : keyText(hi)})`;
}

export function keyText(key: KeyValue): string {
  return key.length === 1 ? key[0]! : `(${key.join(', ')})`;
}

export function sameKey(a: KeyValue | null, b: KeyValue | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * A key value as a PostgreSQL text-array literal (`{"a","b"}`), the form the ledger stores it in.
 * Every element is quoted, so commas, braces, quotes, backslashes and the text NULL survive.
 */
export function keyArrayLiteral(key: KeyValue): string {
  return `{${key.map((v) => `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
}

/** How SQL refers to a key: its columns (quoted) and the type each literal is cast to. */
export interface KeySql {
  /** Quoted column names (or expressions) in key order. */
  readonly columns: readonly string[];
  /** Type names for casting literals, e.g. `bigint`, `text`, `uuid` (no typmod: a cast to varchar(n) would truncate). */
  readonly types: readonly string[];
  /**
   * The source key columns' collations where not their type's default (quoted, e.g.
   * `"pg_catalog"."en-x-icu"`): every range condition compares in them, so a target's or the
   * rejects' copy of the key (in another collation) is cut at the same places as the source.
   */
  readonly collations?: readonly (string | null)[];
}

/** The key's columns (or another table's copy of them) compared in the source key's collations. */
export function collated(key: KeySql, columns: readonly string[]): string[] {
  return columns.map((c, i) => (key.collations?.[i] ? `(${c} COLLATE ${key.collations[i]})` : c));
}

/** `(a, b)` or `a`: the key as one comparable SQL value. */
export function keyExpression(key: KeySql, columns: readonly string[] = key.columns): string {
  return columns.length === 1 ? columns[0]! : `(${columns.join(', ')})`;
}

/** A key value as SQL: `'42'::bigint` or `ROW('t1'::text, '7'::bigint)`, quoted with `quote` (pg's escapeLiteral). */
export function keyLiteralSql(key: KeySql, value: KeyValue, quote: (text: string) => string): string {
  if (value.length !== key.types.length) throw new TypeError(`key value has ${value.length} part(s); the key has ${key.types.length}`);
  const parts = value.map((v, i) => `${quote(v)}::${key.types[i]}`);
  return parts.length === 1 ? parts[0]! : `ROW(${parts.join(', ')})`;
}

/**
 * The WHERE condition for a range of the key (row comparison for composite keys, which btree
 * indexes serve in the columns' own collations): `TRUE` when unbounded on both sides.
 * `columns` names the key columns in another table (a target's source-key columns).
 */
export function keyRangeSql(key: KeySql, range: KeyRange, quote: (text: string) => string, columns: readonly string[] = key.columns): string {
  const expr = keyExpression(key, collated(key, columns));
  const parts: string[] = [];
  if (range.lo !== null) parts.push(`${expr} >= ${keyLiteralSql(key, range.lo, quote)}`);
  if (range.hi !== null) parts.push(`${expr} < ${keyLiteralSql(key, range.hi, quote)}`);
  return parts.length === 0 ? 'TRUE' : parts.join(' AND ');
}
