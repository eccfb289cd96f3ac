// The name split as a RowTransform on raw COPY bytes: (name, age) -> (first_name, last_name, age).
// Names without escapes are split on their bytes; names with escapes are decoded and handed to
// `splitName`, the reference, so both paths give the same answer.
import { BACKSLASH, type CopyTextWriter, decodeFieldText, isNullField, NEWLINE, TAB } from './copy-text.ts';

const UPPER_N = 0x4e;
import type { CopyFieldWriter, CopyRow, RowTransform } from './row-transform.ts';
import { NAME_IS_EMPTY, NAME_IS_NULL, NAME_IS_WHITESPACE_ONLY, splitName } from './split-name.ts';

// Byte classes for the scan: most name bytes are ORDINARY and cost one table load.
const ORDINARY = 0;
const SPACE = 1;
const MAYBE_WHITESPACE = 2; // a raw control byte or a byte of a non-ASCII character
const ESCAPE = 3;
const BYTE_CLASS = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  if (b === 0x20) BYTE_CLASS[b] = SPACE;
  else if (b === BACKSLASH) BYTE_CLASS[b] = ESCAPE;
  else if (b < 0x20 || b >= 0x80) BYTE_CLASS[b] = MAYBE_WHITESPACE;
}

/**
 * The length of the JavaScript whitespace character (`\s`) whose UTF-8 starts at `buf[i]`, or 0.
 * Raw 0x09-0x0D never come from PostgreSQL (it escapes them) but are whitespace if another writer
 * sends them. Lead bytes never occur inside a UTF-8 character, so a match is a whole character.
 * The set is ECMAScript's WhiteSpace + LineTerminator; a unit test checks it against `/\s/` for
 * every code point.
 */
function whitespaceLength(buf: Buffer, i: number, end: number): number {
  const b = buf[i]!;
  if (b < 0x80) return b === 0x20 || (b >= 0x09 && b <= 0x0d) ? 1 : 0;
  if (b === 0xc2) return i + 1 < end && buf[i + 1] === 0xa0 ? 2 : 0; // U+00A0
  if (b < 0xe1 || b > 0xef || i + 2 >= end) return 0;
  const b1 = buf[i + 1]!;
  const b2 = buf[i + 2]!;
  switch (b) {
    case 0xe1: // U+1680
      return b1 === 0x9a && b2 === 0x80 ? 3 : 0;
    case 0xe2: // U+2000-200A, U+2028, U+2029, U+202F, U+205F
      if (b1 === 0x80) return (b2 >= 0x80 && b2 <= 0x8a) || b2 === 0xa8 || b2 === 0xa9 || b2 === 0xaf ? 3 : 0;
      return b1 === 0x81 && b2 === 0x9f ? 3 : 0;
    case 0xe3: // U+3000
      return b1 === 0x80 && b2 === 0x80 ? 3 : 0;
    case 0xef: // U+FEFF
      return b1 === 0xbb && b2 === 0xbf ? 3 : 0;
    default:
      return 0;
  }
}

/**
 * Field 1 is the name, field 2 the age (field 0 is the key, written by the plumbing). A name
 * without a backslash is its own decoded UTF-8, so it is trimmed and split on its bytes and the
 * parts are copied out verbatim; a backslash means escapes (`\t` is whitespace), decoded first.
 */
function transformRow(row: CopyRow, out: CopyFieldWriter): string | null {
  const buf = row.buf;
  const start = row.start[1]!;
  const end = row.end[1]!;
  if (start === end) return NAME_IS_EMPTY;
  if (isNullField(buf, start, end)) return NAME_IS_NULL;

  let i = start;
  let width = 0;
  while (i < end && (width = whitespaceLength(buf, i, end)) !== 0) i += width;
  if (i === end) return NAME_IS_WHITESPACE_ONLY;

  const firstStart = i;
  while (i < end) {
    const kind = BYTE_CLASS[buf[i]!]!;
    if (kind === ORDINARY) {
      i++;
    } else if (kind === SPACE) {
      break;
    } else if (kind === ESCAPE) {
      return transformDecoded(row, out);
    } else if (whitespaceLength(buf, i, end) !== 0) {
      break;
    } else {
      i++;
    }
  }
  const firstEnd = i;
  while (i < end && (width = whitespaceLength(buf, i, end)) !== 0) i += width;

  // The rest runs to the last non-whitespace character; inner whitespace is kept.
  const lastStart = i;
  let lastEnd = i;
  while (i < end) {
    const kind = BYTE_CLASS[buf[i]!]!;
    if (kind === ORDINARY) {
      lastEnd = ++i;
    } else if (kind === SPACE) {
      i++;
    } else if (kind === ESCAPE) {
      return transformDecoded(row, out);
    } else if ((width = whitespaceLength(buf, i, end)) !== 0) {
      i += width;
    } else {
      lastEnd = ++i;
    }
  }

  out.rawField(buf, firstStart, firstEnd);
  if (lastEnd > lastStart) out.rawField(buf, lastStart, lastEnd);
  else out.nullField();
  out.rawField(buf, row.start[2]!, row.end[2]!);
  return null;
}

