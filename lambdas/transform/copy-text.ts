// PostgreSQL's COPY text format (the default of COPY ... TO STDOUT / FROM STDIN, UTF-8) at the byte
// level: decode one field's escapes, escape bytes on the way out, and a growable buffer that writes
// COPY text fields and lines. No I/O.
import { CopyFormatError } from '../shared/errors.ts';
import type { CopyFieldWriter } from './row-transform.ts';

export const TAB = 0x09;
export const NEWLINE = 0x0a;
export const BACKSLASH = 0x5c;
const UPPER_N = 0x4e;

/** The NULL marker: a field that is exactly these two bytes. */
export const NULL_FIELD: Buffer = Buffer.from('\\N', 'latin1');

// The byte an escape letter stands for (`\n` -> 0x0A), 0 where the letter is not one of them.
const ESCAPE_LETTER_VALUE = new Uint8Array(256);
ESCAPE_LETTER_VALUE[0x62] = 0x08; // \b
ESCAPE_LETTER_VALUE[0x66] = 0x0c; // \f
ESCAPE_LETTER_VALUE[0x6e] = 0x0a; // \n
ESCAPE_LETTER_VALUE[0x72] = 0x0d; // \r
ESCAPE_LETTER_VALUE[0x74] = 0x09; // \t
ESCAPE_LETTER_VALUE[0x76] = 0x0b; // \v

// The letter a byte is escaped with on output, 0 where the byte goes out raw. Exactly the set
// PostgreSQL's COPY TO escapes, so re-encoded fields are byte-identical to what it would send.
const ESCAPE_LETTER = new Uint8Array(256);
ESCAPE_LETTER[0x08] = 0x62;
ESCAPE_LETTER[0x09] = 0x74;
ESCAPE_LETTER[0x0a] = 0x6e;
ESCAPE_LETTER[0x0b] = 0x76;
ESCAPE_LETTER[0x0c] = 0x66;
ESCAPE_LETTER[0x0d] = 0x72;
ESCAPE_LETTER[BACKSLASH] = BACKSLASH;

// Hex digit value + 1, so 0 means "not a hex digit".
const HEX_VALUE_PLUS_ONE = new Uint8Array(256);
for (let d = 0; d < 10; d++) HEX_VALUE_PLUS_ONE[0x30 + d] = d + 1;
for (let d = 0; d < 6; d++) {
  HEX_VALUE_PLUS_ONE[0x41 + d] = d + 11;
  HEX_VALUE_PLUS_ONE[0x61 + d] = d + 11;
}

function isOctalDigit(b: number | undefined): b is number {
  return b !== undefined && b >= 0x30 && b <= 0x37;
}

/** True when `buf[start, end)` is the NULL marker `\N`. */
export function isNullField(buf: Uint8Array, start: number, end: number): boolean {
  return end - start === 2 && buf[start] === BACKSLASH && buf[start + 1] === UPPER_N;
}

/**
 * Decodes the escapes of the field `buf[start, end)` into the bytes they stand for; null for the
 * NULL marker. Accepts everything PostgreSQL's COPY FROM accepts: `\b \f \n \r \t \v`, 1-3 octal
 * digits, `\x` with 1-2 hex digits, and `\c` meaning c for any other c.
 */
export function decodeField(buf: Buffer, start = 0, end = buf.length): Buffer | null {
  if (isNullField(buf, start, end)) return null;
  const firstEscape = buf.indexOf(BACKSLASH, start);
  if (firstEscape === -1 || firstEscape >= end) return Buffer.from(buf.subarray(start, end));

  // Every escape decodes to fewer bytes than it takes, so the encoded length is enough.
  const out = Buffer.allocUnsafe(end - start);
  buf.copy(out, 0, start, firstEscape);
  let o = firstEscape - start;
  let i = firstEscape;
  while (i < end) {
    const b = buf[i++]!;
    if (b !== BACKSLASH) {
      out[o++] = b;
      continue;
    }
    if (i >= end) {
      // PostgreSQL never sends this: its backslashes are always escaped. A row split on a raw tab
      // or newline that PostgreSQL meant as escaped ends up here, so refuse rather than guess.
      throw new CopyFormatError(
        `COPY text field ends in a lone backslash (${JSON.stringify(buf.toString('utf8', start, end))}): ` +
          'the input is not COPY text as PostgreSQL writes it; escape backslashes as \\\\',
      );
    }
    const c = buf[i++]!;
    const letterValue = ESCAPE_LETTER_VALUE[c]!;
    if (letterValue !== 0) {
      out[o++] = letterValue;
    } else if (isOctalDigit(c)) {
      let value = c - 0x30;
      if (i < end && isOctalDigit(buf[i])) {
        value = value * 8 + (buf[i++]! - 0x30);
        if (i < end && isOctalDigit(buf[i])) value = value * 8 + (buf[i++]! - 0x30);
      }
      out[o++] = value & 0xff;
    } else if (c === 0x78 && i < end && HEX_VALUE_PLUS_ONE[buf[i]!]! !== 0) {
      let value = HEX_VALUE_PLUS_ONE[buf[i++]!]! - 1;
      if (i < end && HEX_VALUE_PLUS_ONE[buf[i]!]! !== 0) value = value * 16 + HEX_VALUE_PLUS_ONE[buf[i++]!]! - 1;
      out[o++] = value;
    } else {
      out[o++] = c;
    }
  }
  return out.subarray(0, o);
}

