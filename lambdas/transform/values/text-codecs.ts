// The codecs of text and its kin (varchar, char, name, citext, and every type not known here),
// uuid and bytea.
import { BACKSLASH } from '../copy-text.ts';
import { MALFORMED } from './malformed.ts';
import { Refusal, describeValue, refuse } from './refusal.ts';
import { hex, jsonString, latin1, MINUS, utf8Decode, type ScalarCodec } from './base-codec.ts';

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

/** Strings (the length varchar(n) / char(n) allow is left to the target, which refuses with its own message). */
export function textCodec(maxChars: number | null, typeName: string, delimiter = ','): ScalarCodec {
  return {
    parse: identity,
    decode: utf8Decode(identity),
    format(value) {
      if (typeof value !== 'string') return refuse('a string', value);
      const problem = textProblem(value);
      if (problem !== null) return problem;
      // A value longer than varchar(n) / char(n) holds is the target's to refuse: it does, inside COPY,
      // and the row is set aside with PostgreSQL's own message (worker/isolate-refused-rows.ts).
      void maxChars;
      void typeName;
      return value;
    },
    json: jsonString,
    delimiter,
    ascii: false,
  };
}

export const nameCodec: ScalarCodec = {
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

export const uuidCodec: ScalarCodec = {
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
  return hex(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

export const byteaCodec: ScalarCodec = {
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
