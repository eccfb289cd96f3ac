// JSON values exactly, both ways: json/jsonb text -> JS values that keep every number (integers
// beyond 2^53 as bigint, decimals a double cannot hold as Numeric, a top-level null as JSON_NULL),
// and JS values -> JSON text that PostgreSQL accepts, written exactly.
import { Numeric } from './numeric.ts';
import { Refusal, describeValue } from './refusal.ts';

/**
 * A json/jsonb value that is the JSON literal `null`, as opposed to SQL NULL (which decodes to
 * `null`). Only the top level needs it: nested JSON nulls are `null`.
 */
export const JSON_NULL: Readonly<{ toJSON(): null }> = Object.freeze({
  toJSON: () => null,
  [Symbol.for('nodejs.util.inspect.custom')]: () => 'JSON_NULL',
});

interface ParseContext {
  readonly source?: string;
}

// JSON.parse hands the reviver each number's source text (Node 22), so nothing is lost to doubles.
function exactNumbers(_key: string, value: unknown, context?: ParseContext): unknown {
  if (typeof value !== 'number' || context?.source === undefined) return value;
  return exactNumber(context.source, value);
}

/**
 * The number as written: integer text as a number when it is a safe integer, else a bigint;
 * other text as a number when the number's own text means the same numeric (value and scale:
 * 1.5, 0.1, 1e-7), else as a Numeric (0.1000000000000000055511151231257827, 12.50, 1e400).
 */
function exactNumber(source: string, value: number): number | bigint | Numeric {
  if (!/[.eE]/.test(source)) return Number.isSafeInteger(value) ? value : BigInt(source);
  const exact = new Numeric(source);
  return Number.isFinite(value) && exact.toString() === new Numeric(String(value)).toString() ? value : exact;
}

/**
 * True when a number in `text` may not come out of a double as it went in: a run of 16 or more
 * digits (a point does not break the run), an exponent, or a fraction ending in 0 (its scale),
 * outside strings.
 */
export function mayLoseNumbers(text: string): boolean {
  let digits = 0;
  let fraction = false;
  let lastZero = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits >= 16) return true;
      lastZero = c === 48;
    } else if (c === 46) {
      fraction = true; // the digits after the point count on
    } else if ((c | 0x20) === 0x65 && digits > 0) {
      return true;
    } else {
      if (fraction && lastZero) return true;
      digits = 0;
      fraction = false;
      if (c === 0x22) {
        // Skip the string: to the next quote not escaped by an odd run of backslashes.
        let end = text.indexOf('"', i + 1);
        for (;;) {
          if (end === -1) return false; // unterminated: JSON.parse will say so
          let backslashes = 0;
          while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
          if (backslashes % 2 === 0) break;
          end = text.indexOf('"', end + 1);
        }
        i = end;
      }
    }
  }
  return fraction && lastZero;
}

/** The JS value of json/jsonb text; throws a SyntaxError when it is not JSON. */
export function parseJson(text: string): unknown {
  const value = mayLoseNumbers(text) ? JSON.parse(text, exactNumbers as (key: string, value: unknown) => unknown) : JSON.parse(text);
  return value === null ? JSON_NULL : value;
}

/**
 * `value` as JSON text, or a Refusal. Like JSON.stringify (toJSON is called, undefined/functions/
 * symbols are left out of objects and are null in arrays, -0 is 0) but exact and strict: bigint
 * and Numeric are written as their digits (Numeric NaN/±Infinity as strings, like to_jsonb),
 * JSON_NULL as null; NaN, ±Infinity, Map, Set and cycles are refused, and so, for jsonb, are
 * strings with U+0000 or a lone surrogate, which jsonb rejects.
 */
export function stringifyJson(value: unknown, jsonb: boolean): string | Refusal {
  // The native JSON.stringify writes what jsonText would (Numeric's toJSON is a raw JSON number)
  // unless the value has a bigint (it throws), NaN or ±Infinity (written as null), a Map or Set
  // (written as {}) or, for jsonb, a string it escapes as \u0000 or a lone surrogate. Text
  // without null, {} and \u is therefore exact; the rest goes the careful way.
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text !== undefined && text.indexOf('null') === -1 && text.indexOf('{}') === -1 && (!jsonb || text.indexOf('\\u') === -1)) return text;
  const careful = jsonText(value, jsonb, []);
  return careful === undefined ? new Refusal(`expected a JSON value, got ${describeValue(value)}`) : careful;
}

function jsonText(value: unknown, jsonb: boolean, ancestors: object[]): string | Refusal | undefined {
  switch (typeof value) {
    case 'string':
      return jsonb && !isJsonbString(value) ? badString(value) : JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : new Refusal(`${value} is not a JSON number`);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return String(value);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null || value === JSON_NULL) return 'null';
  // NaN and ±Infinity as strings, as Numeric#toJSON and PostgreSQL's to_jsonb write them.
  if (value instanceof Numeric) return value.isFinite ? value.toString() : JSON.stringify(value.toString());
  const object = value as Record<string, unknown>;
  if (typeof object.toJSON === 'function') return jsonText((object.toJSON as (key: string) => unknown)(''), jsonb, ancestors);
  if (value instanceof Map || value instanceof Set) return new Refusal(`a ${value.constructor.name} has no JSON form; convert it to an object or array`);
  if (ancestors.includes(object)) return new Refusal('the value contains itself (a cycle)');
  ancestors.push(object);
  let text: string;
  if (Array.isArray(object)) {
    text = '[';
    for (let i = 0; i < object.length; i++) {
      const item = jsonText(object[i], jsonb, ancestors);
      if (item instanceof Refusal) return new Refusal(`[${i}]: ${item.reason}`);
      text += (i === 0 ? '' : ',') + (item ?? 'null');
    }
    text += ']';
  } else {
    text = '{';
    let first = true;
    for (const key of Object.keys(object)) {
      const item = jsonText(object[key], jsonb, ancestors);
      if (item === undefined) continue;
      if (item instanceof Refusal) return new Refusal(`${JSON.stringify(key)}: ${item.reason}`);
      if (jsonb && !isJsonbString(key)) return badString(key);
      text += `${first ? '' : ','}${JSON.stringify(key)}:${item}`;
      first = false;
    }
    text += '}';
  }
  ancestors.pop();
  return text;
}

// String#isWellFormed (Node 20+) is not in the ES2023 lib typings.
const isWellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed;

/** jsonb stores text: no U+0000 and no lone surrogate. */
function isJsonbString(text: string): boolean {
  return text.indexOf('\u0000') === -1 && isWellFormed.call(text);
}

function badString(text: string): Refusal {
  return new Refusal(`jsonb cannot hold U+0000 or a lone surrogate, as ${describeValue(text)} has`);
}
