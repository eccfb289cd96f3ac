// Reconciliation: is every input row in the output or in etl.rejects, exactly once? Per chunk of a
// run it compares row counts, an XOR of 64-bit key hashes and the sum of ages between the input
// and output ∪ rejects; one grouped pass over each side (width_bucket over the chunk bounds).
import type { PoolClient } from '../lambdas/shared/db.ts';
import { MIN_KEY, rangeText } from '../lambdas/shared/keys.ts';
import { listChunks, type ChunkRow, type RunRow } from '../lambdas/shared/ledger.ts';
import type { ResolvedTables } from '../lambdas/shared/table-schema.ts';

export interface ChunkCheck {
  chunkNo: number;
  range: string;
  input: SideSums;
  landed: SideSums;
}

interface SideSums {
  rows: bigint;
  keyHash: string;
  ageSum: string;
}

export interface Reconciliation {
  ok: boolean;
  inputRows: bigint;
  outputRows: bigint;
  rejectedRows: bigint;
  /** Chunks whose input and output ∪ rejects differ. */
  mismatched: ChunkCheck[];
  chunks: number;
}

const EMPTY: SideSums = { rows: 0n, keyHash: '0', ageSum: '0' };

/** Per chunk of the run. */
export async function reconcileRun(client: PoolClient, tables: ResolvedTables, run: RunRow): Promise<Reconciliation> {
  return reconcileRanges(client, tables, await listChunks(client, run.runId));
}

/** The whole table as one range: after incremental runs, every row any run moved. */
export async function reconcileTable(client: PoolClient, tables: ResolvedTables): Promise<Reconciliation> {
  return reconcileRanges(client, tables, [{ chunkNo: 0, lo: MIN_KEY, hi: null }]);
}

export async function reconcileRanges(client: PoolClient, tables: ResolvedTables, chunks: readonly Pick<ChunkRow, 'chunkNo' | 'lo' | 'hi'>[]): Promise<Reconciliation> {
  if (chunks.length === 0) return { ok: true, inputRows: 0n, outputRows: 0n, rejectedRows: 0n, mismatched: [], chunks: 0 };
  const bounds = chunks.map((c) => c.lo.toString());
  const lo = bounds[0]!;
  const last = chunks[chunks.length - 1]!;
  const hi = last.hi?.toString() ?? null;
  const key = tables.keySql;
  const inDomain = (col: string) => `${col} >= $2::bigint AND ($3::bigint IS NULL OR ${col} < $3::bigint)`;
  const sums = `count(*)::text AS rows, coalesce(bit_xor(hashint8extended(k, 0)), 0)::text AS key_hash, coalesce(sum(age), 0)::text AS age_sum`;
  const input = await client.query<{ b: number } & Record<string, string>>(
    `SELECT width_bucket(k, $1::bigint[]) AS b, ${sums}
       FROM (SELECT ${key} AS k, age FROM ${tables.source.sql} WHERE ${inDomain(key)}) s GROUP BY 1`,
    [bounds, lo, hi],
  );
  const landed = await client.query<{ b: number; output_rows: string; rejected_rows: string } & Record<string, string>>(
    `SELECT width_bucket(k, $1::bigint[]) AS b, ${sums},
            count(*) FILTER (WHERE side = 'o')::text AS output_rows, count(*) FILTER (WHERE side = 'r')::text AS rejected_rows
       FROM (SELECT ${key} AS k, age, 'o' AS side FROM ${tables.target.sql} WHERE ${inDomain(key)}
             UNION ALL
             SELECT source_id, age, 'r' FROM etl.rejects WHERE pipeline = $4 AND ${inDomain('source_id')}) s GROUP BY 1`,
    [bounds, lo, hi, tables.pipeline],
  );
  const toSums = (r: Record<string, string>): SideSums => ({ rows: BigInt(r.rows!), keyHash: r.key_hash!, ageSum: r.age_sum! });
  const inputBy = new Map(input.rows.map((r) => [r.b, toSums(r)]));
  const landedBy = new Map(landed.rows.map((r) => [r.b, toSums(r)]));
  const mismatched: ChunkCheck[] = [];
  let inputRows = 0n;
  chunks.forEach((c, i) => {
    const a = inputBy.get(i + 1) ?? EMPTY;
    const b = landedBy.get(i + 1) ?? EMPTY;
    inputRows += a.rows;
    if (a.rows !== b.rows || a.keyHash !== b.keyHash || a.ageSum !== b.ageSum) {
      mismatched.push({ chunkNo: c.chunkNo, range: rangeText(c.lo, c.hi), input: a, landed: b });
    }
  });
  const outputRows = landed.rows.reduce((n, r) => n + BigInt(r.output_rows), 0n);
  const rejectedRows = landed.rows.reduce((n, r) => n + BigInt(r.rejected_rows), 0n);
  return { ok: mismatched.length === 0, inputRows, outputRows, rejectedRows, mismatched, chunks: chunks.length };
}

export function describeMismatch(m: ChunkCheck): string {
  return `chunk ${m.chunkNo} ${m.range}: input ${m.input.rows} rows, output + rejects ${m.landed.rows} rows` +
    (m.input.rows === m.landed.rows ? ' (same count, different keys or ages)' : '');
}
