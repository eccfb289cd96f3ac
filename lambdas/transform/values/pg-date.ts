// PgDate: a PostgreSQL `date` exactly — a day number over the whole range PostgreSQL holds
// (4714-11-24 BC to 5874897-12-31) and ±infinity — with its text forms and Date conversions.
import type { CopyTextWriter } from '../copy-text.ts';
import { civilFromDays, DATE_END_DAYS, daysFromCivil, daysInMonth, isoDateText, MIN_DAYS, pgDateText, writePgDate } from './calendar.ts';
import { asciiBytes, infinitySign, parseDateTime, parsedDays } from './datetime-text.ts';

const MS_PER_DAY = 86_400_000;
const MAX_DATE_MS = 8.64e15;

/** A PostgreSQL `date`. Immutable. */
export class PgDate {
  /** Days since 1970-01-01 (negative before it); Infinity and -Infinity for PostgreSQL's infinity and -infinity. */
  readonly days: number;

  private constructor(days: number) {
    this.days = days;
  }

  static readonly INFINITY: PgDate = new PgDate(Infinity);
  static readonly NEG_INFINITY: PgDate = new PgDate(-Infinity);

  /** The date `days` after 1970-01-01; a RangeError outside PostgreSQL's range. ±Infinity give the specials. */
  static fromDays(days: number): PgDate {
    if (days === Infinity) return PgDate.INFINITY;
    if (days === -Infinity) return PgDate.NEG_INFINITY;
    if (!Number.isInteger(days) || days < MIN_DAYS || days >= DATE_END_DAYS) {
      throw new RangeError(`PgDate: ${days} days from 1970-01-01 is not a date PostgreSQL holds (4714-11-24 BC to 5874897-12-31)`);
    }
    return new PgDate(days);
  }

  /** From an astronomical year (1 BC is 0), month 1-12 and day; a RangeError for a date that does not exist. */
  static fromParts(year: number, month: number, day: number): PgDate {
    if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day) || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
      throw new RangeError(`PgDate.fromParts: ${year}-${month}-${day} is not a date (year, month 1-12, day of that month)`);
    }
    return PgDate.fromDays(daysFromCivil(year, month, day));
  }

  /** The UTC date of `date`. */
  static fromDate(date: Date): PgDate {
    const ms = date instanceof Date ? date.getTime() : NaN;
    if (Number.isNaN(ms)) throw new RangeError('PgDate.fromDate: expected a valid Date');
    return PgDate.fromDays(Math.floor(ms / MS_PER_DAY));
  }

  /**
   * PostgreSQL's text (`2024-01-02`, `0044-03-15 BC`, `infinity`, `-infinity`) or ISO 8601's
   * (`-000043-03-15`, `0000-01-01` for 1 BC). A TypeError naming the text when it is neither.
   */
  static parse(text: string): PgDate {
    const date = parsePgDate(text);
    if (date === null) {
      throw new TypeError(`PgDate.parse: ${JSON.stringify(text)} is not a date; write YYYY-MM-DD (with " BC" for BC years), or infinity, -infinity`);
    }
    return date;
  }

  get isFinite(): boolean {
    return Number.isFinite(this.days);
  }

  /** Astronomical year: 1 BC is 0. NaN for the infinities. */
  get year(): number {
    return this.isFinite ? civilFromDays(this.days).year : NaN;
  }

  /** 1-12; NaN for the infinities. */
  get month(): number {
    return this.isFinite ? civilFromDays(this.days).month : NaN;
  }

  /** 1-31; NaN for the infinities. */
  get day(): number {
    return this.isFinite ? civilFromDays(this.days).day : NaN;
  }

  /** As PostgreSQL writes it (DateStyle ISO): `2024-01-02`, `0044-03-15 BC`, `infinity`. */
  toString(): string {
    if (!this.isFinite) return this.days > 0 ? 'infinity' : '-infinity';
    const civil = civilFromDays(this.days);
    return civil.year > 0 ? pgDateText(civil) : `${pgDateText(civil)} BC`;
  }

  /** ISO 8601 with astronomical years, ±YYYYYY (or more digits) outside 0000-9999; a RangeError for the infinities. */
  toISOString(): string {
    if (!this.isFinite) throw new RangeError(`PgDate.toISOString: ${this.toString()} has no ISO 8601 form`);
    return isoDateText(civilFromDays(this.days));
  }

  /** `toISOString()`, or `infinity` / `-infinity`. */
  toJSON(): string {
    return this.isFinite ? this.toISOString() : this.toString();
  }

  /** Midnight UTC of the date; a RangeError for the infinities and dates a Date cannot hold. */
  toDate(): Date {
    const ms = this.days * MS_PER_DAY;
    if (!(Math.abs(ms) <= MAX_DATE_MS)) throw new RangeError(`PgDate.toDate: ${this.toString()} is outside the range of a JavaScript Date`);
    return new Date(ms);
  }

  equals(other: PgDate): boolean {
    return this.days === other.days;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `PgDate(${this.toString()})`;
  }
}

/** The date of `text`, or null when it is not date text or out of range. */
export function parsePgDate(text: string): PgDate | null {
  const bytes = asciiBytes(text);
  return bytes === null ? null : parsePgDateBytes(bytes, 0, bytes.length);
}

/** The date of the text `buf[start, end)`, or null when it is not date text or out of range. */
export function parsePgDateBytes(buf: Uint8Array, start: number, end: number): PgDate | null {
  const infinity = infinitySign(buf, start, end);
  if (infinity !== 0) return infinity > 0 ? PgDate.INFINITY : PgDate.NEG_INFINITY;
  if (!parseDateTime(buf, start, end, false) || parsedDays < MIN_DAYS || parsedDays >= DATE_END_DAYS) return null;
  return PgDate.fromDays(parsedDays);
}

/** `date.toString()` written as a COPY field. */
export function writeDateField(date: PgDate, out: CopyTextWriter): void {
  if (!date.isFinite) {
    out.asciiField(date.toString());
    return;
  }
  const civil = civilFromDays(date.days);
  let p = out.openField(16);
  const buf = out.buf; // after openField, which may have replaced it
  p = writePgDate(buf, p, civil);
  if (civil.year <= 0) {
    buf[p++] = 0x20; // BC
    buf[p++] = 0x42;
    buf[p++] = 0x43;
  }
  out.closeField(p);
}
