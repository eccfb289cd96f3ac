// Pure chunk planning: chunk-start keys taken from the data (every chunkRows-th key, or every n-th
// key of a sample) -> key ranges that cover the whole domain. Boundaries follow the data, so skewed
// keys give evenly filled chunks instead of min..max slices that are mostly empty. The keys arrive
// sorted by PostgreSQL in the key's own order (collations included): nothing here compares keys.
import { sameKey, type KeyValue } from '../shared/keys.ts';
import type { ChunkRange } from '../shared/ledger.ts';

export interface PlanInput {
  /** Lower end of the key domain this run covers (inclusive); null = unbounded. */
  readonly domainLo: KeyValue | null;
  /** Upper end (exclusive); null = unbounded, so rows inserted above today's max are covered too. */
  readonly domainHi: KeyValue | null;
  /** Keys that start a new chunk, ascending and inside the domain (a repeat of the previous one is dropped). */
  readonly chunkStarts: readonly KeyValue[];
  /** Rows in the domain at planning time (exact or estimated). */
  readonly totalRows: bigint;
  /** Rows between consecutive chunk starts (exact when taken every N rows, else an estimate). */
  readonly rowsPerChunk?: bigint;
}

export function planChunks(input: PlanInput): ChunkRange[] {
  const { domainLo, domainHi } = input;
  if (input.totalRows === 0n) {
    // No rows: still one chunk over the whole domain, so a full run clears stale target rows.
    return [{ lo: domainLo, hi: domainHi, rowsPlanned: 0n }];
  }
  const starts: KeyValue[] = [];
  let previous = domainLo;
  for (const key of input.chunkStarts) {
    if (previous !== null && sameKey(key, previous)) continue;
    starts.push(key);
    previous = key;
  }
  const per = input.rowsPerChunk;
  const ranges: ChunkRange[] = [];
  let lo = domainLo;
  for (const start of starts) {
    ranges.push({ lo, hi: start, ...(per !== undefined ? { rowsPlanned: per } : {}) });
    lo = start;
  }
  const lastRows = per !== undefined ? input.totalRows - per * BigInt(starts.length) : undefined;
  ranges.push({ lo, hi: domainHi, ...(lastRows !== undefined ? { rowsPlanned: lastRows > 0n ? lastRows : 0n } : {}) });
  return ranges;
}

/**
 * The share of a table's pages to sample for chunk boundaries. TABLESAMPLE SYSTEM takes whole
 * pages, and a page's rows are often neighbours in key order (a serial key), so what counts is
 * pages per chunk: about 30, at least 100 pages in all, at most everything. For 100,000-row chunks
 * of ~100-byte rows that is ~4% of the pages; planning reads them at random, never the whole table.
 */
export function sampleFraction(estimatedRows: number, pages: number, chunkRows: number): number {
  if (estimatedRows <= 0 || pages <= 0) return 1;
  const chunks = estimatedRows / chunkRows;
  return Math.min(1, Math.max(100 / pages, (30 * chunks) / pages));
}

/**
 * The share of a sampled page's rows that planning keeps: about 10 a page. What makes boundaries
 * even is the number of pages behind each chunk (a serial key's page is a run of neighbours) or,
 * for keys in no physical order (random uuids), the number of rows; ~300 rows a chunk is enough
 * for either, and sorting them, not the ~3% of the table the pages hold, is planning's cost.
 */
export function sampleRowRate(estimatedRows: number, pages: number): number {
  if (estimatedRows <= 0 || pages <= 0) return 1;
  return Math.min(1, 10 / (estimatedRows / pages));
}
