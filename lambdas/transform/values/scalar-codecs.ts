// One codec per PostgreSQL base type: its text form -> the JS value (with a fast path straight
// from the COPY field's bytes), the JS values a column of it takes -> its text form, and the
// value as PostgreSQL's to_jsonb writes it. Types it does not know are text.
import { BACKSLASH, type CopyTextWriter } from '../copy-text.ts';
import { MALFORMED } from './malformed.ts';
import { Numeric } from './numeric.ts';
import { parsePgDate, parsePgDateBytes, PgDate, writeDateField } from './pg-date.ts';
import { formatTimestamp, parsePgTimestamp, parsePgTimestampBytes, PG_TIMESTAMP_STYLE, PG_TIMESTAMPTZ_STYLE, PgTimestamp, writeTimestampField, type TimestampStyle } from './pg-timestamp.ts';
import type { PgTypeName } from './pg-type-name.ts';
import { parseJson, stringifyJson } from './json-value.ts';
import { Refusal, describeValue, refuse } from './refusal.ts';

export interface ScalarCodec {
  /** The value of the type's text form (COPY escapes decoded); MALFORMED when it is not one. */
  readonly parse: (text: string) => unknown;
  /**
   * The value of a COPY field (escapes not decoded, not `\N`) by the quickest route; MALFORMED
   * sends the field the slow way: escapes decoded, then `parse`.
   */
  readonly decode: (buf: Buffer, start: number, end: number) => unknown;
  /** The text form of a non-null JS value, or a Refusal saying why the column cannot take it. */
  readonly format: (value: unknown) => string | Refusal;
  /** A decoded value as JSON text, as PostgreSQL's to_jsonb writes it. */
  readonly json: (value: unknown) => string;
  /** Array element delimiter: `,` for every type but box. */
  readonly delimiter: string;
  /** `format` only ever returns ASCII that COPY does not escape, so it can be written as it is. */
  readonly ascii: boolean;
  /** Its values may be JS arrays (json, jsonb): in an array column, only the declared dimensions are array levels. */
  readonly arrayValues?: boolean;
  /** Where quicker than `format`: writes a non-null value as a COPY field itself, or returns a Refusal and writes nothing. */
  readonly write?: (value: unknown, out: CopyTextWriter) => Refusal | null;
}

const ZERO = 0x30;
const MINUS = 0x2d;
const PLUS = 0x2b;

// Buffer's own slice methods skip toString's argument checks; @types/node does not declare them.
interface BufferSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  hexSlice(start: number, end: number): string;
}
const latin1 = (buf: Buffer, start: number, end: number): string => (buf as unknown as BufferSlices).latin1Slice(start, end);
const utf8 = (buf: Buffer, start: number, end: number): string => (buf as unknown as BufferSlices).utf8Slice(start, end);
// Types whose text is plain ASCII: read the field as latin1 and parse it; a backslash (an escaped
// character) or a byte above 0x7F fails the parse and takes the slow path.
const asciiDecode = (parse: (text: string) => unknown) => (buf: Buffer, start: number, end: number) => parse(latin1(buf, start, end));
// Types whose text may be any UTF-8: one native scan for a backslash decides the route.
const utf8Decode = (parse: (text: string) => unknown) => (buf: Buffer, start: number, end: number) => {
  const text = utf8(buf, start, end);
  return text.indexOf('\\') === -1 ? parse(text) : MALFORMED;
};

const jsonString = (value: unknown): string => JSON.stringify(String(value));

/** ASCII text without COPY escapes (or a Refusal) written as a field. */
function writeFormatted(text: string | Refusal, out: CopyTextWriter): Refusal | null {
  if (typeof text !== 'string') return text;
  out.asciiField(text);
  return null;
}
const numberText = (value: number): string => (Object.is(value, -0) ? '-0' : String(value));

// ---- boolean

