// PgTimestamp: a PostgreSQL `timestamp` / `timestamptz` exactly — microseconds since 1970 as a
// bigint over PostgreSQL's whole range (4714-11-24 BC to 294276-12-31) and ±infinity — with its
// text forms and Date conversions.
import type { CopyTextWriter } from '../copy-text.ts';
import { civilFromDays, isoDateText, MICROS_PER_DAY, MICROS_PER_DAY_BIG, MIN_DAYS, pgDateText, TIMESTAMP_END_DAYS, timeOfDayText, writePgDate, writeTimeOfDay } from './calendar.ts';
import { asciiBytes, infinitySign, parseDateTime, parsedDays, parsedMicros } from './datetime-text.ts';

const MIN_MICROS = BigInt(MIN_DAYS) * MICROS_PER_DAY_BIG;
const END_MICROS = BigInt(TIMESTAMP_END_DAYS) * MICROS_PER_DAY_BIG;
// PostgreSQL's own encoding of -infinity and infinity.
const NEG_INFINITY_MICROS = -(2n ** 63n);
const INFINITY_MICROS = 2n ** 63n - 1n;
// Within this many days of 1970 a timestamp's microseconds are a safe integer (2^53 µs is ~104249 days).
const SAFE_DAYS = 104_000;
const MAX_DATE_MS = 8.64e15;

/** How a timestamp is written out. */
export interface TimestampStyle {
  /** `T` between date and time (JSON, ISO) rather than a space (PostgreSQL's text). */
  readonly t: boolean;
  /** What follows the time: `+00`, `+00:00`, `Z` or nothing (timestamp without time zone). */
  readonly zone: string;
  /** Astronomical ±YYYYYY years (ISO) rather than PostgreSQL's ` BC` suffix. */
  readonly iso: boolean;
}

/** PostgreSQL's text of a timestamptz in UTC. */
export const PG_TIMESTAMPTZ_STYLE: TimestampStyle = { t: false, zone: '+00', iso: false };
/** PostgreSQL's text of a timestamp (without time zone). */
export const PG_TIMESTAMP_STYLE: TimestampStyle = { t: false, zone: '', iso: false };

// fromMicros without the checks, for microseconds already known to be in range; set by the class.
let trusted: (micros: bigint) => PgTimestamp;

/** A PostgreSQL `timestamp` or `timestamptz`. Immutable. */
export class PgTimestamp {
  /**
   * Microseconds since 1970-01-01T00:00:00: UTC for timestamptz, the wall clock for timestamp.
   * infinity and -infinity are PostgreSQL's own encodings of them, 2^63-1 and -2^63.
   */
  readonly micros: bigint;

  private constructor(micros: bigint) {
    this.micros = micros;
  }

  static {
    trusted = (micros) => new PgTimestamp(micros);
  }

  static readonly INFINITY: PgTimestamp = new PgTimestamp(INFINITY_MICROS);
  static readonly NEG_INFINITY: PgTimestamp = new PgTimestamp(NEG_INFINITY_MICROS);

  /** A RangeError outside PostgreSQL's range; 2^63-1 and -2^63 give the infinities. */
  static fromMicros(micros: bigint): PgTimestamp {
    if (typeof micros !== 'bigint') throw new TypeError(`PgTimestamp.fromMicros: expected a bigint, got ${typeof micros}`);
    if (micros === INFINITY_MICROS) return PgTimestamp.INFINITY;
    if (micros === NEG_INFINITY_MICROS) return PgTimestamp.NEG_INFINITY;
    if (micros < MIN_MICROS || micros >= END_MICROS) {
      throw new RangeError(`PgTimestamp: ${micros} µs from 1970 is not a timestamp PostgreSQL holds (4714-11-24 BC to 294276-12-31)`);
    }
    return new PgTimestamp(micros);
  }

  /** The instant of `date` (its UTC wall clock, for a timestamp without time zone). */
  static fromDate(date: Date): PgTimestamp {
    const ms = date instanceof Date ? date.getTime() : NaN;
    if (Number.isNaN(ms)) throw new RangeError('PgTimestamp.fromDate: expected a valid Date');
    return PgTimestamp.fromMicros(BigInt(ms) * 1000n);
  }

  /**
   * PostgreSQL's text (`2024-01-02 03:04:05.123456+00`, offsets like `+05:30` or `-03:30:15`, none
   * for timestamp, ` BC`, years past 9999, `infinity`, `-infinity`) or ISO 8601's (`T`, `Z`,
   * ±YYYYYY). An offset is applied (the result is UTC); without one the text is taken as UTC.
   * A TypeError naming the text when it is neither, a RangeError when PostgreSQL cannot hold it.
   */
  static parse(text: string): PgTimestamp {
    const timestamp = parsePgTimestamp(text);
    if (timestamp === null) {
      throw new TypeError(
        `PgTimestamp.parse: ${JSON.stringify(text)} is not a timestamp; write YYYY-MM-DD HH:MM:SS[.ffffff][±HH[:MM[:SS]]] ` +
          '(or ISO 8601 with T and Z), with " BC" for BC years, or infinity, -infinity',
      );
    }
    if (timestamp === OUT_OF_RANGE) throw new RangeError(`PgTimestamp.parse: ${JSON.stringify(text)} is outside PostgreSQL's range (4714-11-24 BC to 294276-12-31)`);
    return timestamp;
  }

  get isFinite(): boolean {
    return this.micros !== INFINITY_MICROS && this.micros !== NEG_INFINITY_MICROS;
  }

