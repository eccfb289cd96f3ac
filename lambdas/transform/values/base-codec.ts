// A codec of one PostgreSQL base type: its interface, and the small helpers the codecs share: reading a
// COPY field as a string the quick way, and writing ASCII text as a field.
import type { CopyTextWriter } from '../copy-text.ts';
import { MALFORMED } from './malformed.ts';
import type { Refusal } from './refusal.ts';

export interface ScalarCodec {
  /** The value of the type's text form (COPY escapes decoded); MALFORMED when it is not one. */
  readonly parse: (text: string) => unknown;
  /**
   * The value of a COPY field (escapes not decoded, not `\N`) by the quickest route; MALFORMED
   * sends the field the slow way: escapes decoded, then `parse`.
   */
  readonly decode: (buf: Buffer, start: number, end: number) => unknown;
  /** The text form of a non-null JS value, or a Refusal saying why the column cannot take it. */
  readonly format: (value: unknown) => string | Refusal;
  /** A decoded value as JSON text, as PostgreSQL's to_jsonb writes it. */
  readonly json: (value: unknown) => string;
  /** Array element delimiter: `,` for every type but box. */
  readonly delimiter: string;
  /** `format` only ever returns ASCII that COPY does not escape, so it can be written as it is. */
  readonly ascii: boolean;
  /** Its values may be JS arrays (json, jsonb): in an array column, only the declared dimensions are array levels. */
  readonly arrayValues?: boolean;
  /** Where quicker than `format`: writes a non-null value as a COPY field itself, or returns a Refusal and writes nothing. */
  readonly write?: (value: unknown, out: CopyTextWriter) => Refusal | null;
}

export const ZERO = 0x30;
export const MINUS = 0x2d;
export const PLUS = 0x2b;

// Buffer's own slice methods skip toString's argument checks; @types/node does not declare them.
interface BufferSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  hexSlice(start: number, end: number): string;
}
export const latin1 = (buf: Buffer, start: number, end: number): string => (buf as unknown as BufferSlices).latin1Slice(start, end);
export const utf8 = (buf: Buffer, start: number, end: number): string => (buf as unknown as BufferSlices).utf8Slice(start, end);
export const hex = (buf: Buffer): string => (buf as unknown as BufferSlices).hexSlice(0, buf.length);

/** For types whose text is plain ASCII: the field read as latin1 and parsed; a backslash (an escaped character) or a byte above 0x7F fails the parse and takes the slow path. */
export const asciiDecode =
  (parse: (text: string) => unknown) =>
  (buf: Buffer, start: number, end: number): unknown =>
    parse(latin1(buf, start, end));

/** For types whose text may be any UTF-8: one native scan for a backslash decides the route. */
export const utf8Decode =
  (parse: (text: string) => unknown) =>
  (buf: Buffer, start: number, end: number): unknown => {
    const text = utf8(buf, start, end);
    return text.indexOf('\\') === -1 ? parse(text) : MALFORMED;
  };

/** A value's text as a JSON string. */
export const jsonString = (value: unknown): string => JSON.stringify(String(value));

/** A number's text, -0 included. */
export const numberText = (value: number): string => (Object.is(value, -0) ? '-0' : String(value));

/** ASCII text without COPY escapes (or a Refusal) written as a field. */
export function writeFormatted(text: string | Refusal, out: CopyTextWriter): Refusal | null {
  if (typeof text !== 'string') return text;
  out.asciiField(text);
  return null;
}