const booleanCodec: ScalarCodec = {
  parse(text) {
    switch (text.toLowerCase()) {
      case 't':
      case 'true':
        return true;
      case 'f':
      case 'false':
        return false;
    }
    return MALFORMED;
  },
  decode(buf, start, end) {
    if (end - start === 1) {
      if (buf[start] === 0x74) return true;
      if (buf[start] === 0x66) return false;
    }
    return MALFORMED;
  },
  format: (value) => (typeof value === 'boolean' ? (value ? 't' : 'f') : refuse('a boolean', value)),
  json: (value) => (value ? 'true' : 'false'),
  delimiter: ',',
  ascii: true,
};

// ---- smallint, integer, bigint

/** Digits with an optional sign, as a number; MALFORMED for anything else. Loses precision past 2^53 (callers check ranges). */
function integerBytes(buf: Buffer, start: number, end: number): number | typeof MALFORMED {
  let i = start;
  const sign = buf[i];
  if (sign === MINUS || sign === PLUS) i++;
  if (i === end) return MALFORMED;
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i]! - ZERO;
    if (d < 0 || d > 9) return MALFORMED;
    n = n * 10 + d;
  }
  return sign === MINUS ? 0 - n : n;
}

const INTEGER_TEXT = /^[+-]?[0-9]+$/;

function smallIntegerCodec(min: number, max: number): ScalarCodec {
  const expected = `an integer number from ${min} to ${max} (or such a bigint)`;
  return {
    parse(text) {
      if (!INTEGER_TEXT.test(text)) return MALFORMED;
      const n = Number(text) + 0; // + 0: -0 -> 0
      return n >= min && n <= max ? n : MALFORMED;
    },
    decode(buf, start, end) {
      const n = integerBytes(buf, start, end);
      return n !== MALFORMED && n >= min && n <= max ? n : MALFORMED;
    },
    format(value) {
      if (typeof value === 'number') return Number.isInteger(value) && value >= min && value <= max ? String(value) : refuse(expected, value);
      if (typeof value === 'bigint' && value >= min && value <= max) return String(value);
      return refuse(expected, value);
    },
    json: String,
    delimiter: ',',
    ascii: true,
  };
}

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

function bigintOf(text: string): bigint | typeof MALFORMED {
  if (!INTEGER_TEXT.test(text)) return MALFORMED;
  const n = BigInt(text);
  return n >= INT8_MIN && n <= INT8_MAX ? n : MALFORMED;
}

const bigintCodec: ScalarCodec = {
  parse: bigintOf,
  decode(buf, start, end) {
    // Up to 15 digits a double is exact: one BigInt from it, no string.
    if (end - start <= 15) {
      const n = integerBytes(buf, start, end);
      return n === MALFORMED ? MALFORMED : BigInt(n);
    }
    return bigintOf(latin1(buf, start, end));
  },
  format(value) {
    if (typeof value === 'bigint') return value >= INT8_MIN && value <= INT8_MAX ? String(value) : refuse('a bigint from -2^63 to 2^63-1', value);
    if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value + 0);
    return refuse('a bigint or a safe integer', value);
  },
  json: String,
  delimiter: ',',
  ascii: true,
};

// ---- real, double precision

/** PostgreSQL's float text: a decimal (with exponent), NaN, Infinity, -Infinity (any case, inf too). */
function floatOf(text: string): number | typeof MALFORMED {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  // Number() takes more than PostgreSQL writes: whitespace (first/last char), 0x/0o/0b (second
  // char), Infinity (first char). Ruled out, what is left parses alike in both.
  if (((first >= ZERO && first <= ZERO + 9) || first === MINUS || first === PLUS || first === 0x2e) && ((last >= ZERO && last <= ZERO + 9) || last === 0x2e)) {
    const radix = text.charCodeAt(1) | 0x20;
    if (radix !== 0x78 && radix !== 0x6f && radix !== 0x62) {
      const n = Number(text);
      if (Number.isFinite(n)) return n;
      return n !== n ? specialFloat(text) : MALFORMED; // NaN: maybe -Infinity; infinite: out of range
    }
  }
  return specialFloat(text);
}

