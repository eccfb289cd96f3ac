// Reads what planning needs from the source, read-only, in one REPEATABLE READ snapshot: that
// snapshot itself (the next incremental run's baseline), the chunk-start keys, and the highest key.
// Small tables (and append runs' new keys) get an exact pass: every chunkRows-th key in key order.
// Big tables get boundaries from a page sample (TABLESAMPLE SYSTEM), which reads a fraction of a
// percent of the table whatever its size; a chunk that comes out too big is split by its worker.
import { inTransaction, sqlLiteral, type PoolClient } from '../shared/db.ts';
import { keyExpression, keyLiteralSql, type KeyValue } from '../shared/keys.ts';
import type { ResolvedPipeline } from '../pipeline/resolve-pipeline.ts';
import { sampleFraction } from './plan.ts';

export interface SourcePlan {
  /** `pg_current_snapshot()` of the planning read: taken before any chunk reads. */
  readonly snapshot: string;
  readonly totalRows: bigint;
  /** Boundaries every `rowsPerChunk` rows exactly (true), or estimated from a sample. */
  readonly exact: boolean;
  readonly rowsPerChunk: bigint;
  readonly chunkStarts: readonly KeyValue[];
  /** The highest key (the next append run starts above it); null for an empty table. */
  readonly maxKey: KeyValue | null;
  /** The lowest key read (above `above` when given): an append run's first chunk starts here. */
  readonly minKey: KeyValue | null;
}

/** Tables estimated below this many rows are planned exactly (a pass over the key index costs ~25 ms per 100,000 keys). */
export const EXACT_PLAN_BELOW_ROWS = 250_000;

export async function planSource(
  client: PoolClient,
  p: ResolvedPipeline,
  chunkRows: number,
  options: { above?: KeyValue | null; exactBelowRows?: number } = {},
): Promise<SourcePlan> {
  const key = keyExpression(p.key);
  const above = options.above ?? null;
  const where = above === null ? '' : `WHERE ${key} > ${keyLiteralSql(p.key, above, sqlLiteral)}`;
  const orderBy = p.key.columns.join(', ');
  const row = (r: Record<string, unknown>): KeyValue => p.key.columns.map((_, i) => r[`k${i}`] as string);
  const keyAliases = p.key.columns.map((c, i) => `${c}::text AS k${i}`).join(', ');
  return inTransaction(client, async () => {
    const snapshot = (await client.query<{ s: string }>('SELECT pg_current_snapshot()::text AS s')).rows[0]!.s;
    const stats = (await client.query<{ rows: number; pages: number }>(
      `SELECT c.reltuples::float8 AS rows, (pg_relation_size(c.oid) / current_setting('block_size')::int)::float8 AS pages
         FROM pg_class c WHERE c.oid = to_regclass($1)`,
      [p.source.sql],
    )).rows[0] ?? { rows: -1, pages: 0 };
    const max = (await client.query(`SELECT ${keyAliases} FROM ${p.source.sql} ${where} ORDER BY ${p.key.columns.map((c) => `${c} DESC`).join(', ')} LIMIT 1`)).rows[0];
    const maxKey = max === undefined ? null : row(max);
    const min = maxKey === null ? undefined
      : (await client.query(`SELECT ${keyAliases} FROM ${p.source.sql} ${where} ORDER BY ${orderBy} LIMIT 1`)).rows[0];
    const minKey = min === undefined ? null : row(min);
    const estimated = stats.rows >= 0 ? stats.rows : stats.pages * 50;
    if (above !== null || estimated < (options.exactBelowRows ?? EXACT_PLAN_BELOW_ROWS) || maxKey === null) {
      const total = (await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${p.source.sql} ${where}`)).rows[0]!.n;
      const starts = await client.query(
        `SELECT ${p.key.columns.map((_, i) => `k${i}`).join(', ')} FROM (
           SELECT ${keyAliases}, row_number() OVER (ORDER BY ${orderBy}) AS rn FROM ${p.source.sql} ${where}) s
          WHERE (rn - 1) % ${chunkRows} = 0 AND rn > 1 ORDER BY rn`,
      );
      return { snapshot, totalRows: BigInt(total), exact: true, rowsPerChunk: BigInt(chunkRows), chunkStarts: starts.rows.map(row), maxKey, minKey };
    }
    // Each sampled page stands for its rows by its first key (in key order), so the sort is over
    // pages, not rows; its row count weighs it.
    const fraction = sampleFraction(estimated, stats.pages, chunkRows);
    const keys = p.key.columns.join(', ');
    const sampled = await client.query(
      `WITH sample AS (SELECT ${keys}, (ctid::text::point)[0] AS page FROM ${p.source.sql} TABLESAMPLE SYSTEM (${(fraction * 100).toPrecision(6)})),
            pages AS (SELECT DISTINCT ON (page) ${keys}, count(*) OVER (PARTITION BY page) AS rows FROM sample ORDER BY page, ${orderBy}),
            ordered AS (SELECT ${keyAliases}, sum(rows) OVER (ORDER BY ${orderBy}) AS upto, rows FROM pages)
       SELECT ${p.key.columns.map((_, i) => `k${i}`).join(', ')}, upto::float8 AS upto, rows::float8 AS rows FROM ordered ORDER BY upto`,
    );
    const sampledRows = sampled.rows.length === 0 ? 0 : Number(sampled.rows[sampled.rows.length - 1]!.upto);
    // A page starts a chunk when the rows before it reach the next multiple of a chunk's share.
    const perChunk = chunkRows * fraction;
    const starts: KeyValue[] = [];
    let next = perChunk;
    for (const r of sampled.rows) {
      const before = Number(r.upto) - Number(r.rows);
      if (before >= next) {
        starts.push(row(r));
        next = before + perChunk;
      }
    }
    return {
      snapshot,
      totalRows: BigInt(Math.round(sampledRows / fraction)),
      exact: false,
      rowsPerChunk: BigInt(chunkRows),
      chunkStarts: starts,
      maxKey,
      minKey,
    };
  }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
}
