// The COPY plumbing: a Transform stream from the COPY text of a source range (key columns first) to
// the COPY text of each target, running a RowEngine on every row, and collecting the rejects as COPY
// text lines for `etl.rejects`. One target's lines can be this stream's output (straight into its
// COPY FROM); the others are handed out per input chunk (to spools). Rows and UTF-8 characters may
// straddle input chunks.
import { Transform, type TransformCallback } from 'node:stream';
import { CopyFormatError } from '../shared/errors.ts';
import { keyArrayLiteral } from '../shared/keys.ts';
import { CopyTextWriter, decodeFieldText, NEWLINE, TAB } from './copy-text.ts';
import { FILTERED, type RowEngine } from './row-engine.ts';
import type { CopyRow } from './row-transform.ts';

export interface CopyTransformOptions {
  /** What to do to each row. */
  readonly engine: RowEngine;
  /** The target whose lines are this stream's output; null: every target goes to `onTargetLines`. @default 0 */
  readonly streamTarget?: number | null;
  /** Lines of the targets that are not the stream's output, per input chunk; the buffer is the receiver's. */
  readonly onTargetLines?: (target: number, lines: Buffer) => void;
  /**
   * COPY text put at the start of every reject line, already escaped and ending in a tab: the
   * `run_id`, `pipeline`, `chunk_no` columns of `etl.rejects`. @default empty
   */
  readonly rejectPrefix?: Buffer;
  /**
   * Receives the reject lines found in one input chunk (prefix, source key as a text array, NULL
   * target, reason, source row as JSON); called at most once per chunk and only when there are
   * some. The buffer is the receiver's to keep. If it throws, the stream fails with that error.
   */
  readonly onRejects: (lines: Buffer) => void;
  /** Receives, per input chunk, the key fields of every row read (COPY text, a line per row). */
  readonly onKeys?: (lines: Buffer) => void;
  /** Receives, per input chunk and target, the source row number (from 0) of every line written. */
  readonly onLineSources?: (target: number, sources: readonly number[]) => void;
  /**
   * Transform at most this many rows; of the rows after them only the first one's key is kept
   * (`overflowKey`: where the rest of the range starts) and nothing else is done.
   */
  readonly maxRows?: number;
}

// Output is about the size of the input; a little headroom saves most grow-and-copy steps.
const OUTPUT_HEADROOM = 1.25;

/** The view the engine reads each row through; one per stream, re-pointed for every row. */
interface MutableCopyRow extends CopyRow {
  buf: Buffer;
}

/**
 * Buffers of COPY text in, Buffers of COPY text out. A malformed row or input cut short fails the
 * stream. Counts rows read, rejected, filtered, and lines written per target.
 */
export class CopyTransform extends Transform {
  readonly #engine: RowEngine;
  readonly #fieldCount: number;
  readonly #streamTarget: number | null;
  readonly #onTargetLines: ((target: number, lines: Buffer) => void) | undefined;
  readonly #rejectPrefix: Buffer;
  readonly #onRejects: (lines: Buffer) => void;
  readonly #onKeys: ((lines: Buffer) => void) | undefined;
  readonly #onLineSources: ((target: number, sources: readonly number[]) => void) | undefined;
  readonly #row: MutableCopyRow;
  readonly #outs: CopyTextWriter[];
  readonly #rejects = new CopyTextWriter(1024);
  readonly #keys: CopyTextWriter | undefined;
  readonly #sources: number[][] | undefined;
  readonly #linesBefore: Float64Array;
  readonly #positions: Int32Array;
  // An incomplete row at the end of the last chunk(s), kept until its newline arrives.
  #tail: Buffer[] = [];
  #tailBytes = 0;
  readonly #counts = { rowsRead: 0, rowsRejected: 0, rowsFiltered: 0 };
  /** Lines written per target. */
  readonly targetRows: Float64Array;
  readonly #maxRows: number;
  /** The key (each key column's text) of the first row past `maxRows`, when one came. */
  overflowKey: string[] | null = null;
  /** Rows that came past `maxRows`. */
  overflowRows = 0;