function specialFloat(text: string): number | typeof MALFORMED {
  switch (text.toLowerCase()) {
    case 'nan':
      return NaN;
    case 'infinity':
    case '+infinity':
    case 'inf':
    case '+inf':
      return Infinity;
    case '-infinity':
    case '-inf':
      return -Infinity;
  }
  return MALFORMED;
}

/** The shortest decimal (9 digits at most) that rounds to the float32 `float`, as PostgreSQL writes real. */
function shortestFloat32(float: number): string {
  for (let digits = 1; digits < 9; digits++) {
    const text = String(Number(float.toPrecision(digits)));
    if (Math.fround(Number(text)) === float) return text;
  }
  return String(Number(float.toPrecision(9)));
}

const floatJson = (value: unknown): string => (Number.isFinite(value) ? numberText(value as number) : jsonString(value));

const doubleCodec: ScalarCodec = {
  parse: floatOf,
  decode: asciiDecode(floatOf),
  format: (value) => (typeof value === 'number' ? numberText(value) : refuse('a number', value)),
  json: floatJson,
  delimiter: ',',
  ascii: true,
};

const realCodec: ScalarCodec = {
  parse: floatOf,
  decode: asciiDecode(floatOf),
  format(value) {
    if (typeof value !== 'number') return refuse('a number', value);
    // PostgreSQL stores exactly Math.fround(value): the text is the shortest that rounds to it.
    const float = Math.fround(value);
    if (Number.isFinite(value) && !Number.isFinite(float)) return new Refusal(`${value} is beyond real's range (±3.4e38)`);
    if (float === 0 && value !== 0) return new Refusal(`${value} is too small for a real (it would be 0)`);
    return Number.isFinite(float) && float !== 0 ? shortestFloat32(float) : numberText(float);
  },
  json: floatJson,
  delimiter: ',',
  ascii: true,
};

// ---- numeric

function numericOf(text: string): Numeric | typeof MALFORMED {
  try {
    return new Numeric(text);
  } catch {
    return MALFORMED;
  }
}

function numericCodec(modifier: string | null): ScalarCodec {
  const [precision, scale] = modifier === null ? [] : modifier.split(',').map(Number);
  const limit = precision === undefined ? 0n : 10n ** BigInt(precision);
  const fits = (value: Numeric): Refusal | null => {
    if (precision === undefined || scale === undefined || value.isNaN) return null;
    if (!value.isFinite) return new Refusal(`numeric(${modifier}) cannot hold ${value}`);
    const text = value.toString();
    const point = text.indexOf('.');
    const integerDigits = (point === -1 ? text.length : point) - (text.charCodeAt(0) === MINUS ? 1 : 0);
    // Fewer integer digits than allowed: rounding to the scale cannot overflow.
    if (scale >= 0 && integerDigits < precision - scale) return null;
    const scaled = value.toScaledBigInt(scale);
    if ((scaled < 0n ? -scaled : scaled) < limit) return null;
    return new Refusal(`${value} does not fit numeric(${modifier}): once rounded to ${scale} decimal places it has more than ${precision} significant digits`);
  };
  return {
    parse: numericOf,
    decode: asciiDecode(numericOf),
    format(value) {
      let numeric: Numeric;
      if (value instanceof Numeric) numeric = value;
      else if (typeof value === 'bigint') numeric = new Numeric(String(value));
      else if (typeof value === 'number' && Number.isFinite(value)) numeric = new Numeric(String(value));
      else if (typeof value === 'string') {
        try {
          numeric = new Numeric(value);
        } catch (error) {
          return new Refusal((error as Error).message);
        }
      } else return refuse('a Numeric, a decimal string, a bigint or a finite number', value);
      return fits(numeric) ?? numeric.toString();
    },
    json: (value) => ((value as Numeric).isFinite ? String(value) : jsonString(value)),
    delimiter: ',',
    ascii: true,
  };
}

