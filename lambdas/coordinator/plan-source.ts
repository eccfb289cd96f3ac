// Reads what planning needs from the source, read-only, in one REPEATABLE READ snapshot: that
// snapshot itself (the next incremental run's baseline), the chunk-start keys, and the highest key.
// Small tables (and append runs' new keys) get an exact pass: every chunkRows-th key in key order.
// Big tables get boundaries from a sample of pages (TABLESAMPLE SYSTEM, ~30 per chunk, ~10 rows kept
// of each) sorted by key; a chunk that comes out too big is split by its worker.
import { inTransaction, sqlLiteral, type PoolClient } from '../shared/db.ts';
import { keyExpression, keyLiteralSql, type KeyValue } from '../shared/keys.ts';
import type { ResolvedPipeline } from '../pipeline/resolve-pipeline.ts';
import { sampleFraction, sampleRowRate } from './plan.ts';

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
    // Every kept row stands for 1 / (fraction x rate) rows: a chunk starts at every step-th kept row
    // in key order. Rows, not pages, so that a table whose physical order is not its key order
    // (random uuids, rows moved by updates) is split as evenly as a serial one.
    const fraction = sampleFraction(estimated, stats.pages, chunkRows);
    const rate = sampleRowRate(estimated, stats.pages);
    const step = Math.max(1, Math.round(chunkRows * fraction * rate));
    const keys = p.key.columns.join(', ');
    const sampled = await client.query(
      `WITH sample AS (SELECT ${keys} FROM ${p.source.sql} TABLESAMPLE SYSTEM (${(fraction * 100).toPrecision(6)})${rate < 1 ? ` WHERE random() < ${rate.toPrecision(6)}` : ''}),
            ordered AS (SELECT ${keys}, row_number() OVER (ORDER BY ${orderBy}) AS rn, count(*) OVER () AS n FROM sample)
       SELECT ${keyAliases}, starts, n::float8 AS n FROM (SELECT *, rn > 1 AND (rn - 1) % ${step} = 0 AS starts FROM ordered) o
        WHERE starts OR rn = n ORDER BY rn`,
    );
    const keptRows = sampled.rows.length === 0 ? 0 : Number(sampled.rows[0]!.n);
    // The last kept row comes too, for the count n; it starts a chunk only when it is a step-th.
    const starts = sampled.rows.filter((r) => r.starts === true).map(row);
    return {
      snapshot,
      totalRows: BigInt(Math.round(keptRows / (fraction * rate))),
      exact: false,
      rowsPerChunk: BigInt(chunkRows),
      chunkStarts: starts,
      maxKey,
      minKey,
    };
  }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
}
