// The proleptic Gregorian calendar PostgreSQL uses, on day numbers (days since 1970-01-01, UTC):
// conversion to and from (year, month, day) with astronomical years (1 BC is year 0), the ranges
// of date and timestamp, and the text of a date and of a time of day.

export const MICROS_PER_DAY = 86_400_000_000;
export const MICROS_PER_DAY_BIG = 86_400_000_000n;

/** Days from 1970-01-01 to `year-month-day` (astronomical year); Howard Hinnant's days_from_civil. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

export interface Civil {
  /** Astronomical: 1 BC is 0, 2 BC is -1. */
  year: number;
  month: number;
  day: number;
}

/** The date of a day number; Howard Hinnant's civil_from_days. */
export function civilFromDays(days: number): Civil {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  // From here on every value is a small non-negative integer: `| 0` is floor.
  const dayOfEra = z - era * 146097;
  const yearOfEra = ((dayOfEra - ((dayOfEra / 1460) | 0) + ((dayOfEra / 36524) | 0) - ((dayOfEra / 146096) | 0)) / 365) | 0;
  const dayOfYear = dayOfEra - (365 * yearOfEra + ((yearOfEra / 4) | 0) - ((yearOfEra / 100) | 0));
  const mp = ((5 * dayOfYear + 2) / 153) | 0;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day: dayOfYear - (((153 * mp + 2) / 5) | 0) + 1 };
}

export function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : MONTH_DAYS[month - 1]!;
}

/** The first day PostgreSQL's date and timestamp hold: 4714-11-24 BC (Julian day 0). */
export const MIN_DAYS = daysFromCivil(-4713, 11, 24);
/** The day after the last date: 5874898-01-01. */
export const DATE_END_DAYS = daysFromCivil(5874898, 1, 1);
/** The day after the last timestamp: 294277-01-01. */
export const TIMESTAMP_END_DAYS = daysFromCivil(294277, 1, 1);

// '00' to '99': two-digit fields without padStart.
const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : `${i}`));

function pad4(n: number): string {
  return n < 10000 ? TWO_DIGITS[Math.floor(n / 100)]! + TWO_DIGITS[n % 100]! : `${n}`;
}

/** `YYYY-MM-DD` as PostgreSQL writes it: years from 1 counted back for BC (the caller adds ` BC`). */
export function pgDateText(c: Civil): string {
  return `${pad4(c.year > 0 ? c.year : 1 - c.year)}-${TWO_DIGITS[c.month]}-${TWO_DIGITS[c.day]}`;
}

/** `YYYY-MM-DD` as ISO 8601 / `Date#toISOString` write it: astronomical years, ±YYYYYY outside 0000-9999. */
export function isoDateText(c: Civil): string {
  const y = c.year;
  const year = y >= 0 && y <= 9999 ? pad4(y) : `${y < 0 ? '-' : '+'}${`${Math.abs(y)}`.padStart(6, '0')}`;
  return `${year}-${TWO_DIGITS[c.month]}-${TWO_DIGITS[c.day]}`;
}

/** `HH:MM:SS` and, when there are microseconds, `.` and their digits: all six, or without trailing zeros. */
export function timeOfDayText(micros: number, allDigits: boolean): string {
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = micros - seconds * 1_000_000;
  const hh = Math.floor(seconds / 3600);
  const mm = Math.floor(seconds / 60) - hh * 60;
  const text = `${TWO_DIGITS[hh]}:${TWO_DIGITS[mm]}:${TWO_DIGITS[seconds - hh * 3600 - mm * 60]}`;
  if (fraction === 0 && !allDigits) return text;
  const digits = TWO_DIGITS[Math.floor(fraction / 10000)]! + TWO_DIGITS[Math.floor(fraction / 100) % 100]! + TWO_DIGITS[fraction % 100]!;
  if (allDigits) return `${text}.${digits}`;
  let end = 6;
  while (digits.charCodeAt(end - 1) === 48) end--;
  return `${text}.${digits.slice(0, end)}`;
}

// The byte writers below put the same text straight into a COPY buffer (ASCII needs no escapes).
const DIGIT = 48;

function writeTwo(buf: Uint8Array, p: number, n: number): void {
  const tens = (n / 10) | 0;
  buf[p] = DIGIT + tens;
  buf[p + 1] = DIGIT + n - tens * 10;
}

/** `pgDateText(c)` as ASCII bytes at `buf[p]`; returns the end. Room is the caller's job (at most 13 bytes). */
export function writePgDate(buf: Uint8Array, p: number, c: Civil): number {
  const year = c.year > 0 ? c.year : 1 - c.year;
  if (year < 10000) {
    writeTwo(buf, p, Math.floor(year / 100));
    writeTwo(buf, p + 2, year % 100);
    p += 4;
  } else {
    const digits = `${year}`;
    for (let i = 0; i < digits.length; i++) buf[p++] = digits.charCodeAt(i);
  }
  buf[p] = 0x2d;
  writeTwo(buf, p + 1, c.month);
  buf[p + 3] = 0x2d;
  writeTwo(buf, p + 4, c.day);
  return p + 6;
}

/** `timeOfDayText(micros, false)` as ASCII bytes at `buf[p]`; returns the end (at most 15 bytes on). */
export function writeTimeOfDay(buf: Uint8Array, p: number, micros: number): number {
  const seconds = Math.floor(micros / 1_000_000);
  let fraction = micros - seconds * 1_000_000;
  const hh = Math.floor(seconds / 3600);
  const mm = Math.floor(seconds / 60) - hh * 60;
  writeTwo(buf, p, hh);
  buf[p + 2] = 0x3a;
  writeTwo(buf, p + 3, mm);
  buf[p + 5] = 0x3a;
  writeTwo(buf, p + 6, seconds - hh * 3600 - mm * 60);
  p += 8;
  if (fraction === 0) return p;
  buf[p] = 0x2e;
  for (let i = 6; i >= 1; i--) {
    buf[p + i] = DIGIT + (fraction % 10);
    fraction = Math.floor(fraction / 10);
  }
  p += 7;
  while (buf[p - 1] === DIGIT) p--;
  return p;
}
