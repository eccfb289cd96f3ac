// Reads date and timestamp text: PostgreSQL's ISO output (`2024-01-02 03:04:05.123456+05:30`,
// offsets with seconds, ` BC`, years past 9999) and ISO 8601 (`T`, `Z`, `+0530`, ±YYYYYY years).
// It reads bytes, so a COPY field is parsed where it lies, without a string made of it first.
import { daysFromCivil, daysInMonth } from './calendar.ts';

const ZERO = 48;
const PLUS = 43;
const MINUS = 45;
const COLON = 58;
const POINT = 46;
const SPACE = 32;
const LOWER = 0x20;

// parseDateTime's results (module state rather than an object a value: this is the hot path).
/** Days since 1970-01-01 of the date as written. */
export let parsedDays = 0;
/** Microseconds into that day, the UTC offset already subtracted: may fall outside [0, one day). */
export let parsedMicros = 0;

/** The ASCII bytes of `text`, or null when it has other characters (then it is no date anyway). */
export function asciiBytes(text: string): Buffer | null {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return null;
  return Buffer.from(text, 'latin1');
}

/** -1: `-infinity`, 1: `infinity` (any case, `+` allowed), 0: neither. */
export function infinitySign(buf: Uint8Array, start: number, end: number): -1 | 0 | 1 {
  const c = buf[start];
  if (c !== 0x69 && c !== 0x49 && c !== MINUS && c !== PLUS) return 0;
  const sign = c === MINUS ? -1 : 1;
  const from = c === MINUS || c === PLUS ? start + 1 : start;
  if (end - from !== 8) return 0;
  for (let i = 0; i < 8; i++) if ((buf[from + i]! | LOWER) !== 'infinity'.charCodeAt(i)) return 0;
  return sign;
}

/** The two digits at `buf[at]` as a number, -1 when they are not two digits before `end`. */
function twoDigits(buf: Uint8Array, at: number, end: number): number {
  if (at + 2 > end) return -1;
  const a = buf[at]! - ZERO;
  const b = buf[at + 1]! - ZERO;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

function isDigitAt(buf: Uint8Array, at: number, end: number): boolean {
  return at < end && buf[at]! >= ZERO && buf[at]! <= ZERO + 9;
}

/**
 * Reads `buf[start, end)`: `Y-MM-DD`, then when `withTime` optionally a time (` ` or `T`,
 * `HH:MM[:SS[.fraction]]`) and an offset (`Z`, `±HH`, `±HH:MM`, `±HH:MM:SS`, `±HHMM`), then
 * optionally ` BC`. Years have 4 to 9 digits: unsigned ones are as written (AD, or BC with the
 * suffix; 0000 is 1 BC as in ISO 8601), signed ones astronomical. More than six fractional digits
 * round half up. Sets parsedDays and parsedMicros and returns true; false when malformed or a
 * field is out of range (month 13, February 30, minute 60).
 */
export function parseDateTime(buf: Uint8Array, start: number, end: number, withTime: boolean): boolean {
  let i = start;
  let sign = 0;
  let c = buf[i];
  if (c === PLUS || c === MINUS) {
    sign = c === PLUS ? 1 : -1;
    i++;
  }
  const yearStart = i;
  let year = 0;
  while (isDigitAt(buf, i, end)) year = year * 10 + buf[i++]! - ZERO;
  if (i - yearStart < 4 || i - yearStart > 9 || i + 6 > end || buf[i] !== MINUS || buf[i + 3] !== MINUS) return false;
  const month = twoDigits(buf, i + 1, end);
  const day = twoDigits(buf, i + 4, end);
  if (month < 0 || day < 0) return false;
  i += 6;

  let micros = 0;
  c = i < end ? buf[i]! : 0;
  if (withTime && (c === SPACE || (c | LOWER) === 0x74) && isDigitAt(buf, i + 1, end)) {
    const hour = twoDigits(buf, i + 1, end);
    const minute = twoDigits(buf, i + 4, end);
    if (hour < 0 || minute < 0 || buf[i + 3] !== COLON) return false;
    i += 6;
    let second = 0;
    let fraction = 0;
    if (i < end && buf[i] === COLON) {
      second = twoDigits(buf, i + 1, end);
      if (second < 0) return false;
      i += 3;
      if (i < end && buf[i] === POINT) {
        const fractionStart = ++i;
        for (let unit = 100_000; isDigitAt(buf, i, end); i++) {
          // The 7th digit rounds (unit is 0 then); later ones are ignored.
          const digit = buf[i]! - ZERO;
          if (unit > 0) fraction += digit * unit;
          else if (i === fractionStart + 6 && digit >= 5) fraction += 1;
          unit = Math.floor(unit / 10);
        }
        if (i === fractionStart) return false;
      }
    }
    if (hour > 24 || minute > 59 || second > 60 || (hour === 24 && (minute > 0 || second > 0 || fraction > 0))) return false;
    micros = ((hour * 60 + minute) * 60 + second) * 1_000_000 + fraction;

    c = i < end ? buf[i]! : 0;
    if ((c | LOWER) === 0x7a) {
      i++;
    } else if (c === PLUS || c === MINUS) {
      const hours = twoDigits(buf, i + 1, end);
      if (hours < 0) return false;
      i += 3;
      let minutes = 0;
      let seconds = 0;
      if (i < end && buf[i] === COLON) {
        minutes = twoDigits(buf, i + 1, end);
        i += 3;
        if (minutes >= 0 && i < end && buf[i] === COLON) {
          seconds = twoDigits(buf, i + 1, end);
          i += 3;
        }
      } else if (isDigitAt(buf, i, end)) {
        minutes = twoDigits(buf, i, end);
        i += 2;
      }
      if (minutes < 0 || seconds < 0 || hours > 15 || minutes > 59 || seconds > 59) return false;
      micros -= (c === PLUS ? 1 : -1) * ((hours * 60 + minutes) * 60 + seconds) * 1_000_000;
    }
  }

  let bc = false;
  if (i + 3 === end && buf[i] === SPACE && (buf[i + 1]! | LOWER) === 0x62 && (buf[i + 2]! | LOWER) === 0x63) {
    bc = true;
    i += 3;
  }
  if (i !== end || (bc && (sign !== 0 || year === 0))) return false;
  const astronomical = sign !== 0 ? sign * year : bc ? 1 - year : year;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(astronomical, month)) return false;
  parsedDays = daysFromCivil(astronomical, month, day);
  parsedMicros = micros;
  return true;
}
