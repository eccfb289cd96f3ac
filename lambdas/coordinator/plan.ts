// Pure chunk planning: key-domain bounds plus chunk-start keys taken from the data -> ranges.
// Boundaries come from the data (every CHUNK_ROWS-th key, or sample quantiles), so skewed keys give
// evenly filled chunks instead of min..max slices that are mostly empty.
import { MAX_KEY, MIN_KEY } from '../shared/keys.ts';

export interface ChunkRange {
  /** Inclusive. */
  readonly lo: bigint;
  /** Exclusive; null = unbounded above. */
  readonly hi: bigint | null;
  /** Rows expected at planning time, when known. */
  readonly rowsPlanned?: bigint;
}

export interface PlanInput {
  /** Lower end of the key domain this run covers (inclusive). */
  readonly domainLo: bigint;
  /** Upper end (exclusive); null = unbounded, so rows inserted above today's max are covered too. */
  readonly domainHi: bigint | null;
  /** Keys that start a new chunk, ascending. Out-of-domain or repeated keys are dropped. */
  readonly chunkStarts: readonly bigint[];
  /** Rows in the domain at planning time. */
  readonly totalRows: bigint;
  /** Rows between consecutive chunk starts when they were taken every N rows (exact plans). */
  readonly rowsPerChunk?: bigint;
}

export function planChunks(input: PlanInput): ChunkRange[] {
  const { domainLo, domainHi } = input;
  if (domainLo < MIN_KEY || domainLo > MAX_KEY) throw new RangeError(`domainLo ${domainLo} is outside bigint`);
  if (domainHi !== null && domainHi <= domainLo) return [];
  if (input.totalRows === 0n) {
    // No rows: still one chunk over the whole domain, so a full run clears stale target rows.
    return [{ lo: domainLo, hi: domainHi, rowsPlanned: 0n }];
  }
  const starts: bigint[] = [];
  let previous = domainLo;
  for (const key of input.chunkStarts) {
    if (key <= previous) continue;
    if (domainHi !== null && key >= domainHi) break;
    starts.push(key);
    previous = key;
  }
  const ranges: ChunkRange[] = [];
  let lo = domainLo;
  for (const start of starts) {
    ranges.push({ lo, hi: start, ...(input.rowsPerChunk !== undefined ? { rowsPlanned: input.rowsPerChunk } : {}) });
    lo = start;
  }
  const lastRows = input.rowsPerChunk !== undefined ? input.totalRows - input.rowsPerChunk * BigInt(starts.length) : undefined;
  ranges.push({ lo, hi: domainHi, ...(lastRows !== undefined ? { rowsPlanned: lastRows } : {}) });
  return ranges;
}

/**
 * Chunk starts from a uniform random sample of keys (sorted): every `perChunk`-th sampled key,
 * where perChunk = chunkRows x sampleFraction. Used when an exact scan would be too slow.
 */
export function startsFromSample(sortedSample: readonly bigint[], sampleFraction: number, chunkRows: number): bigint[] {
  const perChunk = Math.max(1, Math.round(chunkRows * sampleFraction));
  const starts: bigint[] = [];
  for (let i = perChunk; i < sortedSample.length; i += perChunk) starts.push(sortedSample[i]!);
  return starts;
}
