// The value codecs against a real PostgreSQL: for each type a corpus of tricky values goes in as
// SQL literals, comes out through COPY TO, is decoded and checked against facts PostgreSQL computes
// on its own (bytes, epoch microseconds, IEEE bits, JSON leaves), and its reject JSON against
// to_jsonb; then it is encoded, COPYed back into a second table, and PostgreSQL confirms every
// value is identical, row by row. normalizePgType is checked against format_type.
import assert from 'node:assert/strict';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { CopyTextWriter } from '../../../lambdas/transform/copy-text.ts';
import { decoderFor, encoderFor, jsonForReject, JSON_NULL, normalizePgType, Numeric, PgDate, PgTimestamp, sessionSettingsSql } from '../../../lambdas/transform/values/index.ts';
import { DATE_END_DAYS, MIN_DAYS, TIMESTAMP_END_DAYS } from '../../../lambdas/transform/values/calendar.ts';
import { parseJson } from '../../../lambdas/transform/values/json-value.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { prng } from '../../support/prng.ts';

const random = prng(20240102);
const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;
const numberText = (n: number): string => (Object.is(n, -0) ? '-0' : String(n));

interface TypeCase {
  /** The column type as a user would declare it. */
  readonly type: string;
  /** SQL expressions of the values (a NULL row is added). */
  readonly values: readonly string[];
  /** SQL over the column `v` giving, as text, what PostgreSQL says about each value. */
  readonly fact: string;
  /** Checks a decoded (non-null) value against its fact. */
  readonly expect: (value: unknown, fact: string) => void;
  /** The re-encoded COPY text is byte for byte what PostgreSQL sent (not so for floats and json spacing). */
  readonly sameText?: boolean;
  /** How PostgreSQL compares the copied-back column: `v` itself and its text, `v::jsonb` (json has no =), or the text alone (point has no =). */
  readonly compareAs?: 'value' | 'jsonb' | 'text';
}

function floatBits(value: unknown, bytes: 4 | 8): string {
  const buf = Buffer.alloc(bytes);
  if (bytes === 8) buf.writeDoubleBE(value as number);
  else buf.writeFloatBE(value as number);
  return buf.toString('hex');
}

const expectFloat = (bytes: 4 | 8) => (value: unknown, fact: string) => {
  assert.equal(typeof value, 'number');
  if (Number.isNaN(value)) assert.match(fact, bytes === 8 ? /^7ff8/ : /^7fc0/);
  else assert.equal(floatBits(value, bytes), fact);
};

const randomFloat8s = Array.from({ length: 300 }, () => {
  const buf = Buffer.alloc(8);
  buf.writeUInt32BE(Math.floor(random() * 2 ** 32));
  buf.writeUInt32BE(Math.floor(random() * 2 ** 32), 4);
  return buf.readDoubleBE();
}).filter(Number.isFinite);

const randomFloat4s = Array.from({ length: 300 }, () => {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(Math.floor(random() * 2 ** 32));
  return buf.readFloatBE();
}).filter(Number.isFinite);

const randomDigits = (n: number): string => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');
const randomNumerics = Array.from({ length: 100 }, (_, i) => `${i % 2 ? '-' : ''}${randomDigits(1 + Math.floor(random() * 30))}.${randomDigits(Math.floor(random() * 30))}`);

// Any character but NUL and lone surrogates, from every plane, with the ones COPY escapes often.
function randomText(): string {
  let text = '';
  const length = Math.floor(random() * 40);
  for (let i = 0; i < length; i++) {
    const pick = random();
    let cp: number;
    if (pick < 0.2) cp = [0x09, 0x0a, 0x0d, 0x5c, 0x08, 0x0b, 0x0c, 0x22, 0x2c, 0x7b, 0x7d, 0x20][Math.floor(random() * 12)]!;
    else if (pick < 0.5) cp = 0x01 + Math.floor(random() * 0x7e);
    else if (pick < 0.8) cp = 0x80 + Math.floor(random() * (0xd800 - 0x80));
    else if (pick < 0.9) cp = 0xe000 + Math.floor(random() * 0x2000);
    else cp = 0x10000 + Math.floor(random() * 0x100000);
    text += String.fromCodePoint(cp);
  }
  return text;
}

