// The seam between the COPY plumbing and what a pipeline does to a row. The plumbing parses COPY
// text rows into field slices and hands them here; a transform writes the target fields (still
// COPY-text encoded) or names why the row is rejected. Another transform drops in by implementing
// this interface; copy-chunk.ts never changes.

/**
 * One source row, as the raw COPY text bytes of each selected column (escapes not decoded).
 * Field i spans `buf[start[i], end[i])`. A NULL field is exactly the two bytes `\N`.
 * The view is reused for every row: copy what you keep.
 */
export interface CopyRow {
  readonly buf: Buffer;
  readonly start: Int32Array;
  readonly end: Int32Array;
}

/** Appends COPY text to the outgoing row; the plumbing adds tabs between fields and the newline. */
export interface CopyFieldWriter {
  /** A field copied verbatim from raw, already-escaped COPY text bytes. */
  rawField(buf: Buffer, start: number, end: number): void;
  /** A field from a decoded JS string; the writer escapes it. */
  textField(value: string): void;
  /** The NULL marker. */
  nullField(): void;
}

export interface TargetColumn {
  readonly name: string;
  /** PostgreSQL type the target column must have, e.g. `text`, `integer`. */
  readonly type: string;
}

export interface RowTransform {
  /** Names the transform in a pipeline's fingerprint: change it when what the transform writes changes. */
  readonly id: string;
  /** Source columns selected after the key, in the order `CopyRow` fields 1..n have them (field 0 is the key). */
  readonly sourceColumns: readonly string[];
  /** Target columns written after the key, in order. */
  readonly targetColumns: readonly TargetColumn[];
  /**
   * Write the target fields after the key (the plumbing writes the key) and return null,
   * or return the reason the row is rejected and write nothing.
   */
  transformRow(row: CopyRow, out: CopyFieldWriter): string | null;
  /**
   * Optional fast path over many rows at once (the key, then `sourceColumns`, each row written
   * whole, key first): takes rows from `from` until one it leaves to `transformRow` (returning
   * there), `to`, or `limit` rows. See `splitNameRows`.
   */
  transformRows?(buf: Buffer, from: number, to: number, out: import('./copy-text.ts').CopyTextWriter, limit: number): { next: number; rows: number };
}