  /** As PostgreSQL writes a timestamptz with TimeZone UTC: `2024-01-02 03:04:05.5+00`, `... BC`, `infinity`. */
  toString(): string {
    return formatTimestamp(this, PG_TIMESTAMPTZ_STYLE);
  }

  /** `2024-01-02T03:04:05.500000Z`: six fractional digits, astronomical ±YYYYYY years outside 0000-9999. A RangeError for the infinities. */
  toISOString(): string {
    if (!this.isFinite) throw new RangeError(`PgTimestamp.toISOString: ${this.toString()} has no ISO 8601 form`);
    return formatTimestamp(this, ISO_STYLE);
  }

  /** `toISOString()`, or `infinity` / `-infinity`. */
  toJSON(): string {
    return this.isFinite ? this.toISOString() : this.toString();
  }

  /** The Date of the millisecond (rounded down); a RangeError for the infinities and instants a Date cannot hold. */
  toDate(): Date {
    const ms = this.isFinite ? Number(divideFloor(this.micros, 1000n)) : NaN;
    if (!(Math.abs(ms) <= MAX_DATE_MS)) throw new RangeError(`PgTimestamp.toDate: ${this.toString()} is outside the range of a JavaScript Date`);
    return new Date(ms);
  }

  equals(other: PgTimestamp): boolean {
    return this.micros === other.micros;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `PgTimestamp(${this.toString()})`;
  }
}

const ISO_STYLE: TimestampStyle = { t: true, zone: 'Z', iso: true };
const OUT_OF_RANGE: unique symbol = Symbol('out of range');

function divideFloor(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}

/** The timestamp of `text`; null when it is not timestamp text, OUT_OF_RANGE when PostgreSQL cannot hold it. */
export function parsePgTimestamp(text: string): PgTimestamp | null | typeof OUT_OF_RANGE {
  const bytes = asciiBytes(text);
  return bytes === null ? null : parsePgTimestampBytes(bytes, 0, bytes.length);
}

/** `parsePgTimestamp` of the text `buf[start, end)`. */
export function parsePgTimestampBytes(buf: Uint8Array, start: number, end: number): PgTimestamp | null | typeof OUT_OF_RANGE {
  const infinity = infinitySign(buf, start, end);
  if (infinity !== 0) return infinity > 0 ? PgTimestamp.INFINITY : PgTimestamp.NEG_INFINITY;
  if (!parseDateTime(buf, start, end, true)) return null;
  const days = parsedDays;
  const micros = parsedMicros;
  // Well inside the range (a time and offset move it by less than two days) no bigint compare is needed.
  if (days > MIN_DAYS + 1 && days < TIMESTAMP_END_DAYS - 2) {
    return trusted(days > -SAFE_DAYS && days < SAFE_DAYS ? BigInt(days * MICROS_PER_DAY + micros) : BigInt(days) * MICROS_PER_DAY_BIG + BigInt(micros));
  }
  const total = BigInt(days) * MICROS_PER_DAY_BIG + BigInt(micros);
  return total < MIN_MICROS || total >= END_MICROS ? OUT_OF_RANGE : PgTimestamp.fromMicros(total);
}

// splitMicros' results: the day and the microseconds into it.
let splitDays = 0;
let splitTime = 0;

/** Splits a finite timestamp's microseconds into splitDays and splitTime; false for the infinities. */
function splitMicros(micros: bigint): boolean {
  // Number first: within ±285 years of 1970 no bigint arithmetic (or comparison) is needed.
  const asNumber = Number(micros);
  if (Number.isSafeInteger(asNumber)) {
    splitDays = Math.floor(asNumber / MICROS_PER_DAY);
    splitTime = asNumber - splitDays * MICROS_PER_DAY;
    return true;
  }
  if (micros === INFINITY_MICROS || micros === NEG_INFINITY_MICROS) return false;
  const bigDays = divideFloor(micros, MICROS_PER_DAY_BIG);
  splitDays = Number(bigDays);
  splitTime = Number(micros - bigDays * MICROS_PER_DAY_BIG);
  return true;
}

/** The text of `timestamp` in `style`. */
export function formatTimestamp(timestamp: PgTimestamp, style: TimestampStyle): string {
  if (!splitMicros(timestamp.micros)) return timestamp.micros > 0n ? 'infinity' : '-infinity';
  const civil = civilFromDays(splitDays);
  const date = style.iso ? isoDateText(civil) : pgDateText(civil);
  const text = `${date}${style.t ? 'T' : ' '}${timeOfDayText(splitTime, style.iso)}${style.zone}`;
  return style.iso || civil.year > 0 ? text : `${text} BC`;
}

/** `formatTimestamp` in PostgreSQL's style (with `+00` when `withZone`), written as a COPY field. */
export function writeTimestampField(timestamp: PgTimestamp, withZone: boolean, out: CopyTextWriter): void {
  if (!splitMicros(timestamp.micros)) {
    out.asciiField(timestamp.micros > 0n ? 'infinity' : '-infinity');
    return;
  }
  const civil = civilFromDays(splitDays);
  let p = out.openField(40);
  const buf = out.buf; // after openField, which may have replaced it
  p = writePgDate(buf, p, civil);
  buf[p++] = 0x20;
  p = writeTimeOfDay(buf, p, splitTime);
  if (withZone) {
    buf[p++] = 0x2b; // +00
    buf[p++] = 0x30;
    buf[p++] = 0x30;
  }
  if (civil.year <= 0) {
    buf[p++] = 0x20; // BC
    buf[p++] = 0x42;
    buf[p++] = 0x43;
  }
  out.closeField(p);
}