const TRICKY_TEXTS = ['', 'plain', 'tab\there', 'new\nline', 'cr\r\nlf', 'back\\slash', '\\N', '\\', 'NULL', 'null', ' lead and trail ', 'é 中 😀 👩‍👩‍👧', '\u0001\u0008\u000b\u000c\u007f', '\ufeffBOM', 'line\u2028sep', "O'Brien \"quoted\"", 'a,b{c}d', 'x'.repeat(100_000)];
const randomTexts = Array.from({ length: 100 }, randomText);

/** Days and microseconds into the day as a timestamp expression PostgreSQL computes itself. */
function timestampExpression(type: string, days: number, micros: number): string {
  const epoch = type === 'timestamptz' ? "'1970-01-01 00:00:00+00'::timestamptz" : "'1970-01-01 00:00:00'::timestamp";
  return `${epoch} + '${days} days'::interval + '${micros} microseconds'::interval`;
}

const randomTimestamps = (type: string): string[] =>
  Array.from({ length: 200 }, () => timestampExpression(type, MIN_DAYS + Math.floor(random() * (TIMESTAMP_END_DAYS - MIN_DAYS)), Math.floor(random() * 86_400_000_000)));

// Microseconds since 1970 as PostgreSQL computes them (extract(epoch ...) alone rounds at the far end).
const EPOCH_MICROS =
  "CASE WHEN isfinite(v) THEN trunc((v::date - date '1970-01-01')::numeric * 86400000000 + extract(epoch from (v - date_trunc('day', v))) * 1000000)::text ELSE v::text END";

const expectTimestamp = (value: unknown, fact: string) => {
  assert.ok(value instanceof PgTimestamp);
  if (fact === 'infinity' || fact === '-infinity') assert.equal(value, fact === 'infinity' ? PgTimestamp.INFINITY : PgTimestamp.NEG_INFINITY);
  else assert.equal(value.micros, BigInt(fact));
};

const TIMESTAMPS = [
  "'2024-01-02 03:04:05.123456'",
  "'1970-01-01 00:00:00'",
  "'1970-01-01 00:00:00.000001'",
  "'1969-12-31 23:59:59.999999'",
  "'2000-02-29 12:00:00'",
  "'0001-01-01 00:00:00'",
  "'0001-12-31 23:59:59.999999 BC'",
  "'0044-03-15 10:00:00.5 BC'",
  "'4714-11-24 00:00:00 BC'",
  "'294276-12-31 23:59:59.999999'",
  "'12345-06-07 08:09:10.01'",
  "'infinity'",
  "'-infinity'",
];

// One node of a JSON document as PostgreSQL sees it: path, jsonb_typeof, and the text of a scalar
// or the size of a container.
type JsonNode = [string[], string, string | null];

function expectJson(value: unknown, fact: string): void {
  for (const [path, type, text] of JSON.parse(fact) as JsonNode[]) {
    let node: unknown = value;
    for (const key of path) node = (node as Record<string, unknown>)[Array.isArray(node) ? Number(key) : key];
    const where = `${JSON.stringify(path)} in ${fact.slice(0, 200)}`;
    switch (type) {
      case 'object':
        assert.ok(node !== null && typeof node === 'object' && !Array.isArray(node), where);
        assert.equal(Object.keys(node as object).length, Number(text), where);
        break;
      case 'array':
        assert.ok(Array.isArray(node), where);
        assert.equal((node as unknown[]).length, Number(text), where);
        break;
      case 'string':
        assert.equal(node, text, where);
        break;
      case 'boolean':
        assert.equal(node, text === 'true', where);
        break;
      case 'null':
        assert.equal(node, path.length === 0 ? JSON_NULL : null, where);
        break;
      case 'number': {
        // PostgreSQL's numeric text of it: a number only when its own text means the same (value and scale).
        const exact = new Numeric(text!).toString();
        if (typeof node === 'number') {
          assert.equal(new Numeric(String(node)).toString(), exact, where);
        } else if (typeof node === 'bigint') {
          assert.equal(node, BigInt(text!), where);
          assert.ok(!Number.isSafeInteger(Number(node)), `${where}: a safe integer came as a bigint`);
        } else {
          assert.ok(node instanceof Numeric, where);
          assert.equal(node.toString(), exact, where);
          const asNumber = Number(text);
          assert.ok(!Number.isFinite(asNumber) || new Numeric(String(asNumber)).toString() !== exact, `${where}: ${text} fits a number exactly but came as a Numeric`);
        }
        break;
      }
      default:
        assert.fail(`unexpected jsonb_typeof ${type}`);
    }
  }
}

