// Reads date and timestamp text: PostgreSQL's ISO output (`2024-01-02 03:04:05.123456+05:30`,
// offsets with seconds, ` BC`, years past 9999) and ISO 8601 (`T`, `Z`, `+0530`, ±YYYYYY years).
import { daysFromCivil, daysInMonth } from './calendar.ts';

const ZERO = 48;
const NINE = 57;
const PLUS = 43;
const MINUS = 45;
const COLON = 58;
const POINT = 46;
const SPACE = 32;
const LOWER = 0x20;

export interface DateTimeParts {
  /** Days since 1970-01-01 of the date as written. */
  days: number;
  /** Microseconds into that day, the UTC offset already subtracted: may fall outside [0, one day). */
  micros: number;
  hasOffset: boolean;
}

/** -1: infinity's sign, 1: infinity, 0: neither. */
export function infinitySign(text: string): -1 | 0 | 1 {
  const c = text.charCodeAt(0);
  if (c !== 0x69 && c !== 0x49 && c !== MINUS && c !== PLUS) return 0;
  const lower = text.toLowerCase();
  if (lower === 'infinity' || lower === '+infinity') return 1;
  return lower === '-infinity' ? -1 : 0;
}

function twoDigits(text: string, at: number): number {
  const a = text.charCodeAt(at) - ZERO;
  const b = text.charCodeAt(at + 1) - ZERO;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/**
 * `Y-MM-DD`, then when `withTime` optionally a time (` ` or `T`, `HH:MM[:SS[.fraction]]`) and an
 * offset (`Z`, `±HH`, `±HH:MM`, `±HH:MM:SS`, `±HHMM`), then optionally ` BC`. Years have 4 to 9
 * digits: unsigned ones are as written (AD, or BC with the suffix; 0000 is 1 BC as in ISO 8601),
 * signed ones astronomical. More than six fractional digits round half up. null when malformed
 * or a field is out of range (month 13, February 30, minute 60).
 */
export function parseDateTime(text: string, withTime: boolean): DateTimeParts | null {
  const n = text.length;
  let i = 0;
  let sign = 0;
  let c = text.charCodeAt(0);
  if (c === PLUS || c === MINUS) {
    sign = c === PLUS ? 1 : -1;
    i = 1;
  }
  const yearStart = i;
  let year = 0;
  while (i < n && isDigit((c = text.charCodeAt(i)))) {
    year = year * 10 + c - ZERO;
    i++;
  }
  if (i - yearStart < 4 || i - yearStart > 9 || text.charCodeAt(i) !== MINUS || text.charCodeAt(i + 3) !== MINUS) return null;
  const month = twoDigits(text, i + 1);
  const day = twoDigits(text, i + 4);
  if (month < 0 || day < 0) return null;
  i += 6;

  let micros = 0;
  let hasOffset = false;
  c = text.charCodeAt(i);
  if (withTime && (c === SPACE || (c | LOWER) === 0x74) && isDigit(text.charCodeAt(i + 1))) {
    const hour = twoDigits(text, i + 1);
    const minute = twoDigits(text, i + 4);
    if (hour < 0 || minute < 0 || text.charCodeAt(i + 3) !== COLON) return null;
    i += 6;
    let second = 0;
    let fraction = 0;
    if (text.charCodeAt(i) === COLON) {
      second = twoDigits(text, i + 1);
      if (second < 0) return null;
      i += 3;
      if (text.charCodeAt(i) === POINT) {
        const fractionStart = ++i;
        for (let unit = 100_000; i < n && isDigit((c = text.charCodeAt(i))); i++) {
          // The 7th digit rounds (unit is 0 then); later ones are ignored.
          if (unit > 0) fraction += (c - ZERO) * unit;
          else if (i === fractionStart + 6 && c >= ZERO + 5) fraction += 1;
          unit = Math.floor(unit / 10);
        }
        if (i === fractionStart) return null;
      }
    }
    if (hour > 24 || minute > 59 || second > 60 || (hour === 24 && (minute > 0 || second > 0 || fraction > 0))) return null;
    micros = ((hour * 60 + minute) * 60 + second) * 1_000_000 + fraction;

    c = text.charCodeAt(i);
    if ((c | LOWER) === 0x7a) {
      hasOffset = true;
      i++;
    } else if (c === PLUS || c === MINUS) {
      const hours = twoDigits(text, i + 1);
      if (hours < 0) return null;
      i += 3;
      let minutes = 0;
      let seconds = 0;
      if (text.charCodeAt(i) === COLON) {
        minutes = twoDigits(text, i + 1);
        i += 3;
        if (minutes >= 0 && text.charCodeAt(i) === COLON) {
          seconds = twoDigits(text, i + 1);
          i += 3;
        }
      } else if (isDigit(text.charCodeAt(i))) {
        minutes = twoDigits(text, i);
        i += 2;
      }
      if (minutes < 0 || seconds < 0 || hours > 15 || minutes > 59 || seconds > 59) return null;
      micros -= (c === PLUS ? 1 : -1) * ((hours * 60 + minutes) * 60 + seconds) * 1_000_000;
      hasOffset = true;
    }
  }

  let bc = false;
  if (i + 3 === n && text.charCodeAt(i) === SPACE && (text.charCodeAt(i + 1) | LOWER) === 0x62 && (text.charCodeAt(i + 2) | LOWER) === 0x63) {
    bc = true;
    i += 3;
  }
  if (i !== n || (bc && (sign !== 0 || year === 0))) return null;
  const astronomical = sign !== 0 ? sign * year : bc ? 1 - year : year;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(astronomical, month)) return null;
  return { days: daysFromCivil(astronomical, month, day), micros, hasOffset };
}
