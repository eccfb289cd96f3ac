// Why a JS value cannot go into a column: the Refusal an encoder returns instead of text, with a
// short description of the value for its reason.

/** The text as a JSON string, cut short for a message. */
export function preview(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/** A value the column cannot take; `reason` says what was expected and what came. */
export class Refusal {
  readonly reason: string;
  constructor(reason: string) {
    this.reason = reason;
  }
}

/** `expected <expected>, got <the value described>`. */
export function refuse(expected: string, value: unknown): Refusal {
  return new Refusal(`expected ${expected}, got ${describeValue(value)}`);
}

/** The kind of value and a short preview: `string "12a"`, `number -0`, `array of 3`, `Date 2024-01-02T00:00:00.000Z`. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `string ${preview(value)}`;
    case 'number':
      return `number ${Object.is(value, -0) ? '-0' : value}`;
    case 'bigint':
      return `bigint ${preview(String(value)).slice(1, -1)}`;
    case 'boolean':
      return `boolean ${value}`;
    case 'undefined':
    case 'symbol':
    case 'function':
      return typeof value;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array of ${value.length}`;
  if (value instanceof Date) return `Date ${Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()}`;
  if (value instanceof Uint8Array) return `${value.constructor.name} of ${value.length} bytes`;
  const name = (value as object).constructor?.name;
  if (name === undefined || name === 'Object') return 'object';
  const text = String(value);
  return text.startsWith('[object ') ? name : `${name} ${preview(text).slice(1, -1)}`;
}
