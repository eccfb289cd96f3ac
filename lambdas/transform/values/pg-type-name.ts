// A declared PostgreSQL type name (`int8`, `varchar(10)`, `timestamptz(3)`, `numeric[][]`) -> the
// canonical name pg_catalog.format_type prints for the column, its parts, and its array depth.
import { ConfigError } from '../../shared/errors.ts';

export interface PgTypeName {
  /** The canonical type without modifier or array brackets: `bigint`, `character varying`, `timestamp with time zone`. */
  readonly base: string;
  /** What goes between the parentheses, canonical: `10`, `12,2`, `3`; null when there is none. */
  readonly modifier: string | null;
  /** Array dimensions as declared (`int[][]` is 2); 0 for a scalar. PostgreSQL itself does not enforce them. */
  readonly arrayDims: number;
  /** As format_type prints it: `character varying(10)`, `timestamp(3) with time zone`, `numeric[]` (one `[]` whatever the dimensions). */
  readonly canonical: string;
}

// Spellings of built-in types -> format_type's name for them.
const ALIASES: Readonly<Record<string, string>> = {
  int2: 'smallint',
  smallint: 'smallint',
  smallserial: 'smallint',
  int: 'integer',
  int4: 'integer',
  integer: 'integer',
  serial: 'integer',
  serial4: 'integer',
  int8: 'bigint',
  bigint: 'bigint',
  bigserial: 'bigint',
  serial8: 'bigint',
  float4: 'real',
  real: 'real',
  float8: 'double precision',
  'double precision': 'double precision',
  decimal: 'numeric',
  numeric: 'numeric',
  bool: 'boolean',
  boolean: 'boolean',
  varchar: 'character varying',
  'character varying': 'character varying',
  'char varying': 'character varying',
  char: 'character',
  character: 'character',
  bpchar: 'bpchar',
  timestamp: 'timestamp without time zone',
  'timestamp without time zone': 'timestamp without time zone',
  timestamptz: 'timestamp with time zone',
  'timestamp with time zone': 'timestamp with time zone',
  time: 'time without time zone',
  'time without time zone': 'time without time zone',
  timetz: 'time with time zone',
  'time with time zone': 'time with time zone',
  varbit: 'bit varying',
  'bit varying': 'bit varying',
};

// Types whose modifier sits before the words `with/without time zone`.
const ZONED = new Set(['timestamp without time zone', 'timestamp with time zone', 'time without time zone', 'time with time zone']);

// Lengths and precisions PostgreSQL accepts, per canonical base: [least, greatest] of each number.
const MODIFIER_RANGES: Readonly<Record<string, readonly (readonly [number, number])[]>> = {
  'character varying': [[1, 10485760]],
  character: [[1, 10485760]],
  bpchar: [[1, 10485760]],
  bit: [[1, 83886080]],
  'bit varying': [[1, 83886080]],
  numeric: [
    [1, 1000],
    [-1000, 1000],
  ],
  'timestamp without time zone': [[0, 6]],
  'timestamp with time zone': [[0, 6]],
  'time without time zone': [[0, 6]],
  'time with time zone': [[0, 6]],
};

const TOKEN = /\s*(?:("(?:[^"]|"")+")|([A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)|([+-]?[0-9]+)|([()[\],.]))/y;

/**
 * The canonical name of a declared type. Unknown names (enums, domains, `public.mood`,
 * `"My Type"`) are kept as written, unquoted parts lower-cased. A ConfigError when it does not parse.
 */
export function normalizePgType(declared: string): PgTypeName {
  const tokens = tokenize(declared);
  let arrayDims = 0;
  // Trailing `[]`, `[3]` or `ARRAY`, `ARRAY[3]`.
  for (;;) {
    const n = tokens.length;
    if (tokens[n - 1] === ']' && tokens[n - 2] === '[') tokens.length -= 2;
    else if (tokens[n - 1] === ']' && tokens[n - 3] === '[' && /^[0-9]+$/.test(tokens[n - 2]!)) tokens.length -= 3;
    else if (tokens[n - 1]?.toLowerCase() === 'array' && arrayDims === 0) tokens.length -= 1;
    else break;
    arrayDims++;
  }
  let modifier: string | null = null;
  const open = tokens.indexOf('(');
  if (open !== -1) {
    const close = tokens.indexOf(')', open);
    const inside = tokens.slice(open + 1, close);
    if (close === -1 || inside.length === 0 || !inside.every((t, i) => (i % 2 === 0) === (t !== ','))) bad(declared);
    // Numbers in canonical form; anything else (PostGIS's `geometry(Point,4326)`) as written.
    modifier = inside.filter((t) => t !== ',').map((t) => (/^[+-]?[0-9]+$/.test(t) ? String(Number(t)) : t)).join(',');
    tokens.splice(open, close - open + 1);
  }
  if (tokens.length === 0 || tokens.includes('(') || tokens.includes(')') || tokens.includes('[') || tokens.includes(']')) bad(declared);

  // Unquoted identifiers fold to lower case, as in SQL.
  let words = tokens.map((t) => (t.startsWith('"') ? t : t.toLowerCase())).join(' ').replaceAll(' . ', '.');
  if (words.startsWith('pg_catalog.') && ALIASES[words.slice(11)] !== undefined) words = words.slice(11);
  let base = ALIASES[words] ?? words;
  if (base === 'character' && modifier === null) modifier = '1';
  if (base === 'bit' && modifier === null) modifier = '1';
  if (base === 'bpchar' && modifier !== null) base = 'character';
  if (words === 'float') {
    const precision = modifier === null ? 53 : Number(modifier);
    if (!Number.isInteger(precision) || precision < 1 || precision > 53) bad(declared, 'float(p) takes a precision from 1 to 53');
    base = precision <= 24 ? 'real' : 'double precision';
    modifier = null;
  }
  if (base === 'numeric' && modifier !== null && !modifier.includes(',')) modifier += ',0';
  const ranges = MODIFIER_RANGES[base];
  if (modifier !== null && ranges !== undefined) {
    const numbers = modifier.split(',').map(Number);
    if (numbers.length > ranges.length || numbers.some((v, i) => !(v >= ranges[i]![0] && v <= ranges[i]![1]))) {
      bad(declared, `${base} takes ${ranges.map(([lo, hi]) => `${lo}..${hi}`).join(', ')} in its parentheses`);
    }
  }
  const withModifier = modifier === null ? base : ZONED.has(base) ? base.replace(/^(time(?:stamp)?)/, `$1(${modifier})`) : `${base}(${modifier})`;
  return { base, modifier, arrayDims, canonical: arrayDims > 0 ? `${withModifier}[]` : withModifier };
}

function tokenize(declared: string): string[] {
  if (typeof declared !== 'string') bad(String(declared));
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < declared.length) {
    if (/^\s*$/.test(declared.slice(at))) break;
    const match = TOKEN.exec(declared);
    if (match === null) bad(declared);
    tokens.push(match[1] ?? match[2] ?? match[3] ?? match[4]!);
    at = TOKEN.lastIndex;
  }
  return tokens;
}

function bad(declared: string, why?: string): never {
  throw new ConfigError(
    `column type ${JSON.stringify(declared)} does not parse${why === undefined ? '' : `: ${why}`}; ` +
      'write a PostgreSQL type as in CREATE TABLE, e.g. bigint, numeric(12,2), varchar(40), timestamptz, text[]',
  );
}
