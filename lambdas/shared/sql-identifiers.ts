// The only place identifiers become SQL text. Names are parsed with PostgreSQL's own rules
// (unquoted parts fold to lower case, "quoted" parts are taken verbatim with "" for a quote) and
// always re-quoted on the way out, so a hostile value can never become SQL.
import { SchemaError } from './errors.ts';

export interface QualifiedName {
  /** Undefined when the name was not schema-qualified (resolved through search_path). */
  readonly schema?: string;
  readonly name: string;
}

const UNQUOTED_PART = /^[\p{L}_][\p{L}\p{N}_$]*$/u;

/** Parse `table`, `schema.table`, `"My Schema"."in.put"`; `what` names the setting in errors. */
export function parseQualifiedName(text: string, what: string): QualifiedName {
  const parts = splitIdentifierParts(text, what);
  if (parts.length === 1) return { name: parts[0]! };
  if (parts.length === 2) return { schema: parts[0]!, name: parts[1]! };
  throw new SchemaError(`${what} is ${JSON.stringify(text)}: give a table as table or schema.table (quote parts with "…" if they contain dots or capitals).`);
}

/** Parse a single column name (unqualified). */
export function parseColumnName(text: string, what: string): string {
  const parts = splitIdentifierParts(text, what);
  if (parts.length !== 1) {
    throw new SchemaError(`${what} is ${JSON.stringify(text)}: give one column name, not a qualified one.`);
  }
  return parts[0]!;
}

export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes('\0')) throw new SchemaError('an identifier may not be empty or contain a NUL character.');
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteQualified(q: { schema: string; name: string }): string {
  return `${quoteIdent(q.schema)}.${quoteIdent(q.name)}`;
}

/** How a resolved name is shown to people (quotes only where needed). */
export function displayQualified(q: QualifiedName): string {
  const show = (p: string) => (/^[a-z_][a-z0-9_$]*$/.test(p) ? p : quoteIdent(p));
  return q.schema === undefined ? show(q.name) : `${show(q.schema)}.${show(q.name)}`;
}

function splitIdentifierParts(text: string, what: string): string[] {
  const bad = (why: string) =>
    new SchemaError(`${what} is ${JSON.stringify(text)}: ${why}. Use a plain name like input_table, schema.table, or quote it: "My Schema"."in.put".`);
  const parts: string[] = [];
  let i = 0;
  const s = text.trim();
  if (s.length === 0) throw bad('it is empty');
  while (i <= s.length) {
    if (s[i] === '"') {
      let part = '';
      i += 1;
      for (;;) {
        if (i >= s.length) throw bad('a quoted part is not closed');
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        part += s[i];
        i += 1;
      }
      if (part.length === 0) throw bad('a quoted part is empty');
      if (part.includes('\0')) throw bad('it contains a NUL character');
      parts.push(part);
    } else {
      let j = i;
      while (j < s.length && s[j] !== '.') j += 1;
      const raw = s.slice(i, j);
      if (!UNQUOTED_PART.test(raw)) throw bad(raw.length === 0 ? 'a part is empty' : `${JSON.stringify(raw)} is not a valid unquoted identifier`);
      // PostgreSQL folds only ASCII A-Z in unquoted names (scansup.c); 'Äpfel' stays 'Äpfel'.
      parts.push(raw.replace(/[A-Z]+/g, (m) => m.toLowerCase()));
      i = j;
    }
    if (i === s.length) break;
    if (s[i] !== '.') throw bad(`unexpected ${JSON.stringify(s[i])} after a quoted part`);
    i += 1;
    if (i === s.length) throw bad('it ends with a dot');
  }
  if (parts.some((p) => Buffer.byteLength(p) > 63)) throw bad('a part is longer than PostgreSQL\'s 63-byte limit');
  return parts;
}
