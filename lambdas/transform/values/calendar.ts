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
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day: dayOfYear - Math.floor((153 * mp + 2) / 5) + 1 };
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

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/** `YYYY-MM-DD` as PostgreSQL writes it: years from 1 counted back for BC (the caller adds ` BC`). */
export function pgDateText(c: Civil): string {
  const year = c.year > 0 ? c.year : 1 - c.year;
  return `${year < 1000 ? `${year}`.padStart(4, '0') : year}-${pad2(c.month)}-${pad2(c.day)}`;
}

/** `YYYY-MM-DD` as ISO 8601 / `Date#toISOString` write it: astronomical years, ±YYYYYY outside 0000-9999. */
export function isoDateText(c: Civil): string {
  const y = c.year;
  const year = y >= 0 && y <= 9999 ? `${y}`.padStart(4, '0') : `${y < 0 ? '-' : '+'}${`${Math.abs(y)}`.padStart(6, '0')}`;
  return `${year}-${pad2(c.month)}-${pad2(c.day)}`;
}

/** `HH:MM:SS` and, when there are microseconds, `.` and their digits: all six, or without trailing zeros. */
export function timeOfDayText(micros: number, allDigits: boolean): string {
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = micros - seconds * 1_000_000;
  const hh = Math.floor(seconds / 3600);
  const mm = Math.floor(seconds / 60) - hh * 60;
  const text = `${pad2(hh)}:${pad2(mm)}:${pad2(seconds - hh * 3600 - mm * 60)}`;
  if (fraction === 0 && !allDigits) return text;
  let digits = `${fraction}`.padStart(6, '0');
  if (!allDigits) {
    let end = 6;
    while (digits.charCodeAt(end - 1) === 48) end--;
    digits = digits.slice(0, end);
  }
  return `${text}.${digits}`;
}
