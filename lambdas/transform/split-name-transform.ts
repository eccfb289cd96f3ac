// The name split as a RowTransform on raw COPY bytes: (name, age) -> (first_name, last_name, age).
// Plain ASCII names are split on the bytes themselves; anything else is decoded and handed to
// `splitName`, the reference, so both paths give the same answer.
import { BACKSLASH, decodeFieldText, isNullField } from './copy-text.ts';
import type { CopyFieldWriter, CopyRow, RowTransform } from './row-transform.ts';
import { NAME_IS_EMPTY, NAME_IS_NULL, NAME_IS_WHITESPACE_ONLY, splitName } from './split-name.ts';

const SPACE = 0x20;

// Bytes the byte-level split cannot judge: a backslash starts an escape (`\t` is whitespace),
// bytes >= 0x80 may be U+00A0, U+3000 and other non-ASCII whitespace, and raw control bytes
// (PostgreSQL escapes 0x08-0x0D, but other writers may not) may be whitespace too. With none of
// them, the space byte is the only whitespace a field can hold.
const NEEDS_DECODING = new Uint8Array(256);
for (let b = 0; b < 256; b++) NEEDS_DECODING[b] = b < 0x20 || b >= 0x80 || b === BACKSLASH ? 1 : 0;

/** Field 1 is the name, field 2 the age (field 0 is the key, written by the plumbing). */
function transformRow(row: CopyRow, out: CopyFieldWriter): string | null {
  const buf = row.buf;
  const start = row.start[1]!;
  const end = row.end[1]!;
  if (start === end) return NAME_IS_EMPTY;
  if (isNullField(buf, start, end)) return NAME_IS_NULL;

  let i = start;
  while (i < end && buf[i] === SPACE) i++;
  if (i === end) return NAME_IS_WHITESPACE_ONLY;
  const firstStart = i;
  for (; i < end; i++) {
    const b = buf[i]!;
    if (b === SPACE) break;
    if (NEEDS_DECODING[b] !== 0) return transformDecoded(row, out);
  }
  const firstEnd = i;
  while (i < end && buf[i] === SPACE) i++;
  const lastStart = i;
  let lastEnd = i;
  for (; i < end; i++) {
    const b = buf[i]!;
    if (b === SPACE) continue;
    if (NEEDS_DECODING[b] !== 0) return transformDecoded(row, out);
    lastEnd = i + 1;
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

/** `input_table(id, name, age)` -> `output_table(id, first_name, last_name, age)`. */
export const splitNameTransform: RowTransform = Object.freeze({
  sourceColumns: Object.freeze(['name', 'age']),
  targetColumns: Object.freeze([
    Object.freeze({ name: 'first_name', type: 'text' }),
    Object.freeze({ name: 'last_name', type: 'text' }),
    Object.freeze({ name: 'age', type: 'integer' }),
  ]),
  transformRow,
});
