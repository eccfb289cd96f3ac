// COPY text fields <-> JS values for a declared column type: the decoder and encoder a row
// transform uses per column (scalars and arrays of them, `\N` as null), and the JSON of a source
// value for the rejects table.
import { CopyFormatError } from '../../shared/errors.ts';
import { decodeFieldText, isNullField, type CopyTextWriter } from '../copy-text.ts';
import { formatArrayText, parseArrayText } from './array-text.ts';
import { MALFORMED } from './malformed.ts';
import { normalizePgType, type PgTypeName } from './pg-type-name.ts';
import { preview } from './refusal.ts';
import { scalarCodec, type ScalarCodec } from './scalar-codecs.ts';

/** A COPY text field `buf[start, end)` (escapes not decoded) -> its JS value; `\N` -> null. */
export type FieldDecoder = (buf: Buffer, start: number, end: number) => unknown;

/**
 * Writes `value` as the next field into `out` and returns null, or returns a short reason the
 * column cannot take it and writes nothing. null and undefined write NULL.
 */
export type FieldEncoder = (value: unknown, out: CopyTextWriter) => string | null;

interface Column {
  readonly type: PgTypeName;
  readonly codec: ScalarCodec;
  readonly decode: FieldDecoder;
  readonly encode: FieldEncoder;
}

const columns = new Map<string, Column>();

function column(declared: string): Column {
  let found = columns.get(declared);
  if (found === undefined) {
    const type = normalizePgType(declared);
    const codec = scalarCodec(type);
    found = type.arrayDims > 0
      ? { type, codec, decode: arrayDecoder(codec, type.canonical), encode: arrayEncoder(codec, type.arrayDims) }
      : { type, codec, decode: scalarDecoder(codec, type.canonical), encode: scalarEncoder(codec) };
    columns.set(declared, found);
  }
  return found;
}

/** The decoder of a column declared as `type` (any spelling normalizePgType takes). */
export function decoderFor(type: string): FieldDecoder {
  return column(type).decode;
}

/** The encoder of a column declared as `type` (any spelling normalizePgType takes). */
export function encoderFor(type: string): FieldEncoder {
  return column(type).encode;
}

function malformed(typeName: string, text: string): CopyFormatError {
  return new CopyFormatError(
    `a field of type ${typeName} holds ${preview(text)}, which is not ${typeName} text as PostgreSQL writes it: ` +
      'declare the column with the type PostgreSQL reports for it (format_type)',
  );
}

function scalarDecoder(codec: ScalarCodec, typeName: string): FieldDecoder {
  const { decode, parse } = codec;
  return (buf, start, end) => {
    if (isNullField(buf, start, end)) return null;
    const value = decode(buf, start, end);
    if (value !== MALFORMED) return value;
    // Escaped characters (or bad text): decode the escapes, then parse.
    const text = decodeFieldText(buf, start, end)!;
    const parsed = parse(text);
    if (parsed === MALFORMED) throw malformed(typeName, text);
    return parsed;
  };
}

function arrayDecoder(codec: ScalarCodec, typeName: string): FieldDecoder {
  const { parse, delimiter } = codec;
  return (buf, start, end) => {
    if (isNullField(buf, start, end)) return null;
    let text = (buf as unknown as { utf8Slice(start: number, end: number): string }).utf8Slice(start, end);
    if (text.indexOf('\\') !== -1) text = decodeFieldText(buf, start, end)!;
    const value = parseArrayText(text, parse, delimiter);
    if (value === MALFORMED) throw malformed(typeName, text);
    return value;
  };
}

function scalarEncoder(codec: ScalarCodec): FieldEncoder {
  const { format, write, ascii } = codec;
  if (write !== undefined) {
    return (value, out) => {
      if (value === null || value === undefined) {
        out.nullField();
        return null;
      }
      return write(value, out)?.reason ?? null;
    };
  }
  return (value, out) => {
    if (value === null || value === undefined) {
      out.nullField();
      return null;
    }
    const text = format(value);
    if (typeof text !== 'string') return text.reason;
    // Text that is ASCII and needs no COPY escapes skips the UTF-8 encoder and the escape scan.
    if (ascii) out.asciiField(text);
    else out.textField(text);
    return null;
  };
}

function arrayEncoder(codec: ScalarCodec, declaredDims: number): FieldEncoder {
  const { format, delimiter } = codec;
  // A JS array inside a jsonb[] value is a JSON array, not another dimension.
  const dimensions = codec.arrayValues === true ? declaredDims : undefined;
  return (value, out) => {
    if (value === null || value === undefined) {
      out.nullField();
      return null;
    }
    const text = formatArrayText(value, format, delimiter, dimensions);
    if (typeof text !== 'string') return text.reason;
    out.textField(text);
    return null;
  };
}

/**
 * A source field as JSON text for the rejects table, as PostgreSQL's to_jsonb writes the value:
 * numbers as JSON numbers (NaN and ±Infinity as strings), timestamps as `2024-01-02T03:04:05+00:00`,
 * bytea as `"\\x…"`, arrays as (nested) arrays, json embedded; other types as their text in a
 * JSON string. Never throws: a field that does not decode as its type becomes its text.
 */
export function jsonForReject(type: string, buf: Buffer, start: number, end: number): string {
  if (isNullField(buf, start, end)) return 'null';
  try {
    const { type: name, codec, decode } = column(type);
    const value = decode(buf, start, end);
    return name.arrayDims > 0 ? arrayJson(value, codec.json) : codec.json(value);
  } catch {
    return JSON.stringify(fieldText(buf, start, end));
  }
}

function fieldText(buf: Buffer, start: number, end: number): string {
  try {
    return decodeFieldText(buf, start, end)!;
  } catch {
    return buf.toString('utf8', start, end); // not even COPY text: the bytes as they are
  }
}

function arrayJson(value: unknown, elementJson: (value: unknown) => string): string {
  if (value === null || value === undefined) return 'null';
  if (!Array.isArray(value)) return elementJson(value);
  return `[${value.map((item) => arrayJson(item, elementJson)).join(', ')}]`;
}
