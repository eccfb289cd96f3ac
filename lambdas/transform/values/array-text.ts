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

/**
 * The nested arrays of `text`; `elementOf` turns each non-NULL element's text into its value (or
 * MALFORMED). Lower bounds (`[2:3]={...}`) are read and dropped. MALFORMED when anything is wrong.
 */
export function parseArrayText(text: string, elementOf: (element: string) => unknown, delimiter = ','): unknown[] | Malformed {
  const n = text.length;
  const delim = delimiter.charCodeAt(0);
  let i = 0;

  const skipSpace = (): void => {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
  };

  // An unquoted element with backslashes (PostgreSQL never writes one, but reads it): char by char.
  const unquotedWithEscapes = (): string | Malformed => {
    let value = '';
    let keep = 0; // trailing unescaped whitespace is dropped
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === delim || c === RIGHT_BRACE) break;
      if (c === LEFT_BRACE || c === QUOTE) return MALFORMED;
      if (c === BACKSLASH) {
        if (++i >= n) return MALFORMED;
        value += text[i];
        keep = value.length;
      } else {
        value += text[i];
        if (!isSpace(c)) keep = value.length;
      }
      i++;
    }
    return value.slice(0, keep);
  };

  const level = (depth: number): unknown[] | Malformed => {
    if (depth > MAX_ARRAY_DIMS) return MALFORMED;
    i++; // the {
    const items: unknown[] = [];
    skipSpace();
    if (text.charCodeAt(i) === RIGHT_BRACE) {
      i++;
      return items;
    }
    for (;;) {
      skipSpace();
      const c = text.charCodeAt(i);
      let item: unknown;
      if (c === LEFT_BRACE) {
        item = level(depth + 1);
      } else if (c === QUOTE) {
        let start = ++i;
        let value = '';
        for (;;) {
          if (i >= n) return MALFORMED;
          const d = text.charCodeAt(i);
          if (d === QUOTE) break;
          if (d === BACKSLASH) {
            value += text.slice(start, i);
            start = ++i;
            if (i >= n) return MALFORMED;
          }
          i++;
        }
        value += text.slice(start, i++);
        item = elementOf(value);
      } else {
        const start = i;
        let end = i;
        let escaped = false;
        while (i < n) {
          const d = text.charCodeAt(i);
          if (d === delim || d === RIGHT_BRACE) break;
          if (d === BACKSLASH) escaped = true;
          if (d === LEFT_BRACE || d === QUOTE) return MALFORMED;
          i++;
          if (!isSpace(d)) end = i;
        }
        if (escaped) {
          i = start;
          const value = unquotedWithEscapes();
          item = value === MALFORMED ? MALFORMED : elementOf(value);
        } else {
          const value = text.slice(start, end);
          if (value.length === 0) return MALFORMED;
          // NULL unquoted and unescaped, in any case, is a null element.
          item = value.length === 4 && value.toLowerCase() === 'null' ? null : elementOf(value);
        }
      }
      if (item === MALFORMED) return MALFORMED;
      items.push(item);
      skipSpace();
      const after = text.charCodeAt(i++);
      if (after === RIGHT_BRACE) return items;
      if (after !== delim) return MALFORMED;
    }
  };

  skipSpace();
  if (text.charCodeAt(i) === LEFT_BRACKET) {
    while (text.charCodeAt(i) === LEFT_BRACKET) {
      const close = text.indexOf(']', i);
      if (close === -1 || !/^\[[+-]?[0-9]+:[+-]?[0-9]+\]$/.test(text.slice(i, close + 1))) return MALFORMED;
      i = close + 1;
    }
    skipSpace();
    if (text.charCodeAt(i++) !== EQUALS) return MALFORMED;
    skipSpace();
  }
  if (text.charCodeAt(i) !== LEFT_BRACE) return MALFORMED;
  const result = level(1);
  skipSpace();
  return i === n ? result : MALFORMED;
}

const NEEDS_QUOTES = { ',': /[{}",\\ \t\n\r\v\f]/, ';': /[{}";\\ \t\n\r\v\f]/ } as const;

/** An element as array text: quoted (with `\"` and `\\`) exactly when PostgreSQL's array_out would quote it. */
export function quoteElement(text: string, delimiter = ','): string {
  const needs = delimiter === ';' ? NEEDS_QUOTES[';'] : NEEDS_QUOTES[','];
  if (text.length > 0 && !needs.test(text) && !(text.length === 4 && text.toLowerCase() === 'null')) return text;
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Nested JS arrays as array text; `elementText` gives each non-null element's text form or a
 * Refusal. Refused: not an array, sub-arrays of unequal length or depth (PostgreSQL arrays are
 * rectangular), an empty sub-array, more than 6 dimensions.
 */
export function formatArrayText(value: unknown, elementText: (element: unknown) => string | Refusal, delimiter = ','): string | Refusal {
  if (!Array.isArray(value)) return new Refusal(`expected an array, got ${describeValue(value)}`);
  if (value.length === 0) return '{}';
  const dims: number[] = [];
  for (let probe: unknown = value; Array.isArray(probe); probe = probe[0]) {
    if (probe.length === 0) return new Refusal('an array holds an empty sub-array: PostgreSQL arrays are rectangular; use [] for an empty array');
    dims.push(probe.length);
  }
  if (dims.length > MAX_ARRAY_DIMS) return new Refusal(`an array has ${dims.length} dimensions; PostgreSQL allows at most ${MAX_ARRAY_DIMS}`);

  const write = (items: readonly unknown[], depth: number, path: string): string | Refusal => {
    if (items.length !== dims[depth]) {
      return new Refusal(`sub-array ${path} has ${items.length} elements where ${dims[depth]} are expected: PostgreSQL arrays are rectangular`);
    }
    const leaf = depth === dims.length - 1;
    let text = '{';
    for (let k = 0; k < items.length; k++) {
      const item = items[k];
      let part: string | Refusal;
      if (!leaf) {
        part = Array.isArray(item) ? write(item, depth + 1, `${path}[${k}]`) : new Refusal(`element ${path}[${k}] should be a sub-array, got ${describeValue(item)}`);
      } else if (item === null || item === undefined) {
        part = 'NULL';
      } else if (Array.isArray(item)) {
        part = new Refusal(`element ${path}[${k}] is an array where its siblings are not: PostgreSQL arrays are rectangular`);
      } else {
        const element = elementText(item);
        part = typeof element === 'string' ? quoteElement(element, delimiter) : new Refusal(`element ${path}[${k}]: ${element.reason}`);
      }
      if (typeof part !== 'string') return part;
      text += k === 0 ? part : delimiter + part;
    }
    return `${text}}`;
  };
  return write(value, 0, '');
}