const JSON_DOCUMENTS = [
  '{"big": 18446744073709551616, "neg": -9223372036854775809, "dec": 0.1000000000000000055511151231257827, "s": "tab\\t quote\\" back\\\\ é 😀 \\u0001", "n": [null, 1.5, true, false, -0, 1e400, 1.0, 12.50], "nested": {"a": {"b": [], "c": {}}}, "safe": 9007199254740991, "unsafe": 9007199254740993}',
  'null',
  '"just a string"',
  '[]',
  '{}',
  '1.0',
  '12345678901234567890',
  '-1.5e-10',
  '[1e-400, 0.1, 100, 1e21, 123456789.123456789, 0.0000001, 12.50, 1.5e2, 1E+2, 0.10]',
  '{"\\u00e9\\n": {"deep": [[[[[1]]]]]}, "": ""}',
];

/** Per array type: what each element (not null) looks like as PostgreSQL's `element::text` (after `normalize`). */
function expectArray(elementText: (element: unknown) => string, normalize: (text: string) => string = (text) => text) {
  return (value: unknown, fact: string) => {
    const [dims, elements] = fact.split('|');
    const lengths = dims === '' ? [] : [...dims!.matchAll(/\[(-?\d+):(-?\d+)\]/g)].map((m) => Number(m[2]) - Number(m[1]) + 1);
    let level: unknown = value;
    for (const length of lengths) {
      assert.ok(Array.isArray(level));
      assert.equal(level.length, length);
      level = level[0];
    }
    // As many levels as the array has dimensions: a jsonb element may be a JSON array itself.
    const flat = (value as unknown[]).flat(Math.max(0, lengths.length - 1));
    assert.deepEqual(
      flat.map((e) => (e === null ? null : elementText(e))),
      (JSON.parse(elements ?? '[]') as (string | null)[]).map((e) => (e === null ? null : normalize(e))),
    );
  };
}

const ARRAY_FACT = "coalesce(array_dims(v), '') || '|' || coalesce((SELECT json_agg(e::text ORDER BY o) FROM unnest(v) WITH ORDINALITY u(e, o))::text, '[]')";