// ---- text, varchar, char, name, citext and every type this module does not know

// String#isWellFormed (Node 20+) is not in the ES2023 lib typings.
const isWellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed;

/** Why PostgreSQL cannot store `text` as text, or null: it can. */
function textProblem(text: string): Refusal | null {
  if (text.indexOf('\u0000') !== -1) return new Refusal(`PostgreSQL text cannot hold U+0000, as ${describeValue(text)} has`);
  if (!isWellFormed.call(text)) return new Refusal(`${describeValue(text)} has a lone surrogate, which UTF-8 cannot encode`);
  return null;
}

const identity = (text: string): string => text;

/** Strings; `maxChars` as varchar(n) / char(n) check it: longer is refused unless the excess is spaces. */
function textCodec(maxChars: number | null, typeName: string, delimiter = ','): ScalarCodec {
  return {
    parse: identity,
    decode: utf8Decode(identity),
    format(value) {
      if (typeof value !== 'string') return refuse('a string', value);
      const problem = textProblem(value);
      if (problem !== null) return problem;
      if (maxChars !== null && value.length > maxChars) {
        const chars = [...value];
        if (chars.length > maxChars && chars.slice(maxChars).some((c) => c !== ' ')) {
          return new Refusal(`${describeValue(value)} has ${chars.length} characters, more than ${typeName} holds`);
        }
      }
      return value;
    },
    json: jsonString,
    delimiter,
    ascii: false,
  };
}

const nameCodec: ScalarCodec = {
  ...textCodec(null, 'name'),
  format(value) {
    if (typeof value !== 'string') return refuse('a string', value);
    // PostgreSQL would cut a longer name to 63 bytes without a word.
    return textProblem(value) ?? (Buffer.byteLength(value) > 63 ? new Refusal(`${describeValue(value)} is longer than a name's 63 bytes`) : value);
  },
};

// ---- uuid

const HEX = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

function isUuid(text: string): boolean {
  if (text.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = text.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23 ? c !== MINUS : HEX[c] !== 1) return false;
  }
  return true;
}

const uuidCodec: ScalarCodec = {
  parse: (text) => (isUuid(text) ? text : MALFORMED),
  decode(buf, start, end) {
    const text = latin1(buf, start, end);
    return isUuid(text) ? text : MALFORMED;
  },
  format: (value) => (typeof value === 'string' && isUuid(value) ? value : refuse('a uuid string (8-4-4-4-12 hex digits)', value)),
  write(value, out) {
    if (typeof value !== 'string' || value.length !== 36) return refuse('a uuid string (8-4-4-4-12 hex digits)', value);
    // Checked while copied; given up (nothing closed) at the first wrong character.
    const start = out.openField(36);
    const buf = out.buf;
    for (let i = 0; i < 36; i++) {
      const c = value.charCodeAt(i);
      if (i === 8 || i === 13 || i === 18 || i === 23 ? c !== MINUS : HEX[c] !== 1) return refuse('a uuid string (8-4-4-4-12 hex digits)', value);
      buf[start + i] = c;
    }
    out.closeField(start + 36);
    return null;
  },
  json: jsonString,
  delimiter: ',',
  ascii: true,
};

// ---- bytea

// Hex digit value + 1, so 0 means "not a hex digit".
const HEX_VALUE = new Uint8Array(256);
for (let d = 0; d < 16; d++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(d)] = d + 1;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(d)] = d + 1;
}

/** `buf[start, end)` hex digit pairs as bytes, or MALFORMED. */
function hexBytes(buf: Uint8Array, start: number, end: number): Buffer | typeof MALFORMED {
  if ((end - start) % 2 !== 0) return MALFORMED;
  const out = Buffer.allocUnsafe((end - start) / 2);
  for (let i = start, o = 0; i < end; i += 2, o++) {
    const high = HEX_VALUE[buf[i]!]!;
    const low = HEX_VALUE[buf[i + 1]!]!;
    if (high === 0 || low === 0) return MALFORMED;
    out[o] = (high - 1) * 16 + low - 1;
  }
  return out;
}

