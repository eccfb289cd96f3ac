// Numeric: an exact decimal as PostgreSQL's numeric holds it, kept as the text PostgreSQL prints for
// it (scale included: 12.50 stays 12.50), with value comparison and scaled-integer conversions.
import { preview } from './refusal.ts';

/** numeric's limits: digits before the decimal point, digits after it. */
const MAX_INTEGER_DIGITS = 131072;
const MAX_SCALE = 16383;
// numeric_in refuses exponents this large before looking at the digits.
const MAX_EXPONENT = 1073741823;

// JSON.rawJSON (Node 21+) is not in the ES2023 lib typings.
const rawJSON = (JSON as unknown as { rawJSON(text: string): object }).rawJSON;

const ZERO = 48;
const NINE = 57;
const MINUS = 45;
const POINT = 46;

/**
 * An exact decimal: what PostgreSQL's `numeric` holds, NaN and ±Infinity included. Immutable.
 * `toString()` is the text PostgreSQL prints for the same input (`'007.50'` -> `'7.50'`,
 * `'1.5e-3'` -> `'0.0015'`).
 */
export class Numeric {
  readonly #text: string;

  /** Throws a TypeError naming the text when it is not a decimal, a RangeError when numeric cannot hold it. */
  constructor(text: string) {
    if (typeof text !== 'string') throw new TypeError(`Numeric: expected decimal text, got ${typeof text}`);
    this.#text = isCanonical(text) ? text : canonicalize(text);
  }

  /** Same as `new Numeric(text)`. */
  static parse(text: string): Numeric {
    return new Numeric(text);
  }

  /** `value` × 10^-`scale`, e.g. `fromScaledBigInt(1250n, 2)` is 12.50. */
  static fromScaledBigInt(value: bigint, scale: number): Numeric {
    if (typeof value !== 'bigint') throw new TypeError(`Numeric.fromScaledBigInt: value must be a bigint, got ${typeof value}`);
    checkScale(scale, 'fromScaledBigInt');
    const negative = value < 0n;
    const digits = (negative ? -value : value).toString();
    let text: string;
    if (scale <= 0) {
      text = digits === '0' ? '0' : digits + '0'.repeat(-scale);
    } else {
      const padded = digits.padStart(scale + 1, '0');
      text = `${padded.slice(0, padded.length - scale)}.${padded.slice(padded.length - scale)}`;
    }
    return new Numeric(negative ? `-${text}` : text);
  }

  get isNaN(): boolean {
    return this.#text === 'NaN';
  }

  /** False for NaN, Infinity and -Infinity. */
  get isFinite(): boolean {
    const last = this.#text.charCodeAt(this.#text.length - 1);
    return last >= ZERO && last <= NINE;
  }

  toString(): string {
    return this.#text;
  }

