// PostgreSQL's array text (`{a,"b c",NULL,{...}}`, optionally after `[lo:hi]=`) both ways: parse it
// into nested JS arrays of element values, and write nested JS arrays back, quoting elements
// exactly when PostgreSQL needs it. COPY escapes are not this module's business.
import { MALFORMED, type Malformed } from './malformed.ts';
import { Refusal, describeValue } from './refusal.ts';

/** PostgreSQL's MAXDIM. */
export const MAX_ARRAY_DIMS = 6;

const BACKSLASH = 0x5c;
const QUOTE = 0x22;
const LEFT_BRACE = 0x7b;
const RIGHT_BRACE = 0x7d;
const LEFT_BRACKET = 0x5b;
const EQUALS = 0x3d;

// array_isspace: the only whitespace array text skips or needs quotes for.
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Where parsing is: one per parseArrayText call, handed down instead of closures. */
interface Cursor {
  readonly text: string;
  readonly delimiter: number;
  readonly elementOf: (element: string) => unknown;
  i: number;
}

/**
 * The nested arrays of `text`; `elementOf` turns each non-NULL element's text into its value (or
 * MALFORMED). Lower bounds (`[2:3]={...}`) are read and dropped. MALFORMED when anything is wrong.
 */
export function parseArrayText(text: string, elementOf: (element: string) => unknown, delimiter = ','): unknown[] | Malformed {
  const at: Cursor = { text, delimiter: delimiter.charCodeAt(0), elementOf, i: 0 };
  skipSpace(at);
  if (text.charCodeAt(at.i) === LEFT_BRACKET) {
    // Dimension decoration: [lo:hi] per dimension, then =.
    while (text.charCodeAt(at.i) === LEFT_BRACKET) {
      const close = text.indexOf(']', at.i);
      if (close === -1 || !/^\[[+-]?[0-9]+:[+-]?[0-9]+\]$/.test(text.slice(at.i, close + 1))) return MALFORMED;
      at.i = close + 1;
    }
    skipSpace(at);
    if (text.charCodeAt(at.i++) !== EQUALS) return MALFORMED;
    skipSpace(at);
  }
  if (text.charCodeAt(at.i) !== LEFT_BRACE) return MALFORMED;
  const result = parseLevel(at, 1);
  skipSpace(at);
  return at.i === text.length ? result : MALFORMED;
}

function skipSpace(at: Cursor): void {
  const text = at.text;
  while (at.i < text.length && isSpace(text.charCodeAt(at.i))) at.i++;
}

/** The array whose `{` is at the cursor. */
function parseLevel(at: Cursor, depth: number): unknown[] | Malformed {
  if (depth > MAX_ARRAY_DIMS) return MALFORMED;
  const { text, delimiter, elementOf } = at;
  at.i++; // the {
  const items: unknown[] = [];
  skipSpace(at);
  if (text.charCodeAt(at.i) === RIGHT_BRACE) {
    at.i++;
    return items;
  }
  for (;;) {
    skipSpace(at);
    const c = text.charCodeAt(at.i);
    let item: unknown;
    if (c === LEFT_BRACE) {
      item = parseLevel(at, depth + 1);
    } else if (c === QUOTE) {
      const value = quotedElement(at);
      item = value === MALFORMED ? MALFORMED : elementOf(value);
    } else {
      item = unquotedElement(at);
    }
    if (item === MALFORMED) return MALFORMED;
    items.push(item);
    skipSpace(at);
    const after = text.charCodeAt(at.i++);
    if (after === RIGHT_BRACE) return items;
    if (after !== delimiter) return MALFORMED;
  }
}

/** The text of the quoted element at the cursor, `\"` and `\\` (any `\c`) unescaped. */
function quotedElement(at: Cursor): string | Malformed {
  const text = at.text;
  let i = at.i + 1;
  let start = i;
  let value = '';
  for (;;) {
    if (i >= text.length) return MALFORMED;
    const c = text.charCodeAt(i);
    if (c === QUOTE) break;
    if (c === BACKSLASH) {
      value += text.slice(start, i);
      start = ++i;
      if (i >= text.length) return MALFORMED;
    }
    i++;
  }
  at.i = i + 1;
  return value + text.slice(start, i);
}

/** The value of the unquoted element at the cursor: null for NULL (any case), else elementOf its text. */
function unquotedElement(at: Cursor): unknown {
  const { text, delimiter } = at;
  const start = at.i;
  let i = start;
  let end = start; // trailing whitespace is not part of the element
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === delimiter || c === RIGHT_BRACE) break;
    if (c === LEFT_BRACE || c === QUOTE) return MALFORMED;
    if (c === BACKSLASH) return unquotedWithEscapes(at);
    if (!isSpace(c)) end = i + 1;
  }
  at.i = i;
  if (end === start) return MALFORMED;
  if (end - start === 4 && isNullWord(text, start)) return null;
  return at.elementOf(text.slice(start, end));
}