function transformDecoded(row: CopyRow, out: CopyFieldWriter): string | null {
  const result = splitName(decodeFieldText(row.buf, row.start[1], row.end[1]));
  if ('reject' in result) return result.reject;
  out.textField(result.firstName);
  if (result.lastName === null) out.nullField();
  else out.textField(result.lastName);
  out.rawField(row.buf, row.start[2]!, row.end[2]!);
  return null;
}

/**
 * The fast path of the whole row loop, for rows `key TAB name TAB age NEWLINE` whose name has no
 * backslash and is not blank: it finds the fields and splits the name in one pass over the bytes
 * and writes the output line straight into the writer's buffer. It stops (returning where) at the
 * first row it does not take — an escape, a blank or NULL name (a reject), a malformed row — so the
 * caller runs that one row through the general path, and after `limit` rows.
 */
export function splitNameRows(buf: Buffer, from: number, to: number, out: CopyTextWriter, limit: number): { next: number; rows: number } {
  out.reserve((to - from) + 64);
  let ob = out.buf;
  let o = out.pos;
  let p = from;
  let rows = 0;
  while (p < to && rows < limit) {
    const rowStart = p;
    let b = buf[p]!;
    while (b !== TAB) {
      if (b === NEWLINE) return stop(out, o, rowStart, rows);
      b = buf[++p]!;
    }
    const keyEnd = p;
    const nameStart = ++p;
    // One pass over the name: its tab, and whether any byte needs the careful path.
    let plain = true;
    b = buf[p]!;
    while (b !== TAB) {
      if (b === NEWLINE || b === BACKSLASH) plain = false;
      if (b === NEWLINE) break;
      b = buf[++p]!;
    }
    if (!plain || p === nameStart) return stop(out, o, rowStart, rows);
    const nameEnd = p;
    const ageStart = ++p;
    b = buf[p]!;
    while (b !== NEWLINE) {
      if (b === TAB) return stop(out, o, rowStart, rows);
      b = buf[++p]!;
    }
    const ageEnd = p++;

    let i = nameStart;
    let width = 0;
    while (i < nameEnd && (width = whitespaceLength(buf, i, nameEnd)) !== 0) i += width;
    if (i === nameEnd) return stop(out, o, rowStart, rows);
    const firstStart = i;
    while (i < nameEnd) {
      const kind = BYTE_CLASS[buf[i]!]!;
      if (kind === ORDINARY) i++;
      else if (kind === SPACE || whitespaceLength(buf, i, nameEnd) !== 0) break;
      else i++;
    }
    const firstEnd = i;
    while (i < nameEnd && (width = whitespaceLength(buf, i, nameEnd)) !== 0) i += width;
    const lastStart = i;
    let lastEnd = i;
    while (i < nameEnd) {
      const kind = BYTE_CLASS[buf[i]!]!;
      if (kind === ORDINARY) lastEnd = ++i;
      else if (kind === SPACE) i++;
      else if ((width = whitespaceLength(buf, i, nameEnd)) !== 0) i += width;
      else lastEnd = ++i;
    }

    if (o + (p - rowStart) + 8 > ob.length) {
      out.pos = o;
      out.reserve((p - rowStart) + 8 + (to - p));
      ob = out.buf;
    }
    for (let k = rowStart; k < keyEnd; k++) ob[o++] = buf[k]!;
    ob[o++] = TAB;
    for (let k = firstStart; k < firstEnd; k++) ob[o++] = buf[k]!;
    ob[o++] = TAB;
    if (lastEnd > lastStart) {
      for (let k = lastStart; k < lastEnd; k++) ob[o++] = buf[k]!;
    } else {
      ob[o++] = BACKSLASH;
      ob[o++] = UPPER_N;
    }
    ob[o++] = TAB;
    for (let k = ageStart; k < ageEnd; k++) ob[o++] = buf[k]!;
    ob[o++] = NEWLINE;
    rows++;
  }
  out.pos = o;
  return { next: p, rows };
}

function stop(out: CopyTextWriter, o: number, at: number, rows: number): { next: number; rows: number } {
  out.pos = o;
  return { next: at, rows };
}

/** `input_table(id, name, age)` -> `output_table(id, first_name, last_name, age)`. */
export const splitNameTransform: RowTransform = Object.freeze({
  id: 'name-split/1',
  transformRows: splitNameRows,
  sourceColumns: Object.freeze(['name', 'age']),
  targetColumns: Object.freeze([
    Object.freeze({ name: 'first_name', type: 'text' }),
    Object.freeze({ name: 'last_name', type: 'text' }),
    Object.freeze({ name: 'age', type: 'integer' }),
  ]),
  transformRow,
});