const CASES: readonly TypeCase[] = [
  {
    type: 'bool',
    values: ['true', 'false'],
    fact: 'v::text',
    expect: (value, fact) => assert.equal(value, fact === 'true'),
  },
  {
    type: 'int2',
    values: ['-32768', '32767', '0', '-1'],
    fact: 'v::text',
    expect: (value, fact) => assert.equal(value, Number(fact)),
  },
  {
    type: 'integer',
    values: ['-2147483648', '2147483647', '0', '42'],
    fact: 'v::text',
    expect: (value, fact) => assert.equal(value, Number(fact)),
  },
  {
    type: 'int8',
    values: ['-9223372036854775808', '9223372036854775807', '0', '9007199254740993', '-9007199254740993', '123456789012345', '1000000000000000'],
    fact: 'v::text',
    expect: (value, fact) => assert.equal(value, BigInt(fact)),
  },
  {
    type: 'float8',
    values: ["'-0'", "'NaN'", "'Infinity'", "'-Infinity'", "'5e-324'", "'1.7976931348623157e308'", "'2.2250738585072014e-308'", "'0.1'", "'0.30000000000000004'", "'1e15'", "'1e21'", "'1e-7'", ...randomFloat8s.map((n) => `'${numberText(n)}'`)],
    fact: "encode(float8send(v), 'hex')",
    expect: expectFloat(8),
    sameText: false,
  },
  {
    type: 'real',
    values: ["'-0'", "'NaN'", "'Infinity'", "'-Infinity'", "'1.0000001'", "'3.4028235e38'", "'1e-45'", "'1.17549435e-38'", "'0.1'", "'16777217'", "'1.0000000596046448'", ...randomFloat4s.map((n) => `'${numberText(n)}'`)],
    fact: "encode(float4send(v), 'hex')",
    expect: expectFloat(4),
    sameText: false,
  },
  {
    type: 'numeric',
    values: ["'0'", "'12.50'", "'-12.50'", "'0.000000000000000000001'", "'NaN'", "'Infinity'", "'-Infinity'", "'-0.005'", "'0.005'", "'2.5'", "'-2.5'", "'0.125'", "'995'", "'-995'", "'1e-16383'", `'${'9'.repeat(1000)}.${'1'.repeat(1000)}'`, `'${randomDigits(20_000)}'`, "'123456789012345678901234567890.123456789'", ...randomNumerics.map(literal)],
    // Its text, and round(v, 2) and round(v, -1) as PostgreSQL rounds them.
    fact: "v::text || '|' || CASE WHEN v IN ('NaN', 'Infinity', '-Infinity') THEN '' ELSE trunc(round(v, 2) * 100)::text || '|' || trunc(round(v, -1) / 10)::text END",
    expect: (value, fact) => {
      const [text, cents, tens] = fact.split('|');
      assert.ok(value instanceof Numeric);
      assert.equal(value.toString(), text);
      if (value.isFinite) {
        assert.equal(value.toScaledBigInt(2), BigInt(cents!));
        assert.equal(value.toScaledBigInt(-1), BigInt(tens!));
      }
    },
  },
  {
    type: 'numeric(12,2)',
    values: ["'1234567890.12'", "'-0.01'", "'0.00'", "'NaN'", "'9999999999.99'", "'-9999999999.99'"],
    fact: 'v::text',
    expect: (value, fact) => assert.equal(String(value), fact),
  },
  ...['text', 'varchar', 'citext'].map(
    (type): TypeCase => ({
      type,
      values: [...TRICKY_TEXTS, ...randomTexts].map(literal),
      // The UTF-8 bytes and the length in characters.
      fact: "encode(convert_to(v::text, 'UTF8'), 'hex') || '|' || length(v::text)",
      expect: (value, fact) => {
        assert.equal(typeof value, 'string');
        assert.equal(`${Buffer.from(value as string, 'utf8').toString('hex')}|${[...(value as string)].length}`, fact);
      },
    }),
  ),
  {
    type: 'char(5)',
    values: ["'ab'", "'abcde'", "'é😀'", "''"],
    fact: "encode(convert_to(v::text, 'UTF8'), 'hex') || '|' || octet_length(v)",
    expect: (value, fact) => {
      const [hex, octets] = fact.split('|');
      assert.equal(Buffer.from((value as string).trimEnd()).toString('hex'), hex, 'the text, trailing blanks aside');
      assert.equal(Buffer.byteLength(value as string), Number(octets), 'with its blank padding');
    },
  },
  {
    type: 'name',
    values: ["'plain'", "'with space'", `'${'n'.repeat(63)}'`, "'é'"],
    fact: 'v::text',
    expect: (value, fact) => assert.equal(value, fact),
  },
  {
    type: 'uuid',
    values: ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12'", "'{a0eebc999c0b4ef8bb6d6bb9bd380a13}'", "'00000000-0000-0000-0000-000000000000'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'"],
    fact: "replace(v::text, '-', '')",
    expect: (value, fact) => assert.equal((value as string).replaceAll('-', ''), fact),
  },
  {
    type: 'bytea',
    values: [`'\\x${Buffer.from(Array.from({ length: 256 }, (_, b) => b)).toString('hex')}'`, "''", "'\\x00'", "'\\x5c'", ...Array.from({ length: 50 }, () => `'\\x${Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256))).toString('hex')}'`), "decode(repeat('ab', 100000), 'hex')"],
    fact: "encode(v, 'hex')",
    expect: (value, fact) => {
      assert.ok(Buffer.isBuffer(value));
      assert.equal(value.toString('hex'), fact);
    },
  },
  ...['json', 'jsonb'].map(
    (type): TypeCase => ({
      type,
      values: JSON_DOCUMENTS.map(literal),
      fact: 'json_leaves(v::jsonb)',
      expect: expectJson,
      sameText: false,
      compareAs: 'jsonb',
    }),
  ),
  {
    type: 'date',
    values: ["'2024-02-29'", "'1970-01-01'", "'1969-12-31'", "'0001-01-01'", "'0001-12-31 BC'", "'0044-03-15 BC'", "'4714-11-24 BC'", "'5874897-12-31'", "'1900-03-01'", "'infinity'", "'-infinity'", ...Array.from({ length: 100 }, () => `date '1970-01-01' + ${MIN_DAYS + Math.floor(random() * (DATE_END_DAYS - MIN_DAYS))}`)],
    // Days since 1970, and year (BC negative), month, day as PostgreSQL counts them.
    fact: "CASE WHEN isfinite(v) THEN (v - date '1970-01-01')::text || '|' || extract(year from v) || '|' || extract(month from v) || '|' || extract(day from v) ELSE v::text END",
    expect: (value, fact) => {
      assert.ok(value instanceof PgDate);
      if (!value.isFinite) return assert.equal(value.toString(), fact);
      const [days, year, month, day] = fact.split('|').map(Number);
      assert.deepEqual([value.days, value.year, value.month, value.day], [days, year! < 0 ? year! + 1 : year, month, day]);
    },
  },
  {
    type: 'timestamp',
    values: [...TIMESTAMPS, ...randomTimestamps('timestamp')],
    fact: EPOCH_MICROS,
    expect: expectTimestamp,
  },
  {
    type: 'timestamptz',
    values: [
      ...TIMESTAMPS.map((t) => (t.includes(':') ? t.replace(/( BC)?'$/, "+00$1'") : t)),
      "'2024-01-02 08:34:05.123456+05:30'",
      "'2024-01-01 23:33:50-03:30:15'",
      "'1901-12-13 20:45:52+00'",
      ...randomTimestamps('timestamptz'),
    ],
    fact: EPOCH_MICROS,
    expect: expectTimestamp,
  },
  {
    type: 'timestamp(3) with time zone',
    values: ["'2024-01-02 03:04:05.1234+00'", "'2024-01-02 03:04:05.9999+00'"],
    fact: EPOCH_MICROS,
    expect: expectTimestamp,
  },
  {
    type: 'text[]',
    values: [
      `ARRAY[${[...TRICKY_TEXTS.slice(0, -1), ...randomTexts.slice(0, 20)].map(literal).join(', ')}, NULL]`,
      "'{}'::text[]",
      "'{{a,NULL},{\"\",\"NULL\"}}'::text[]",
      "'{NULL}'::text[]",
    ],
    fact: ARRAY_FACT,
    expect: expectArray((e) => e as string),
  },
  {
    type: 'int8[]',
    values: ["'{{1,NULL},{9223372036854775807,-9223372036854775808}}'", "'{}'", "'{{{1,2}},{{3,4}}}'"],
    fact: ARRAY_FACT,
    expect: expectArray(String),
  },
  {
    type: 'numeric[][]',
    values: ["'{{1.50,NaN},{-Infinity,0.000000000000000000001}}'"],
    fact: ARRAY_FACT,
    expect: expectArray(String),
  },
  {
    type: 'float8[]',
    values: ["'{-0,NaN,Infinity,0.1,1e300}'"],
    fact: ARRAY_FACT,
    expect: expectArray((e) => (Number.isNaN(e) ? 'NaN' : (e as number) === 1e300 ? '1e+300' : numberText(e as number))),
    sameText: false,
  },
  {
    type: 'bool[]',
    values: ["'{t,f,NULL}'"],
    fact: ARRAY_FACT,
    expect: expectArray((e) => String(e)),
  },
  {
    type: 'bytea[]',
    values: ["ARRAY['\\x00ff'::bytea, '', NULL, '\\x5c22']"],
    fact: ARRAY_FACT,
    expect: expectArray((e) => `\\x${(e as Buffer).toString('hex')}`),
  },
  {
    type: 'jsonb[]',
    values: [`ARRAY[${JSON_DOCUMENTS.slice(1, 6).map((d) => `${literal(d)}::jsonb`).join(', ')}, NULL]`],
    fact: ARRAY_FACT,
    // Compact JSON on both sides (Numeric's toJSON keeps 1.0 as 1.0).
    expect: expectArray(JSON.stringify, (text) => JSON.stringify(parseJson(text))),
    sameText: false,
  },
  {
    type: 'date[]',
    values: ["ARRAY['2024-01-02', '0044-03-15 BC', 'infinity', NULL]::date[]"],
    fact: ARRAY_FACT,
    expect: expectArray(String),
  },
  {
    type: 'timestamptz[]',
    values: ["ARRAY['2024-01-02 03:04:05.123456+00', '0044-03-15 10:00:00+00 BC', '-infinity', NULL]::timestamptz[]"],
    fact: ARRAY_FACT,
    expect: expectArray(String),
  },
  {
    type: 'uuid[]',
    values: ["'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}'"],
    fact: ARRAY_FACT,
    expect: expectArray((e) => e as string),
  },
  {
    type: 'mood[]',
    values: ["'{happy,\"very sad\",NULL}'"],
    fact: ARRAY_FACT,
    expect: expectArray((e) => e as string),
  },
  ...(
    [
      ['interval', ["'1 day 02:03:04'", "'-1 years -2 mons'", "'00:00:00.000001'"]],
      ['time', ["'24:00:00'", "'12:34:56.789'"]],
      ['timetz', ["'12:34:56+05:30'"]],
      ['inet', ["'10.0.0.1/8'", "'::1'"]],
      ['cidr', ["'10.0.0.0/8'"]],
      ['macaddr', ["'08:00:2b:01:02:03'"]],
      ['mood', ["'happy'", "'very sad'"]],
      ['int4range', ["'[1,5)'", "'empty'"]],
      ['point', ["'(1.5,-2)'"]],
      ['bit(3)', ["B'101'"]],
      ['"My Type"', ["'x\ty'"]],
    ] as const
  ).map(
    ([type, values]): TypeCase => ({
      type,
      values,
      // The type's output function (v::text is not always it: inet's adds the mask).
      fact: "format('%s', v)",
      expect: (value, fact) => assert.equal(value, fact),
      compareAs: type === 'point' ? 'text' : 'value',
    }),
  ),
];

/** COPY (query) TO STDOUT, as one Buffer. */
async function copyOut(client: pg.Client, sql: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const stream = client.query(copyStreams.to(`COPY (${sql}) TO STDOUT`));
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function copyIn(client: pg.Client, table: string, columns: string, text: Buffer): Promise<void> {
  await pipeline(Readable.from([text]), client.query(copyStreams.from(`COPY ${table} (${columns}) FROM STDIN`)));
}

/** Each line's two fields (id, value) as byte ranges of `text`. */
function splitRows(text: Buffer): { id: number; start: number; end: number }[] {
  const rows: { id: number; start: number; end: number }[] = [];
  for (let at = 0; at < text.length; ) {
    const tab = text.indexOf(0x09, at);
    const newline = text.indexOf(0x0a, tab);
    rows.push({ id: Number(text.toString('latin1', at, tab)), start: tab + 1, end: newline });
    at = newline + 1;
  }
  return rows;
}

describe('value codecs against PostgreSQL', () => {
  let db: TestDatabase;
  let client: pg.Client;
  before(async () => {
    db = await createTestDatabase();
    client = new pg.Client(db.url);
    await client.connect();
    await client.query(sessionSettingsSql());
    await client.query(`
      CREATE EXTENSION citext;
      CREATE TYPE mood AS ENUM ('happy', 'very sad');
      CREATE DOMAIN "My Type" AS text;
      CREATE FUNCTION json_leaves(doc jsonb) RETURNS text LANGUAGE sql STRICT AS $$
        WITH RECURSIVE walk(path, value) AS (
          SELECT ARRAY[]::text[], doc
          UNION ALL
          SELECT w.path || c.key, c.value FROM walk w CROSS JOIN LATERAL (
            SELECT key, value FROM jsonb_each(CASE WHEN jsonb_typeof(w.value) = 'object' THEN w.value END)
            UNION ALL
            SELECT (e.ordinality - 1)::text, e.value FROM jsonb_array_elements(CASE WHEN jsonb_typeof(w.value) = 'array' THEN w.value END) WITH ORDINALITY AS e(value, ordinality)
          ) c
        )
        SELECT json_agg(json_build_array(path, jsonb_typeof(value), CASE jsonb_typeof(value)
          WHEN 'object' THEN (SELECT count(*) FROM jsonb_object_keys(value))::text
          WHEN 'array' THEN jsonb_array_length(value)::text
          ELSE value #>> '{}' END) ORDER BY path)::text
        FROM walk
      $$;
    `);
  });
  after(async () => {
    await client?.end();
    await db?.drop();
  });

  CASES.forEach((c, n) => {
    test(`${c.type}: ${c.values.length} values out, checked against PostgreSQL's facts and to_jsonb, and back in identical`, async () => {
      const src = `src_${n}`;
      const dst = `dst_${n}`;
      const type = normalizePgType(c.type).canonical;
      await client.query(`CREATE TABLE ${src} (id int PRIMARY KEY, v ${c.type}); CREATE TABLE ${dst} (id int PRIMARY KEY, v ${c.type})`);
      const rows = [...c.values, 'NULL'].map((expression, i) => `(${i + 1}, ${expression})`);
      await client.query(`INSERT INTO ${src} (id, v) VALUES ${rows.join(', ')}`);

      // Out: decode each value and check it against what PostgreSQL says about it.
      const facts = new Map<number, string | null>(
        (await client.query<{ id: number; fact: string | null }>(`SELECT id, CASE WHEN v IS NULL THEN NULL ELSE (${c.fact}) END AS fact FROM ${src}`)).rows.map((r) => [r.id, r.fact]),
      );
      const text = await copyOut(client, `SELECT id, v FROM ${src} ORDER BY id`);
      const decode = decoderFor(c.type);
      const fields = splitRows(text);
      assert.equal(fields.length, c.values.length + 1);
      const values = fields.map(({ id, start, end }) => {
        const value = decode(text, start, end);
        const fact = facts.get(id);
        if (fact === null) assert.equal(value, null, `row ${id} is NULL`);
        else c.expect(value, fact!);
        return value;
      });

      // The reject JSON of each field is what to_jsonb makes of the value.
      const rejects = new CopyTextWriter();
      fields.forEach(({ id, start, end }) => {
        rejects.asciiField(String(id));
        rejects.textField(jsonForReject(c.type, text, start, end));
        rejects.endLine();
      });
      await client.query(`CREATE TEMP TABLE rejects_${n} (id int, j text)`);
      await copyIn(client, `rejects_${n}`, 'id, j', rejects.take());
      const badJson = await client.query(`SELECT s.id, r.j, to_jsonb(s.v) AS pg FROM ${src} s JOIN rejects_${n} r USING (id) WHERE r.j::jsonb IS DISTINCT FROM coalesce(to_jsonb(s.v), 'null')`);
      assert.deepEqual(badJson.rows, [], 'jsonForReject differs from to_jsonb');

      // Back in: encode every value, COPY it into the second table, and compare row by row.
      const out = new CopyTextWriter();
      const encodeId = encoderFor('int4');
      const encode = encoderFor(c.type);
      fields.forEach(({ id }, i) => {
        assert.equal(encodeId(id, out), null);
        assert.equal(encode(values[i], out), null, `row ${id} refused`);
        out.endLine();
      });
      const encoded = out.take();
      if (c.sameText !== false) assert.equal(encoded.toString('utf8'), text.toString('utf8'), `${type}: re-encoded COPY text is what PostgreSQL sent`);
      await copyIn(client, dst, 'id, v', encoded);
      const same = {
        value: 's.v IS NOT DISTINCT FROM d.v AND s.v::text IS NOT DISTINCT FROM d.v::text',
        jsonb: 's.v::jsonb IS NOT DISTINCT FROM d.v::jsonb AND s.v::jsonb::text IS NOT DISTINCT FROM d.v::jsonb::text',
        text: 's.v::text IS NOT DISTINCT FROM d.v::text',
      }[c.compareAs ?? 'value'];
      const differ = await client.query(`SELECT s.id, s.v::text AS original, d.v::text AS copied FROM ${src} s FULL JOIN ${dst} d USING (id) WHERE NOT (${same})`);
      assert.deepEqual(differ.rows, [], 'values that did not survive decode + encode');
      const counted = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${dst}`);
      assert.equal(Number(counted.rows[0]!.n), c.values.length + 1);
    });
  });

  test('arrays with lower bounds decode, the bounds dropped', async () => {
    const ints = await copyOut(client, "SELECT 1, '[0:2]={1,2,3}'::int[]");
    const texts = await copyOut(client, "SELECT 2, '[2:3][-1:0]={{a,b},{c,NULL}}'::text[]");
    assert.equal(texts.toString(), '2\t[2:3][-1:0]={{a,b},{c,NULL}}\n');
    const [first] = splitRows(ints);
    const [second] = splitRows(texts);
    assert.deepEqual(decoderFor('int4[]')(ints, first!.start, first!.end), [1, 2, 3]);
    assert.deepEqual(decoderFor('text[]')(texts, second!.start, second!.end), [
      ['a', 'b'],
      ['c', null],
    ]);
  });

  test('normalizePgType gives the name format_type prints for the column', async () => {
    const declared = [
      'int8', 'bigint', 'int', 'int4', 'integer', 'int2', 'smallint', 'bool', 'float4', 'real', 'float8', 'double precision', 'float', 'float(24)', 'float(25)',
      'decimal', 'numeric(12,2)', 'decimal(12)', 'numeric(3,-1)', 'varchar', 'varchar(10)', 'character varying(40)', 'char', 'char(3)', 'character(5)', 'bpchar',
      'text', 'name', 'citext', 'uuid', 'bytea', 'json', 'jsonb', 'date', 'timestamp', 'timestamp(3)', 'timestamptz', 'timestamptz(3)',
      'timestamp(0) with time zone', 'timestamp without time zone', 'time', 'timetz', 'time(2) with time zone', 'interval', 'bit', 'bit(3)', 'varbit(5)',
      'text[]', 'int8[]', 'numeric[][]', 'integer[3]', 'integer ARRAY', 'varchar(5)[]', 'timestamptz(6)[]', 'mood', 'mood[]', '"My Type"', 'pg_catalog.int4', 'inet',
    ];
    await client.query(`CREATE TABLE declared (${declared.map((d, i) => `c${i} ${d}`).join(', ')})`);
    const printed = await client.query<{ attnum: number; type: string }>(
      "SELECT attnum, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = 'declared'::regclass AND attnum > 0 ORDER BY attnum",
    );
    assert.deepEqual(
      declared.map((d) => normalizePgType(d).canonical),
      printed.rows.map((r) => r.type),
    );
  });
});