/** `NULL` in any case at `text[at]`. */
function isNullWord(text: string, at: number): boolean {
  return (
    (text.charCodeAt(at) | 0x20) === 0x6e &&
    (text.charCodeAt(at + 1) | 0x20) === 0x75 &&
    (text.charCodeAt(at + 2) | 0x20) === 0x6c &&
    (text.charCodeAt(at + 3) | 0x20) === 0x6c
  );
}

/** An unquoted element with backslashes: PostgreSQL never writes one but reads it, char by char. */
function unquotedWithEscapes(at: Cursor): unknown {
  const { text, delimiter } = at;
  let value = '';
  let keep = 0; // escaped whitespace stays, trailing unescaped whitespace goes
  let i = at.i;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === delimiter || c === RIGHT_BRACE) break;
    if (c === LEFT_BRACE || c === QUOTE) return MALFORMED;
    if (c === BACKSLASH) {
      if (++i >= text.length) return MALFORMED;
      value += text[i];
      keep = value.length;
    } else {
      value += text[i];
      if (!isSpace(c)) keep = value.length;
    }
  }
  at.i = i;
  return at.elementOf(value.slice(0, keep));
}

/** An element as array text: quoted (with `\"` and `\\`) exactly when PostgreSQL's array_out would quote it. */
export function quoteElement(text: string, delimiter = ','): string {
  const delim = delimiter.charCodeAt(0);
  const n = text.length;
  let quote = n === 0 || (n === 4 && isNullWord(text, 0));
  let escapes = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE || c === BACKSLASH) escapes = quote = true;
    else if (c === LEFT_BRACE || c === RIGHT_BRACE || c === delim || isSpace(c)) quote = true;
  }
  if (!quote) return text;
  return `"${escapes ? text.replace(/["\\]/g, '\\$&') : text}"`;
}

/**
 * Nested JS arrays as array text; `elementText` gives each non-null element's text form or a
 * Refusal. Refused: not an array, sub-arrays of unequal length or depth (PostgreSQL arrays are
 * rectangular), an empty sub-array, more than 6 dimensions. With `dimensions` (json[] and jsonb[],
 * whose elements may be JS arrays themselves) the array has exactly that many levels at most and
 * anything below them is an element.
 */
export function formatArrayText(value: unknown, elementText: (element: unknown) => string | Refusal, delimiter = ',', dimensions?: number): string | Refusal {
  if (!Array.isArray(value)) return new Refusal(`expected an array, got ${describeValue(value)}`);
  if (value.length === 0) return '{}';
  const dims: number[] = [];
  const levels = dimensions ?? MAX_ARRAY_DIMS + 1;
  for (let probe: unknown = value; Array.isArray(probe) && dims.length < levels; probe = probe[0]) {
    if (probe.length === 0) return new Refusal('an array holds an empty sub-array: PostgreSQL arrays are rectangular; use [] for an empty array');
    dims.push(probe.length);
  }
  if (dims.length > MAX_ARRAY_DIMS) return new Refusal(`an array has ${dims.length} dimensions; PostgreSQL allows at most ${MAX_ARRAY_DIMS}`);
  return formatLevel(value, 0, dims, elementText, delimiter, dimensions !== undefined);
}

function formatLevel(
  items: readonly unknown[],
  depth: number,
  dims: readonly number[],
  elementText: (element: unknown) => string | Refusal,
  delimiter: string,
  arrayElements: boolean,
): string | Refusal {
  if (items.length !== dims[depth]) {
    return new Refusal(`a sub-array at depth ${depth} has ${items.length} elements where ${dims[depth]} are expected: PostgreSQL arrays are rectangular`);
  }
  const leaf = depth === dims.length - 1;
  let text = '{';
  for (let k = 0; k < items.length; k++) {
    const item = items[k];
    let part: string | Refusal;
    if (!leaf) {
      part = Array.isArray(item) ? formatLevel(item, depth + 1, dims, elementText, delimiter, arrayElements) : new Refusal(`element ${k} at depth ${depth} should be a sub-array, got ${describeValue(item)}`);
    } else if (item === null || item === undefined) {
      part = 'NULL';
    } else if (Array.isArray(item) && !arrayElements) {
      part = new Refusal(`element ${k} at depth ${depth} is an array where its siblings are not: PostgreSQL arrays are rectangular`);
    } else {
      const element = elementText(item);
      part = typeof element === 'string' ? quoteElement(element, delimiter) : new Refusal(`element ${k} at depth ${depth}: ${element.reason}`);
    }
    if (typeof part !== 'string') return part;
    text += k === 0 ? part : delimiter + part;
  }
  return `${text}}`;
}