  constructor(options: CopyTransformOptions) {
    super();
    const { engine, rejectPrefix = Buffer.alloc(0), onRejects } = options;
    if (engine === undefined || typeof engine.transformRow !== 'function') {
      throw new TypeError('createCopyTransform: options.engine must be a RowEngine (an object with transformRow)');
    }
    if (typeof onRejects !== 'function') {
      throw new TypeError('createCopyTransform: options.onRejects must be a function, or rejected rows would be lost');
    }
    const streamTarget = options.streamTarget === undefined ? 0 : options.streamTarget;
    if (engine.targetCount > (streamTarget === null ? 0 : 1) && options.onTargetLines === undefined) {
      throw new TypeError('createCopyTransform: options.onTargetLines is needed for the targets that are not the stream output');
    }
    this.#engine = engine;
    this.#fieldCount = engine.fieldCount;
    this.#streamTarget = streamTarget;
    this.#onTargetLines = options.onTargetLines;
    this.#rejectPrefix = rejectPrefix;
    this.#onRejects = onRejects;
    this.#onKeys = options.onKeys;
    this.#onLineSources = options.onLineSources;
    this.#row = { buf: Buffer.alloc(0), start: new Int32Array(this.#fieldCount), end: new Int32Array(this.#fieldCount) };
    this.#outs = Array.from({ length: engine.targetCount }, () => new CopyTextWriter(64 * 1024));
    this.#keys = options.onKeys === undefined ? undefined : new CopyTextWriter(16 * 1024);
    this.#sources = options.onLineSources === undefined ? undefined : Array.from({ length: engine.targetCount }, () => []);
    this.targetRows = new Float64Array(engine.targetCount);
    this.#linesBefore = new Float64Array(engine.targetCount);
    this.#positions = new Int32Array(engine.targetCount);
    this.#maxRows = options.maxRows ?? Number.POSITIVE_INFINITY;
  }

  /** Input rows parsed so far. */
  get rowsRead(): number {
    return this.#counts.rowsRead;
  }

  /** Input rows that produced at least one target line. */
  get rowsWritten(): number {
    return this.#counts.rowsRead - this.#counts.rowsRejected - this.#counts.rowsFiltered;
  }

  /** Rows the engine rejected (sent to `onRejects`, to no target). */
  get rowsRejected(): number {
    return this.#counts.rowsRejected;
  }

  /** Rows the engine filtered out (to no target, not an error). */
  get rowsFiltered(): number {
    return this.#counts.rowsFiltered;
  }