/** `decodeField` read as UTF-8 text. */
export function decodeFieldText(buf: Buffer, start = 0, end = buf.length): string | null {
  const bytes = decodeField(buf, start, end);
  return bytes === null ? null : bytes.toString('utf8');
}

/** How many bytes `src[start, end)` takes once escaped. */
export function escapedLength(src: Uint8Array, start: number, end: number): number {
  let length = end - start;
  for (let i = start; i < end; i++) if (ESCAPE_LETTER[src[i]!] !== 0) length++;
  return length;
}

/** Writes `src[start, end)` escaped into `dst` at `pos` (room is the caller's job); returns the end. */
export function escapeInto(src: Uint8Array, start: number, end: number, dst: Uint8Array, pos: number): number {
  let p = pos;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    const letter = ESCAPE_LETTER[b]!;
    if (letter === 0) {
      dst[p++] = b;
    } else {
      dst[p++] = BACKSLASH;
      dst[p++] = letter;
    }
  }
  return p;
}

/** One field as COPY text: the NULL marker for null, else the UTF-8 bytes escaped. */
export function encodeField(value: string | null): Buffer {
  if (value === null) return Buffer.from(NULL_FIELD);
  const raw = Buffer.from(value, 'utf8');
  const out = Buffer.allocUnsafe(escapedLength(raw, 0, raw.length));
  escapeInto(raw, 0, raw.length, out, 0);
  return out;
}

/** One row as COPY text, newline included. */
export function encodeRow(fields: readonly (string | null)[]): Buffer {
  const writer = new CopyTextWriter(64);
  for (const field of fields) {
    if (field === null) writer.nullField();
    else writer.textField(field);
  }
  writer.endLine();
  return writer.take();
}

/** Every row of a COPY text stream, decoded. A reference helper for tests and checks, not a hot path. */
export function decodeRows(text: Buffer): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let lineStart = 0;
  while (lineStart < text.length) {
    const lineEnd = text.indexOf(NEWLINE, lineStart);
    if (lineEnd === -1) {
      throw new CopyFormatError(
        `COPY text ends without a newline after row ${rows.length}: ${text.length - lineStart} bytes of an incomplete row; ` +
          'pass whole rows, each ending in \\n',
      );
    }
    const fields: (string | null)[] = [];
    let fieldStart = lineStart;
    for (;;) {
      const tab = text.indexOf(TAB, fieldStart);
      const fieldEnd = tab === -1 || tab > lineEnd ? lineEnd : tab;
      fields.push(decodeFieldText(text, fieldStart, fieldEnd));
      if (fieldEnd === lineEnd) break;
      fieldStart = fieldEnd + 1;
    }
    rows.push(fields);
    lineStart = lineEnd + 1;
  }
  return rows;
}

const MIN_WRITER_BYTES = 256;
const EMPTY = Buffer.alloc(0);

// Below this, a byte loop beats the native call `Buffer#copy` makes.
const SHORT_COPY = 48;

/**
 * COPY text lines written into one growable buffer: fields get a tab between them, `endLine`
 * adds the newline. Implements the `CopyFieldWriter` a `RowTransform` writes into.
 */