  /**
   * A raw JSON number (`JSON.rawJSON`), so `JSON.stringify` writes the exact digits; NaN and
   * ±Infinity, which JSON has no number for, as strings — both as PostgreSQL's `to_jsonb` does.
   */
  toJSON(): object | string {
    return this.isFinite ? rawJSON(this.#text) : this.#text;
  }

  /** The nearest double: lossy beyond ~15 significant digits. */
  toNumber(): number {
    return Number(this.#text);
  }

  /**
   * The value × 10^`scale` rounded half away from zero, as PostgreSQL's `round(value, scale)` does:
   * cents are `toScaledBigInt(2)`. A negative scale rounds to tens, hundreds, ...
   */
  toScaledBigInt(scale: number): bigint {
    checkScale(scale, 'toScaledBigInt');
    if (!this.isFinite) throw new RangeError(`Numeric.toScaledBigInt: ${this.#text} has no integer value`);
    const text = this.#text;
    const negative = text.charCodeAt(0) === MINUS;
    const point = text.indexOf('.');
    const integer = text.slice(negative ? 1 : 0, point === -1 ? text.length : point);
    const fraction = point === -1 ? '' : text.slice(point + 1);
    let kept: string;
    let next: number;
    if (scale >= 0) {
      kept = integer + (scale <= fraction.length ? fraction.slice(0, scale) : fraction.padEnd(scale, '0'));
      next = scale < fraction.length ? fraction.charCodeAt(scale) : ZERO;
    } else {
      const cut = integer.length + scale;
      kept = cut > 0 ? integer.slice(0, cut) : '0';
      next = cut >= 0 && cut < integer.length ? integer.charCodeAt(cut) : ZERO;
    }
    let result = BigInt(kept);
    if (next >= ZERO + 5) result += 1n;
    return negative ? -result : result;
  }

  /** Equal by value: 1.50 equals 1.5; NaN equals NaN (as in PostgreSQL). */
  equals(other: Numeric): boolean {
    return this.compare(other) === 0;
  }

  /** -1, 0 or 1, in PostgreSQL's order: -Infinity < finite values < Infinity < NaN. */
  compare(other: Numeric): -1 | 0 | 1 {
    const a = this.#text;
    const b = other.#text;
    const rankA = rank(a);
    const rankB = rank(b);
    if (rankA !== rankB) return rankA < rankB ? -1 : 1;
    if (rankA !== 1) return 0;
    const negativeA = a.charCodeAt(0) === MINUS;
    const negativeB = b.charCodeAt(0) === MINUS;
    if (negativeA !== negativeB) return negativeA ? -1 : 1;
    const magnitude = compareMagnitudes(negativeA ? a.slice(1) : a, negativeB ? b.slice(1) : b);
    return negativeA ? ((-magnitude || 0) as -1 | 0 | 1) : magnitude;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Numeric(${this.#text})`;
  }
}

function checkScale(scale: number, method: string): void {
  if (!Number.isSafeInteger(scale) || Math.abs(scale) > MAX_INTEGER_DIGITS + MAX_SCALE) {
    throw new RangeError(`Numeric.${method}: scale must be an integer between -${MAX_INTEGER_DIGITS + MAX_SCALE} and ${MAX_INTEGER_DIGITS + MAX_SCALE}, got ${scale}`);
  }
}

function rank(text: string): number {
  if (text === 'NaN') return 3;
  if (text === 'Infinity') return 2;
  if (text === '-Infinity') return 0;
  return 1;
}

// Non-negative canonical decimals: no leading zeros, so a longer integer part is larger.
function compareMagnitudes(a: string, b: string): -1 | 0 | 1 {
  const pointA = a.indexOf('.');
  const pointB = b.indexOf('.');
  const integerA = pointA === -1 ? a.length : pointA;
  const integerB = pointB === -1 ? b.length : pointB;
  if (integerA !== integerB) return integerA < integerB ? -1 : 1;
  const intA = a.slice(0, integerA);
  const intB = b.slice(0, integerB);
  if (intA !== intB) return intA < intB ? -1 : 1;
  const fractionA = pointA === -1 ? '' : a.slice(pointA + 1).replace(/0+$/, '');
  const fractionB = pointB === -1 ? '' : b.slice(pointB + 1).replace(/0+$/, '');
  if (fractionA === fractionB) return 0;
  return fractionA < fractionB ? -1 : 1;
}

/** True when `text` is already what PostgreSQL prints: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, no negative zero, within limits. */
function isCanonical(text: string): boolean {
  const n = text.length;
  let i = 0;
  const negative = text.charCodeAt(0) === MINUS;
  if (negative) i = 1;
  if (i >= n) return false;
  let nonzero = false;
  const first = text.charCodeAt(i);
  if (first === ZERO) {
    i++;
  } else {
    if (first < ZERO + 1 || first > NINE) return false;
    nonzero = true;
    const integerStart = i;
    for (i++; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < ZERO || c > NINE) break;
    }
    if (i - integerStart > MAX_INTEGER_DIGITS) return false;
  }
  if (i < n) {
    if (text.charCodeAt(i) !== POINT) return false;
    const fractionStart = ++i;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < ZERO || c > NINE) return false;
      if (c !== ZERO) nonzero = true;
    }
    const scale = n - fractionStart;
    if (scale === 0 || scale > MAX_SCALE) return false;
  }
  return !negative || nonzero;
}

const DECIMAL = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/;

/** Any decimal numeric_in accepts (bar whitespace, underscores and 0x/0o/0b) -> the text PostgreSQL prints for it. */
function canonicalize(text: string): string {
  switch (text.toLowerCase()) {
    case 'nan':
      return 'NaN';
    case 'infinity':
    case '+infinity':
    case 'inf':
    case '+inf':
      return 'Infinity';
    case '-infinity':
    case '-inf':
      return '-Infinity';
  }
  const match = DECIMAL.exec(text);
  const integer = match?.[2] ?? '';
  const fraction = match?.[3] ?? '';
  if (match === null || (integer === '' && fraction === '')) {
    throw new TypeError(
      `Numeric: ${preview(text)} is not a decimal number; write digits with an optional sign, point and exponent ` +
        '(e.g. "12.50", "-1e-3"), or NaN, Infinity, -Infinity',
    );
  }
  const exponent = match[4] === undefined ? 0 : Number(match[4]);
  const digits = integer + fraction;
  let first = 0;
  while (first < digits.length && digits.charCodeAt(first) === ZERO) first++;
  const zero = first === digits.length;
  const point = integer.length + exponent;
  const scale = Math.max(0, fraction.length - exponent);
  if (Math.abs(exponent) > MAX_EXPONENT || scale > MAX_SCALE || (!zero && point - first > MAX_INTEGER_DIGITS)) {
    throw new RangeError(
      `Numeric: ${preview(text)} is out of numeric's range (up to ${MAX_INTEGER_DIGITS} digits before the decimal point ` +
        `and ${MAX_SCALE} after it)`,
    );
  }
  let integerPart: string;
  if (zero || point <= first) integerPart = '0';
  else if (point <= digits.length) integerPart = digits.slice(first, point);
  else integerPart = digits.slice(first) + '0'.repeat(point - digits.length);
  let fractionPart = '';
  if (scale > 0) {
    // With this scale the fraction ends exactly at the last digit written; zeros fill in before.
    const leadingZeros = Math.min(scale, Math.max(0, -point));
    fractionPart = `.${'0'.repeat(leadingZeros)}${digits.slice(Math.max(0, point))}`;
  }
  return (match[1] === '-' && !zero ? '-' : '') + integerPart + fractionPart;
}
