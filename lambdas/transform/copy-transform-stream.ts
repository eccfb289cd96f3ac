// The COPY plumbing: a Transform stream from the COPY text of (key, source columns...) to the COPY
// text of (key, target columns...), running a RowTransform on each row and collecting the rejects
// as COPY text lines for `etl.rejects`. Rows and UTF-8 characters may straddle input chunks.
import { Transform, type TransformCallback } from 'node:stream';
import { CopyFormatError } from '../shared/errors.ts';
import { CopyTextWriter, NEWLINE, TAB } from './copy-text.ts';
import type { CopyRow, RowTransform } from './row-transform.ts';

export interface CopyTransformOptions {
  /** What to do to each row. */
  readonly transform: RowTransform;
  /**
   * COPY text put at the start of every reject line, already escaped and ending in a tab, e.g.
   * `<runId>\t`.
   * @default empty
   */
  readonly rejectPrefix?: Buffer;
  /**
   * Receives the reject lines found in one input chunk (whole COPY text lines: prefix, key, reason,
   * the raw source fields); called at most once per chunk and only when there are some. The buffer
   * is the receiver's to keep. If it throws, the stream fails with that error.
   */
  readonly onRejects: (lines: Buffer) => void;
}

interface CopyTransformCounts {
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
}

// Output is about the size of the input; a little headroom saves most grow-and-copy steps.
const OUTPUT_HEADROOM = 1.25;

/** The view the RowTransform reads each row through; one per stream, re-pointed for every row. */
interface MutableCopyRow extends CopyRow {
  buf: Buffer;
}

/**
 * Buffers of COPY text in, Buffers of COPY text out: one output Buffer per input chunk that holds a
 * row end. Each input row is the key then `transform.sourceColumns`; each output row the key then
 * what the transform wrote. A malformed row or input cut short fails the stream.
 */
export class CopyTransform extends Transform {
  readonly #transform: RowTransform;
  readonly #fieldCount: number;
  readonly #rejectPrefix: Buffer;
  readonly #onRejects: (lines: Buffer) => void;
  readonly #row: MutableCopyRow;
  readonly #out = new CopyTextWriter(64 * 1024);
  readonly #rejects = new CopyTextWriter(1024);
  // An incomplete row at the end of the last chunk(s), kept until its newline arrives.
  #tail: Buffer[] = [];
  #tailBytes = 0;
  readonly #counts: CopyTransformCounts = { rowsRead: 0, rowsWritten: 0, rowsRejected: 0 };

  constructor(options: CopyTransformOptions) {
    super();
    const { transform, rejectPrefix = Buffer.alloc(0), onRejects } = options;
    if (transform === undefined || typeof transform.transformRow !== 'function') {
      throw new TypeError('createCopyTransform: options.transform must be a RowTransform (an object with transformRow)');
    }
    if (typeof onRejects !== 'function') {
      throw new TypeError('createCopyTransform: options.onRejects must be a function, or rejected rows would be lost');
    }
    this.#transform = transform;
    this.#fieldCount = 1 + transform.sourceColumns.length;
    this.#rejectPrefix = rejectPrefix;
    this.#onRejects = onRejects;
    this.#row = { buf: Buffer.alloc(0), start: new Int32Array(this.#fieldCount), end: new Int32Array(this.#fieldCount) };
  }

  /** Input rows parsed so far. */
  get rowsRead(): number {
    return this.#counts.rowsRead;
  }

  /** Rows the transform wrote to the output. */
  get rowsWritten(): number {
    return this.#counts.rowsWritten;
  }

  /** Rows the transform rejected (sent to `onRejects`, not to the output). */
  get rowsRejected(): number {
    return this.#counts.rowsRejected;
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
      this.#out.reset((this.#tailBytes + length) * OUTPUT_HEADROOM);
      this.#tail.push(chunk.subarray(0, newline + 1));
      const row = Buffer.concat(this.#tail, this.#tailBytes + newline + 1);
      this.#tail = [];
      this.#tailBytes = 0;
      this.#transformRows(row, 0, row.length);
      from = newline + 1;
    } else {
      this.#out.reset(length * OUTPUT_HEADROOM);
    }

    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline >= from) {
      this.#transformRows(chunk, from, lastNewline + 1);
      from = lastNewline + 1;
    }
    if (from < length) this.#keepTail(chunk, from);

    if (this.#rejects.pos > 0) this.#onRejects(this.#rejects.take());
    if (this.#out.pos > 0) this.push(this.#out.take());
  }

  #keepTail(chunk: Buffer, from: number): void {
    // A copy: the producer may reuse its buffer once this chunk is consumed.
    this.#tail.push(Buffer.from(chunk.subarray(from)));
    this.#tailBytes += chunk.length - from;
  }

  /** Transforms the whole rows in `buf[from, to)`; `buf[to - 1]` is a newline. */
  #transformRows(buf: Buffer, from: number, to: number): void {
    const fieldCount = this.#fieldCount;
    const lastField = fieldCount - 1;
    const row = this.#row;
    const start = row.start;
    const end = row.end;
    const out = this.#out;
    const transform = this.#transform;
    row.buf = buf;

    // Counted in place, not in locals written back after the loop: V8 compiles this loop on stack
    // replacement before any code after it has run, and kept deoptimizing on that write-back.
    const counts = this.#counts;
    let p = from;
    while (p < to) {
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

      const lineStart = out.pos;
      out.rawField(buf, start[0]!, end[0]!);
      const reason = transform.transformRow(row, out);
      if (reason === null) {
        out.endLine();
        counts.rowsWritten++;
      } else {
        out.rewind(lineStart);
        this.#writeReject(buf, reason);
        counts.rowsRejected++;
      }
    }
  }

  #writeReject(buf: Buffer, reason: string): void {
    const rejects = this.#rejects;
    const { start, end } = this.#row;
    rejects.appendRaw(this.#rejectPrefix);
    rejects.rawField(buf, start[0]!, end[0]!);
    rejects.textField(reason);
    for (let f = 1; f < this.#fieldCount; f++) rejects.rawField(buf, start[f]!, end[f]!);
    rejects.endLine();
  }

  #fieldCountError(buf: Buffer, rowNumber: number, rowStart: number): CopyFormatError {
    const rowEnd = buf.indexOf(NEWLINE, rowStart);
    let fields = 1;
    for (let i = rowStart; i < rowEnd; i++) if (buf[i] === TAB) fields++;
    const preview = buf.toString('utf8', rowStart, Math.min(rowEnd, rowStart + 80));
    const columns = this.#transform.sourceColumns;
    const expected = columns.length === 0 ? 'the key only' : `the key, then ${columns.join(', ')}`;
    return new CopyFormatError(
      `COPY row ${rowNumber} has ${fields} fields, expected ${this.#fieldCount} (${expected}): ${JSON.stringify(preview)}; ` +
        'select exactly the key and the transform\'s sourceColumns, in that order',
    );
  }
}

/** A Transform stream (Buffers in, Buffers out) running `options.transform` over COPY text rows. */
export function createCopyTransform(options: CopyTransformOptions): CopyTransform {
  return new CopyTransform(options);
}
