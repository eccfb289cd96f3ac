// The seam between the COPY plumbing and a pipeline's transform: the plumbing parses COPY text rows
// of the source (key columns first) into field slices; an engine writes each target's COPY text
// lines for a row, or says why the row is rejected, or that it is filtered. Two engines: the
// byte-level built-in name split (raw-engine.ts) and user transforms on decoded values
// (decoded-engine.ts).
import type { CopyTextWriter } from './copy-text.ts';
import type { CopyRow } from './row-transform.ts';

/** Returned by `transformRow` for a row that goes nowhere and is not an error (counted as filtered). */
export const FILTERED = '\u0000filtered';

export interface RowEngine {
  /** Fields in each source row: the key columns, then the other declared columns. */
  readonly fieldCount: number;
  /** Leading fields that make up the key. */
  readonly keyFields: number;
  readonly targetCount: number;
  /**
   * Writes the row's lines (whole COPY text lines, newline included) into `outs[t]` for each target
   * t and adds the number written to `counts[t]`; returns null. Or returns FILTERED having written
   * nothing, or a reject reason — in which case whatever it wrote is discarded by the caller.
   */
  transformRow(row: CopyRow, outs: readonly CopyTextWriter[], counts: Float64Array): string | null;
  /**
   * Optional fast path for a single target: whole rows from `from` until one it leaves to
   * `transformRow` (returning where), `to`, or `limit` rows; adds the lines written to counts[0].
   */
  transformRows?(buf: Buffer, from: number, to: number, outs: readonly CopyTextWriter[], counts: Float64Array, limit: number): { next: number; rows: number };
  /** The source row as JSON text for `etl.rejects.source_row`. */
  rejectJson(row: CopyRow): string;
}