/** bytea text: hex (`\x0aff`) or the escape format (`a\012\\`). */
function byteaOf(text: string): Buffer | typeof MALFORMED {
  if (text.charCodeAt(0) === BACKSLASH && text.charCodeAt(1) === 0x78) {
    const ascii = Buffer.from(text, 'latin1');
    return text.length === ascii.length ? hexBytes(ascii, 2, ascii.length) : MALFORMED;
  }
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) return MALFORMED;
    if (c !== BACKSLASH) {
      out.push(c);
    } else if (text.charCodeAt(i + 1) === BACKSLASH) {
      out.push(BACKSLASH);
      i++;
    } else if (/^[0-3][0-7][0-7]$/.test(text.slice(i + 1, i + 4))) {
      out.push(parseInt(text.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      return MALFORMED;
    }
  }
  return Buffer.from(out);
}

const HEX_DIGIT = Buffer.from('0123456789abcdef', 'latin1');

function hexText(bytes: Uint8Array): string {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return (buffer as unknown as BufferSlices).hexSlice(0, buffer.length);
}

const byteaCodec: ScalarCodec = {
  parse: byteaOf,
  decode(buf, start, end) {
    // PostgreSQL's hex output as COPY writes it: `\\x` and the digits.
    if (end - start >= 3 && buf[start] === BACKSLASH && buf[start + 1] === BACKSLASH && buf[start + 2] === 0x78) return hexBytes(buf, start + 3, end);
    return MALFORMED;
  },
  format: (value) => (value instanceof Uint8Array ? `\\x${hexText(value)}` : refuse('a Buffer or Uint8Array', value)),
  write(value, out) {
    if (!(value instanceof Uint8Array)) return refuse('a Buffer or Uint8Array', value);
    const n = value.length;
    let p = out.openField(3 + 2 * n);
    const buf = out.buf; // after openField, which may have replaced it
    buf[p++] = BACKSLASH; // \\x: the backslash as COPY escapes it
    buf[p++] = BACKSLASH;
    buf[p++] = 0x78;
    if (n > 64) {
      p += buf.write(hexText(value), p, 'latin1');
    } else {
      for (let i = 0; i < n; i++) {
        const b = value[i]!;
        buf[p++] = HEX_DIGIT[b >> 4]!;
        buf[p++] = HEX_DIGIT[b & 15]!;
      }
    }
    out.closeField(p);
    return null;
  },
  json: (value) => jsonString(`\\x${(value as Buffer).toString('hex')}`),
  delimiter: ',',
  ascii: false,
};

// ---- json, jsonb

function jsonOf(text: string): unknown {
  try {
    return parseJson(text);
  } catch {
    return MALFORMED;
  }
}

function jsonCodec(jsonb: boolean): ScalarCodec {
  return {
    parse: jsonOf,
    decode: utf8Decode(jsonOf),
    format: (value) => stringifyJson(value, jsonb),
    arrayValues: true,
    json(value) {
      const text = stringifyJson(value, true);
      return typeof text === 'string' ? text : jsonString(value);
    },
    delimiter: ',',
    ascii: false,
  };
}

// ---- date

function dateOf(text: string): PgDate | typeof MALFORMED {
  return parsePgDate(text) ?? MALFORMED;
}

const dateCodec: ScalarCodec = {
  parse: dateOf,
  decode: (buf, start, end) => parsePgDateBytes(buf, start, end) ?? MALFORMED,
  format(value) {
    if (value instanceof PgDate) return value.toString();
    if (value instanceof Date) {
      try {
        return PgDate.fromDate(value).toString();
      } catch (error) {
        return new Refusal(`${describeValue(value)}: ${(error as Error).message}`);
      }
    }
    const date = typeof value === 'string' ? parsePgDate(value) : null;
    return date?.toString() ?? refuse("a PgDate, a Date or a 'YYYY-MM-DD' string", value);
  },
  write(value, out) {
    if (!(value instanceof PgDate)) return writeFormatted(dateCodec.format(value), out);
    writeDateField(value, out);
    return null;
  },
  json: jsonString,
  delimiter: ',',
  ascii: true,
};

