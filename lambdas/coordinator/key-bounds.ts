// Reads what planning needs from the source table: row count, max key, and chunk-start keys taken
// from the data itself (every CHUNK_ROWS-th key in key order).
import { inTransaction, type PoolClient } from '../shared/db.ts';
import { keyFromDb } from '../shared/keys.ts';
import type { ResolvedTables } from '../shared/table-schema.ts';

export interface KeyBounds {
  totalRows: bigint;
  maxKey: bigint | null;
  chunkStarts: bigint[];
}

/**
 * One ordered pass over the key (an index-only scan when the key is indexed): O(rows), about a
 * second per 10M rows here. `above` restricts to keys > above (incremental runs).
 */
export async function readKeyBounds(client: PoolClient, tables: ResolvedTables, chunkRows: number, above: bigint | null): Promise<KeyBounds> {
  const key = tables.keySql;
  const where = above === null ? '' : `WHERE ${key} > $1::bigint`;
  const params: string[] = above === null ? [] : [above.toString()];
  // One snapshot for both reads, so the count and the boundaries describe the same rows.
  return inTransaction(client, async () => {
    const totals = await client.query<{ total: string; max: string | null }>(
      `SELECT count(*)::text AS total, max(${key})::text AS max FROM ${tables.source.sql} ${where}`,
      params,
    );
    const starts = await client.query<{ k: string }>(
      `SELECT k::text AS k FROM (
         SELECT ${key} AS k, row_number() OVER (ORDER BY ${key}) AS rn FROM ${tables.source.sql} ${where}) s
        WHERE rn % ${chunkRows} = 1 AND rn > 1`,
      params,
    );
    return {
      totalRows: BigInt(totals.rows[0]?.total ?? '0'),
      maxKey: keyFromDb(totals.rows[0]?.max ?? null),
      chunkStarts: starts.rows.map((r) => BigInt(r.k)),
    };
  }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
}