  /**
   * Transforms whole lines (`lines` ends in a newline) at once, outside the stream: everything goes
   * to the callbacks, none to the stream's output. For a caller that paces the input itself. After
   * it throws (a malformed row, a callback that threw) the CopyTransform is spent: its counts already
   * include rows whose lines were never handed out, so the caller ends the load instead of going on.
   */
  transformLines(lines: Buffer): void {
    if (this.#streamTarget !== null) throw new TypeError('transformLines needs a CopyTransform whose streamTarget is null');
    if (lines.length === 0) return;
    if (lines[lines.length - 1] !== NEWLINE || this.#tailBytes > 0) throw new TypeError('transformLines takes whole lines only');
    this.#transformChunk(lines);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#transformChunk(chunk);
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.#tailBytes > 0) {
      callback(
        new CopyFormatError(
          `COPY input ended without a final newline: row ${this.#counts.rowsRead + 1} has ${this.#tailBytes} bytes and no \\n; ` +
            'the input was cut short; feed the stream the whole COPY output, every row ending in \\n',
        ),
      );
      return;
    }
    callback();
  }

  #transformChunk(chunk: Buffer): void {
    const length = chunk.length;
    if (length === 0) return;
    let from = 0;
    if (this.#tailBytes > 0) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline === -1) {
        this.#keepTail(chunk, 0);
        return;
      }
      this.#resetOutputs((this.#tailBytes + length) * OUTPUT_HEADROOM);
      this.#tail.push(chunk.subarray(0, newline + 1));
      const row = Buffer.concat(this.#tail, this.#tailBytes + newline + 1);
      this.#tail = [];
      this.#tailBytes = 0;
      this.#transformRows(row, 0, row.length);
      from = newline + 1;
    } else {
      this.#resetOutputs(length * OUTPUT_HEADROOM);
    }

    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline >= from) {
      this.#transformRows(chunk, from, lastNewline + 1);
      from = lastNewline + 1;
    }
    if (from < length) this.#keepTail(chunk, from);
    this.#handOut();
  }

  #resetOutputs(bytes: number): void {
    const outs = this.#outs;
    for (let t = 0; t < outs.length; t++) outs[t]!.reset(t === this.#streamTarget ? bytes : 1024);
    this.#keys?.reset(1024);
  }

  #handOut(): void {
    if (this.#rejects.pos > 0) this.#onRejects(this.#rejects.take());
    if (this.#keys !== undefined && this.#keys.pos > 0) this.#onKeys!(this.#keys.take());
    const outs = this.#outs;
    for (let t = 0; t < outs.length; t++) {
      const out = outs[t]!;
      if (this.#sources !== undefined && this.#sources[t]!.length > 0) {
        this.#onLineSources!(t, this.#sources[t]!);
        this.#sources[t] = [];
      }
      if (out.pos === 0) continue;
      if (t === this.#streamTarget) this.push(out.take());
      else this.#onTargetLines!(t, out.take());
    }
  }

  #keepTail(chunk: Buffer, from: number): void {
    // A copy: the producer may reuse its buffer once this chunk is consumed.
    this.#tail.push(Buffer.from(chunk.subarray(from)));
    this.#tailBytes += chunk.length - from;
  }

  /**
   * Transforms the whole rows in `buf[from, to)`; `buf[to - 1]` is a newline. An engine with a fast
   * path over many rows takes them while it can; a row it leaves goes through the general loop.
   */
  #transformRows(buf: Buffer, from: number, to: number): void {
    const engine = this.#engine;
    if (engine.transformRows === undefined || this.#keys !== undefined || this.#sources !== undefined || this.#outs.length !== 1) {
      this.#transformEachRow(buf, from, to);
      return;
    }
    const counts = this.#counts;
    let p = from;
    while (p < to) {
      if (counts.rowsRead < this.#maxRows) {
        const r = engine.transformRows(buf, p, to, this.#outs, this.targetRows, this.#maxRows - counts.rowsRead);
        counts.rowsRead += r.rows;
        p = r.next;
        if (p >= to) return;
      }
      const rowEnd = buf.indexOf(NEWLINE, p) + 1;
      this.#transformEachRow(buf, p, rowEnd);
      p = rowEnd;
    }
  }

  /** The general loop: each row parsed into fields and handed to the engine. */
  #transformEachRow(buf: Buffer, from: number, to: number): void {
    const fieldCount = this.#fieldCount;
    const lastField = fieldCount - 1;
    const row = this.#row;
    const start = row.start;
    const end = row.end;
    const outs = this.#outs;
    const engine = this.#engine;
    const targetRows = this.targetRows;
    const positions = this.#positions;
    const targetCount = outs.length;
    const keys = this.#keys;
    const keyFields = engine.keyFields;
    const sources = this.#sources;
    row.buf = buf;

    // Counted in place, not in locals written back after the loop: V8 compiles this loop on stack
    // replacement before any code after it has run, and kept deoptimizing on that write-back.
    const counts = this.#counts;
    let p = from;
    while (p < to) {
      if (counts.rowsRead === this.#maxRows) {
        p = this.#skipOverflowRow(buf, p, to);
        continue;
      }
      const rowNumber = ++counts.rowsRead;
      // One pass over the row's bytes finds both the tabs and the newline: cheaper than a native
      // indexOf call per field for rows this short.
      let field = 0;
      start[0] = p;
      let b = buf[p]!;
      while (b !== NEWLINE) {
        if (b === TAB) {
          if (field === lastField) throw this.#fieldCountError(buf, rowNumber, start[0]!);
          end[field] = p;
          start[++field] = p + 1;
        }
        b = buf[++p]!;
      }
      if (field !== lastField) throw this.#fieldCountError(buf, rowNumber, start[0]!);
      end[field] = p;
      p++;

      if (keys !== undefined) {
        for (let k = 0; k < keyFields; k++) keys.rawField(buf, start[k]!, end[k]!);
        keys.endLine();
      }
      for (let t = 0; t < targetCount; t++) positions[t] = outs[t]!.pos;
      if (sources !== undefined) this.#linesBefore.set(targetRows);
      const reason = engine.transformRow(row, outs, targetRows);
      if (reason === null) {
        if (sources !== undefined) {
          for (let t = 0; t < targetCount; t++) for (let n = this.#linesBefore[t]!; n < targetRows[t]!; n++) sources[t]!.push(rowNumber - 1);
        }
        continue;
      }
      for (let t = 0; t < targetCount; t++) outs[t]!.rewind(positions[t]!);
      if (reason === FILTERED) {
        counts.rowsFiltered++;
      } else {
        this.#writeReject(reason);
        counts.rowsRejected++;
      }
    }
  }

  /** A row past `maxRows`: keeps the first one's key, skips the row; returns where the next row starts. */
  #skipOverflowRow(buf: Buffer, p: number, to: number): number {
    const newline = buf.indexOf(NEWLINE, p);
    const end = newline === -1 || newline >= to ? to - 1 : newline;
    if (this.overflowKey === null) {
      const key: string[] = [];
      let fieldStart = p;
      for (let k = 0; k < this.#engine.keyFields; k++) {
        let fieldEnd = buf.indexOf(TAB, fieldStart);
        if (fieldEnd === -1 || fieldEnd > end) fieldEnd = end;
        key.push(decodeFieldText(buf, fieldStart, fieldEnd) ?? '');
        fieldStart = fieldEnd + 1;
      }
      this.overflowKey = key;
    }
    this.overflowRows++;
    return end + 1;
  }

  #writeReject(reason: string): void {
    const rejects = this.#rejects;
    const row = this.#row;
    const key: string[] = [];
    for (let k = 0; k < this.#engine.keyFields; k++) key.push(decodeFieldText(row.buf, row.start[k], row.end[k]) ?? '');
    rejects.appendRaw(this.#rejectPrefix);
    rejects.textField(keyArrayLiteral(key));
    rejects.nullField();
    rejects.textField(reason);
    rejects.textField(this.#engine.rejectJson(row));
    rejects.endLine();
  }

  #fieldCountError(buf: Buffer, rowNumber: number, rowStart: number): CopyFormatError {
    const rowEnd = buf.indexOf(NEWLINE, rowStart);
    let fields = 1;
    for (let i = rowStart; i < rowEnd; i++) if (buf[i] === TAB) fields++;
    const preview = buf.toString('utf8', rowStart, Math.min(rowEnd, rowStart + 80));
    return new CopyFormatError(
      `COPY row ${rowNumber} has ${fields} fields, expected ${this.#fieldCount} (the key, then the declared source columns): ${JSON.stringify(preview)}; ` +
        'select exactly the key columns and the declared source columns, in that order',
    );
  }
}

/** A Transform stream (Buffers in, Buffers out) running `options.engine` over COPY text rows. */
export function createCopyTransform(options: CopyTransformOptions): CopyTransform {
  return new CopyTransform(options);
}