// ---- timestamp, timestamptz

function timestampOf(text: string): PgTimestamp | typeof MALFORMED {
  const timestamp = parsePgTimestamp(text);
  return timestamp instanceof PgTimestamp ? timestamp : MALFORMED;
}

/** A PgTimestamp, a Date or timestamp text; a Refusal for anything else or outside PostgreSQL's range. */
function timestampFrom(value: unknown): PgTimestamp | Refusal {
  if (value instanceof PgTimestamp) return value;
  if (value instanceof Date) {
    try {
      return PgTimestamp.fromDate(value);
    } catch (error) {
      return new Refusal(`${describeValue(value)}: ${(error as Error).message}`);
    }
  }
  const timestamp = typeof value === 'string' ? parsePgTimestamp(value) : null;
  if (timestamp === null) return refuse('a PgTimestamp, a Date or an ISO 8601 / PostgreSQL timestamp string', value);
  if (!(timestamp instanceof PgTimestamp)) return new Refusal(`${describeValue(value)} is outside PostgreSQL's timestamp range (4714-11-24 BC to 294276-12-31)`);
  return timestamp;
}

function timestampCodec(withTimeZone: boolean): ScalarCodec {
  const style = withTimeZone ? PG_TIMESTAMPTZ_STYLE : PG_TIMESTAMP_STYLE;
  const jsonStyle: TimestampStyle = { t: true, zone: withTimeZone ? '+00:00' : '', iso: false };
  return {
    parse: timestampOf,
    decode(buf, start, end) {
      const timestamp = parsePgTimestampBytes(buf, start, end);
      return timestamp instanceof PgTimestamp ? timestamp : MALFORMED;
    },
    format(value) {
      const timestamp = timestampFrom(value);
      return timestamp instanceof PgTimestamp ? formatTimestamp(timestamp, style) : timestamp;
    },
    write(value, out) {
      const timestamp = timestampFrom(value);
      if (!(timestamp instanceof PgTimestamp)) return timestamp;
      writeTimestampField(timestamp, withTimeZone, out);
      return null;
    },
    json: (value) => jsonString(formatTimestamp(value as PgTimestamp, jsonStyle)),
    delimiter: ',',
    ascii: true,
  };
}

// ---- by name

const CODECS: Readonly<Record<string, ScalarCodec>> = {
  boolean: booleanCodec,
  smallint: smallIntegerCodec(-32768, 32767),
  integer: smallIntegerCodec(-2147483648, 2147483647),
  bigint: bigintCodec,
  real: realCodec,
  'double precision': doubleCodec,
  numeric: numericCodec(null),
  text: textCodec(null, 'text'),
  'character varying': textCodec(null, 'character varying'),
  bpchar: textCodec(null, 'bpchar'),
  citext: textCodec(null, 'citext'),
  name: nameCodec,
  uuid: uuidCodec,
  bytea: byteaCodec,
  json: jsonCodec(false),
  jsonb: jsonCodec(true),
  date: dateCodec,
  'timestamp without time zone': timestampCodec(false),
  'timestamp with time zone': timestampCodec(true),
};

const otherCodec = textCodec(null, 'text');
const boxCodec = textCodec(null, 'box', ';');

/** The codec of a (normalized) type; types not listed decode and encode as their text. */
export function scalarCodec(type: PgTypeName): ScalarCodec {
  if (type.modifier !== null) {
    if (type.base === 'numeric') return numericCodec(type.modifier);
    if (type.base === 'character varying' || type.base === 'character') return textCodec(Number(type.modifier), `${type.base}(${type.modifier})`);
  }
  if (type.base === 'box') return boxCodec;
  return CODECS[type.base] ?? otherCodec;
}
