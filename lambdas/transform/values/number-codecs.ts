// The codecs of boolean, smallint, integer, bigint, real, double precision and numeric.
import { MALFORMED } from './malformed.ts';
import { Numeric } from './numeric.ts';
import { Refusal, refuse } from './refusal.ts';
import { asciiDecode, jsonString, latin1, MINUS, numberText, PLUS, ZERO, type ScalarCodec } from './base-codec.ts';

// ---- boolean

export const booleanCodec: ScalarCodec = {
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

export function smallIntegerCodec(min: number, max: number): ScalarCodec {
  const expected = `an integer (a safe integer number or a bigint; the target refuses one outside ${min}..${max})`;
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
    // An integer out of the column's range is the target's to refuse, with its own message.
    format(value) {
      if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value + 0) : refuse(expected, value);
      if (typeof value === 'bigint') return String(value);
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

export const bigintCodec: ScalarCodec = {
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
    if (typeof value === 'bigint') return String(value);
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

export const doubleCodec: ScalarCodec = {
  parse: floatOf,
  decode: asciiDecode(floatOf),
  format: (value) => (typeof value === 'number' ? numberText(value) : refuse('a number', value)),
  json: floatJson,
  delimiter: ',',
  ascii: true,
};

export const realCodec: ScalarCodec = {
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

export function numericCodec(modifier: string | null): ScalarCodec {
  // A value numeric(p,s) cannot hold is the target's to refuse ("numeric field overflow"), with its own message.
  void modifier;
  return {
    parse: numericOf,
    decode: asciiDecode(numericOf),
    format(value) {
      let numeric: Numeric;
      if (value instanceof Numeric) {
        numeric = value;
      } else if (typeof value === 'string' || typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value))) {
        try {
          numeric = new Numeric(String(value));
        } catch (error) {
          return new Refusal((error as Error).message); // not a decimal, or beyond numeric's range
        }
      } else {
        return refuse('a Numeric, a decimal string, a bigint or a finite number', value);
      }
      return numeric.toString();
    },
    json: (value) => ((value as Numeric).isFinite ? String(value) : jsonString(value)),
    delimiter: ',',
    ascii: true,
  };
}
