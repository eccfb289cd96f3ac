// Bigint keys: parsing, bounds and range text. Keys never pass through a JS number.
import { ConfigError } from './errors.ts';

export const MIN_KEY = -(2n ** 63n);
export const MAX_KEY = 2n ** 63n - 1n;

export function parseKey(text: string, what: string): bigint {
  if (!/^-?\d{1,19}$/.test(text)) throw new ConfigError(`${what} is ${JSON.stringify(text)}: it must be a bigint (decimal digits).`);
  const value = BigInt(text);
  if (value < MIN_KEY || value > MAX_KEY) throw new ConfigError(`${what} is ${text}: it is outside the bigint range.`);
  return value;
}

/** `[lo, hi)` or `[lo, +inf)`, for messages and logs. */
export function rangeText(lo: bigint, hi: bigint | null): string {
  return `[${lo}, ${hi === null ? '+inf' : hi})`;
}

/** A pg bigint column arrives as a string (pg does not convert int8); keep it bigint. */
export function keyFromDb(value: string | null): bigint | null {
  return value === null ? null : BigInt(value);
}