export class CopyTextWriter implements CopyFieldWriter {
  /** The buffer written into; replaced (bigger) when it fills up. */
  buf: Buffer;
  /** Bytes written so far. */
  pos = 0;
  #separate = false;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(MIN_WRITER_BYTES, initialBytes));
  }

  /** Starts over with room for at least `bytes`; what `take` returned before stays intact. */
  reset(bytes: number): void {
    if (this.buf.length < bytes) this.buf = Buffer.allocUnsafe(Math.max(MIN_WRITER_BYTES, Math.ceil(bytes)));
    this.pos = 0;
    this.#separate = false;
  }

  /** The bytes written, handed over: the writer never touches them again. */
  take(): Buffer {
    const written = this.buf.subarray(0, this.pos);
    // The next reset or reserve allocates a fresh buffer, sized for what comes next.
    this.buf = EMPTY;
    this.pos = 0;
    this.#separate = false;
    return written;
  }

  /** Forgets everything written after `pos` (a rejected row) and starts a new line there. */
  rewind(pos: number): void {
    this.pos = pos;
    this.#separate = false;
  }

  /** Makes room for `bytes` more. */
  reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(MIN_WRITER_BYTES, this.buf.length * 2, this.pos + bytes));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  /** Appends bytes as they are: no tab before them, and the next field still starts without one. */
  appendRaw(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    if (this.pos + n > this.buf.length) this.reserve(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = start; i < end; i++) buf[p++] = src[i]!;
    this.pos = p;
  }

  rawField(src: Buffer, start: number, end: number): void {
    const n = end - start;
    // +2: the tab before and the newline after, so endLine never has to grow.
    if (this.pos + n + 2 > this.buf.length) this.reserve(n + 2);
    const buf = this.buf;
    let p = this.pos;
    if (this.#separate) buf[p++] = TAB;
    else this.#separate = true;
    if (n < SHORT_COPY) {
      for (let i = start; i < end; i++) buf[p++] = src[i]!;
    } else {
      src.copy(buf, p, start, end);
      p += n;
    }
    this.pos = p;
  }

  textField(value: string): void {
    // A UTF-16 unit is at most 3 UTF-8 bytes, and only 1-byte characters get a second byte from
    // escaping, so 3 bytes a unit always fits; +2 for the tab and the newline.
    this.reserve(value.length * 3 + 2);
    const buf = this.buf;
    let p = this.pos;
    if (this.#separate) buf[p++] = TAB;
    else this.#separate = true;
    const n = buf.write(value, p, 'utf8');
    let escapes = 0;
    for (let i = p; i < p + n; i++) if (ESCAPE_LETTER[buf[i]!] !== 0) escapes++;
    if (escapes > 0) {
      // Escape in place, back to front, so no byte is overwritten before it is moved.
      let to = p + n + escapes;
      for (let from = p + n - 1; from >= p; from--) {
        const b = buf[from]!;
        const letter = ESCAPE_LETTER[b]!;
        if (letter === 0) {
          buf[--to] = b;
        } else {
          buf[--to] = letter;
          buf[--to] = BACKSLASH;
        }
      }
    }
    this.pos = p + n + escapes;
  }

  /**
   * A field from a string the caller knows is ASCII with no byte COPY escapes (digits, dates,
   * uuids) or already COPY-escaped ASCII: copied char by char, no UTF-8 encoder, no escape scan.
   */
  asciiField(value: string): void {
    const n = value.length;
    if (this.pos + n + 2 > this.buf.length) this.reserve(n + 2);
    const buf = this.buf;
    let p = this.pos;
    if (this.#separate) buf[p++] = TAB;
    else this.#separate = true;
    if (n < SHORT_COPY) {
      for (let i = 0; i < n; i++) buf[p++] = value.charCodeAt(i);
    } else {
      p += buf.write(value, p, n, 'latin1');
    }
    this.pos = p;
  }

  /**
   * For an encoder that writes a field's bytes itself (already COPY-escaped): makes room for
   * `maxBytes` and returns where in `buf` they go. Nothing counts until `closeField(end)`, so an
   * encoder that gives up part way leaves the writer as it was.
   */
  openField(maxBytes: number): number {
    if (this.pos + maxBytes + 2 > this.buf.length) this.reserve(maxBytes + 2);
    return this.#separate ? this.pos + 1 : this.pos;
  }

  /** Ends the field opened by `openField`, its bytes written up to `end`. */
  closeField(end: number): void {
    if (this.#separate) this.buf[this.pos] = TAB;
    else this.#separate = true;
    this.pos = end;
  }

  nullField(): void {
    if (this.pos + 4 > this.buf.length) this.reserve(4);
    const buf = this.buf;
    let p = this.pos;
    if (this.#separate) buf[p++] = TAB;
    else this.#separate = true;
    buf[p++] = BACKSLASH;
    buf[p++] = UPPER_N;
    this.pos = p;
  }

  /** Ends the line with a newline; the next field starts a new line. */
  endLine(): void {
    if (this.pos + 1 > this.buf.length) this.reserve(1);
    this.buf[this.pos++] = NEWLINE;
    this.#separate = false;
  }
}
