import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyFormatError } from '../../../../lambdas/shared/errors.ts';
import { CopyTextWriter, encodeField } from '../../../../lambdas/transform/copy-text.ts';
import { decoderFor, encoderFor, jsonForReject } from '../../../../lambdas/transform/values/codecs.ts';
import { JSON_NULL } from '../../../../lambdas/transform/values/json-value.ts';
import { Numeric } from '../../../../lambdas/transform/values/numeric.ts';
import { PgDate } from '../../../../lambdas/transform/values/pg-date.ts';
import { PgTimestamp } from '../../../../lambdas/transform/values/pg-timestamp.ts';

/** The COPY field of PostgreSQL text `text` (null: NULL), between other fields as the plumbing sees it. */
function fieldOf(text: string | null): [Buffer, number, number] {
  const field = encodeField(text);
  return [Buffer.concat([Buffer.from('x\t'), field, Buffer.from('\ty\n')]), 2, 2 + field.length];
}

/** The JS value of PostgreSQL text `text` (null: NULL) in a column of `type`. */
function decode(type: string, text: string | null): unknown {
  return decoderFor(type)(...fieldOf(text));
}

/** The PostgreSQL text (COPY escapes undone) `value` is written as; fails if it is refused. */
function encode(type: string, value: unknown): string | null {
  const out = new CopyTextWriter(16);
  const reason = encoderFor(type)(value, out);
  assert.equal(reason, null, `${type} refused ${String(value)}: ${reason}`);
  const field = out.take();
  return field.equals(Buffer.from('\\N')) ? null : decodeCopy(field);
}

function decodeCopy(field: Buffer): string {
  return decoderFor('text')(field, 0, field.length) as string;
}

/** The reason `value` is refused; checks nothing was written and the next field still gets its tab. */
function refused(type: string, value: unknown): string {
  const out = new CopyTextWriter(16);
  out.textField('before');
  const pos = out.pos;
  const reason = encoderFor(type)(value, out);
  assert.equal(typeof reason, 'string', `${type} took ${String(value)}`);
  assert.equal(out.pos, pos, 'a refused value writes nothing');
  out.textField('after');
  assert.equal(out.take().toString(), 'before\tafter');
  return reason!;
}

/** Decodes each PostgreSQL text and encodes the value back to the very same text. */
function roundTrips(type: string, texts: readonly string[]): void {
  for (const text of texts) assert.equal(encode(type, decode(type, text)), text, `${type} ${JSON.stringify(text)}`);
}

describe('decoderFor / encoderFor', () => {
  it('read \\N as null and write null and undefined as \\N, for every kind of type', () => {
    for (const type of ['bool', 'int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'numeric(5,2)', 'text', 'varchar(3)', 'uuid', 'bytea', 'json', 'jsonb', 'date', 'timestamp', 'timestamptz', 'text[]', 'int8[]', 'interval', 'mood']) {
      assert.equal(decode(type, null), null, type);
      assert.equal(encode(type, null), null, type);
      assert.equal(encode(type, undefined), null, type);
    }
  });

  it('boolean: t and f', () => {
    assert.deepEqual([decode('bool', 't'), decode('boolean', 'f'), decode('bool', 'true'), decode('bool', 'FALSE')], [true, false, true, false]);
    assert.deepEqual([encode('bool', true), encode('bool', false)], ['t', 'f']);
    assert.equal(refused('bool', 1), 'expected a boolean, got number 1');
    assert.equal(refused('bool', 't'), 'expected a boolean, got string "t"');
  });

  it('smallint and integer: numbers over their whole range; a number beyond it is written for the target to refuse', () => {
    roundTrips('int2', ['-32768', '32767', '0', '-1']);
    roundTrips('int4', ['-2147483648', '2147483647', '0', '42']);
    assert.equal(decode('int4', '-2147483648'), -2147483648);
    assert.ok(Object.is(decode('int4', '-0'), 0));
    assert.equal(encode('int4', -0), '0');
    assert.equal(encode('int4', 7n), '7');
    assert.equal(encode('smallint', -32768n), '-32768');
    // Out of range is the target's to refuse inside COPY, with its own message: the row is set aside, not the chunk.
    assert.equal(encode('int2', 32768), '32768');
    assert.equal(encode('int4', 2147483648n), '2147483648');
    assert.match(refused('int4', 2 ** 53), /got number 9007199254740992$/);
    assert.match(refused('int4', 1.5), /got number 1.5$/);
    assert.match(refused('int4', '1'), /got string "1"$/);
    assert.match(refused('int4', NaN), /got number NaN$/);
    assert.throws(() => decode('int2', '32768'), CopyFormatError);
    assert.throws(() => decode('int4', '1.5'), CopyFormatError);
  });

  it('bigint: bigints over the whole int8 range, safe-integer numbers accepted', () => {
    roundTrips('int8', ['-9223372036854775808', '9223372036854775807', '0', '-1', '999999999999999', '1000000000000000', '9007199254740993']);
    assert.equal(decode('int8', '9223372036854775807'), 9223372036854775807n);
    assert.equal(decode('bigint', '123456789012345'), 123456789012345n);
    assert.equal(decode('int8', '-0'), 0n);
    assert.equal(encode('int8', 9007199254740991), '9007199254740991');
    assert.equal(encode('int8', -0), '0');
    assert.equal(refused('int8', '12a'), 'expected a bigint or a safe integer, got string "12a"');
    assert.equal(refused('int8', 2 ** 53), 'expected a bigint or a safe integer, got number 9007199254740992');
    assert.equal(encode('int8', 2n ** 63n), '9223372036854775808', 'out of range: the target refuses it with its own message');
    assert.throws(() => decode('int8', '9223372036854775808'), CopyFormatError);
    assert.throws(() => decode('int8', '12a'), /a field of type bigint holds "12a", which is not bigint text as PostgreSQL writes it/);
  });

  it('double precision: -0, NaN, infinities and the extremes exactly', () => {
    roundTrips('float8', ['-0', '0', 'NaN', 'Infinity', '-Infinity', '0.1', '1e+100', '5e-324', '1.7976931348623157e+308', '-2.2250738585072014e-308', '123456.78901234567', '1e+21', '1e-7']);
    assert.ok(Object.is(decode('float8', '-0'), -0));
    assert.ok(Number.isNaN(decode('float8', 'NaN')));
    assert.deepEqual([decode('float8', 'Infinity'), decode('float8', '-Infinity'), decode('float8', 'inf'), decode('float8', '-INF')], [Infinity, -Infinity, Infinity, -Infinity]);
    assert.equal(decode('float8', '0.30000000000000004'), 0.1 + 0.2);
    assert.equal(refused('float8', '1.5'), 'expected a number, got string "1.5"');
    assert.equal(refused('float8', 1n), 'expected a number, got bigint 1');
    for (const bad of ['0x10', '0b1', ' 1', '1 ', '', '1e400', 'abc', '1e', '.']) assert.throws(() => decode('float8', bad), CopyFormatError, bad);
  });

  it('real: the float32 PostgreSQL stores, written as its shortest text', () => {
    roundTrips('float4', ['-0', 'NaN', 'Infinity', '-Infinity', '1.0000001', '3.4028235e+38', '1e-45', '0.1', '16777216']);
    assert.equal(decode('float4', '1.0000001'), 1.0000001);
    assert.equal(encode('float4', 0.1), '0.1');
    assert.equal(encode('float4', Math.fround(0.1)), '0.1');
    assert.equal(encode('float4', 1 + 2 ** -24), '1', 'a double halfway between two floats goes to the even one, as Math.fround does');
    assert.equal(encode('float4', 16777217), '16777216');
    assert.equal(refused('float4', 1e39), "1e+39 is beyond real's range (±3.4e38)");
    assert.equal(refused('float4', 1e-50), '1e-50 is too small for a real (it would be 0)');
  });

  it('numeric: exact Numeric values with their scale, NaN and infinities', () => {
    const texts = ['0', '12.50', '-12.50', '0.000000000000000000001', 'NaN', 'Infinity', '-Infinity', `${'9'.repeat(1000)}.${'1'.repeat(1000)}`];
    roundTrips('numeric', texts);
    const value = decode('numeric', '12.50');
    assert.ok(value instanceof Numeric);
    assert.equal(String(value), '12.50');
    assert.equal(String(decode('numeric', '-0.0000')), '0.0000');
    assert.equal(encode('decimal', '1.5e3'), '1500');
    assert.equal(encode('numeric', 2n ** 70n), '1180591620717411303424');
    assert.equal(encode('numeric', 0.1), '0.1');
    assert.equal(encode('numeric', 1e21), '1000000000000000000000');
    assert.match(refused('numeric', '12,50'), /Numeric: "12,50" is not a decimal number/);
    assert.equal(refused('numeric', NaN), 'expected a Numeric, a decimal string, a bigint or a finite number, got number NaN');
    assert.equal(refused('numeric', true), 'expected a Numeric, a decimal string, a bigint or a finite number, got boolean true');
  });

  it('numeric(p,s): written as given; what would overflow once rounded is the target\'s to refuse ("numeric field overflow")', () => {
    assert.equal(encode('numeric(5,2)', '999.994'), '999.994');
    assert.equal(encode('numeric(5,2)', '-999.994'), '-999.994');
    assert.equal(encode('numeric(5,2)', 'NaN'), 'NaN');
    assert.equal(encode('numeric(5,2)', '999.995'), '999.995');
    assert.equal(encode('numeric(5,2)', new Numeric('Infinity')), 'Infinity');
    assert.equal(encode('numeric(12,2)', 1234567890.12), '1234567890.12');
    assert.match(refused('numeric(5,2)', 'abc'), /abc/);
  });

  it('text: every character, COPY escapes both ways, the text \\N apart from NULL', () => {
    const texts = ['', 'plain', 'tab\there', 'new\nline', 'cr\rlf\n', 'back\\slash', '\\N', '\\', 'é 中 😀 👩‍👩‍👧', '\u0001\u0008\u000b\u000c\u007f', ' lead and trail ', 'x'.repeat(100_000)];
    for (const type of ['text', 'varchar', 'bpchar', 'citext', 'name']) {
      for (const text of texts) {
        if (type === 'name' && Buffer.byteLength(text) > 63) continue;
        assert.equal(decode(type, text), text);
        assert.equal(encode(type, text), text);
      }
    }
    const field = Buffer.from('a\\tb\\\\c\\nd\\x41\\101');
    assert.equal(decoderFor('text')(field, 0, field.length), 'a\tb\\c\ndAA');
    assert.equal(refused('text', 'a\u0000b'), 'PostgreSQL text cannot hold U+0000, as string "a\\u0000b" has');
    assert.equal(refused('text', 'x\ud800'), 'string "x\\ud800" has a lone surrogate, which UTF-8 cannot encode');
    assert.equal(refused('text', 5), 'expected a string, got number 5');
    assert.match(refused('name', 'n'.repeat(64)), /longer than a name's 63 bytes/);
  });

  it('varchar(n) and char(n): written as given; a longer value is the target\'s to refuse, with its own message', () => {
    assert.equal(encode('varchar(3)', 'abc'), 'abc');
    assert.equal(encode('varchar(3)', 'abc   '), 'abc   ');
    assert.equal(encode('varchar(3)', '😀😀😀'), '😀😀😀');
    assert.equal(encode('varchar(3)', 'abcd'), 'abcd');
    assert.equal(encode('char(2)', 'abc'), 'abc');
    assert.equal(decode('char(5)', 'ab   '), 'ab   ');
    assert.equal(refused('varchar(3)', 7), 'expected a string, got number 7');
  });

  it('uuid: validated text in any case', () => {
    roundTrips('uuid', ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '00000000-0000-0000-0000-000000000000']);
    assert.equal(encode('uuid', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'), 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11');
    for (const bad of ['a0eebc999c0b4ef8bb6d6bb9bd380a11', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g', 'a0eebc99-9c0b-4ef8-bb6d_6bb9bd380a11', '']) {
      assert.equal(refused('uuid', bad), `expected a uuid string (8-4-4-4-12 hex digits), got string ${JSON.stringify(bad)}`);
      assert.throws(() => decode('uuid', bad), CopyFormatError);
    }
  });

  it('bytea: every byte value both ways, hex and escape input', () => {
    const every = Buffer.from(Array.from({ length: 256 }, (_, b) => b));
    const hex = `\\x${every.toString('hex')}`;
    assert.deepEqual(decode('bytea', hex), every);
    assert.equal(encode('bytea', every), hex);
    assert.equal(encode('bytea', new Uint8Array(every)), hex);
    assert.equal(encode('bytea', new Uint8Array(every.buffer, every.byteOffset + 250, 3)), '\\xfafbfc');
    assert.deepEqual(decode('bytea', '\\x'), Buffer.alloc(0));
    assert.deepEqual(decode('bytea', '\\xDEADbeef'), Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    const big = Buffer.alloc(100_000, 0xa5);
    assert.equal(encode('bytea', big), `\\x${big.toString('hex')}`);
    // bytea_output = escape
    assert.deepEqual(decode('bytea', 'a\\000\\\\\\377z'), Buffer.from([0x61, 0, 0x5c, 0xff, 0x7a]));
    assert.equal(refused('bytea', 'abc'), 'expected a Buffer or Uint8Array, got string "abc"');
    assert.equal(refused('bytea', [1, 2]), 'expected a Buffer or Uint8Array, got array of 2');
    for (const bad of ['\\x0', '\\xzz', '\\400']) assert.throws(() => decode('bytea', bad), CopyFormatError, bad);
  });

  it('json and jsonb: parsed, numbers exact, a top-level null as JSON_NULL, COPY escapes undone', () => {
    const text = '{"big": 18446744073709551616, "exact": 0.1000000000000000055511151231257827, "s": "tab\\t quote\\" back\\\\ é", "n": [null, 1.5, true]}';
    for (const type of ['json', 'jsonb']) {
      const value = decode(type, text) as Record<string, unknown>;
      assert.equal(value.big, 18446744073709551616n);
      assert.equal(String(value.exact), '0.1000000000000000055511151231257827');
      assert.equal(value.s, 'tab\t quote" back\\ é');
      assert.deepEqual(value.n, [null, 1.5, true]);
      assert.equal(encode(type, value), '{"big":18446744073709551616,"exact":0.1000000000000000055511151231257827,"s":"tab\\t quote\\" back\\\\ é","n":[null,1.5,true]}');
      assert.equal(decode(type, 'null'), JSON_NULL);
      assert.equal(encode(type, JSON_NULL), 'null');
      assert.equal(decode(type, '"just a string"'), 'just a string');
      assert.equal(encode(type, 'just a string'), '"just a string"');
      assert.equal(encode(type, 42n), '42');
      assert.match(refused(type, { x: NaN }), /"x": NaN is not a JSON number/);
      assert.throws(() => decode(type, '{oops}'), CopyFormatError);
    }
    assert.equal(encode('json', 'nul\u0000'), '"nul\\u0000"');
    assert.match(refused('jsonb', 'nul\u0000'), /jsonb cannot hold U\+0000/);
  });

  it('date: PgDate over the whole range, from Date and YYYY-MM-DD strings', () => {
    roundTrips('date', ['2024-02-29', '1970-01-01', '0001-01-01', '0001-12-31 BC', '4714-11-24 BC', '5874897-12-31', 'infinity', '-infinity']);
    const value = decode('date', '0044-03-15 BC');
    assert.ok(value instanceof PgDate);
    assert.equal((value as PgDate).year, -43);
    assert.equal(decode('date', 'infinity'), PgDate.INFINITY);
    assert.equal(encode('date', new Date('2024-05-06T23:30:00Z')), '2024-05-06');
    assert.equal(encode('date', '2024-05-06'), '2024-05-06');
    assert.equal(encode('date', '-000043-03-15'), '0044-03-15 BC');
    assert.equal(refused('date', '2024-02-30'), "expected a PgDate, a Date or a 'YYYY-MM-DD' string, got string \"2024-02-30\"");
    assert.match(refused('date', new Date(-8.64e15)), /^Date -271821-04-20T00:00:00.000Z: PgDate: .* is not a date PostgreSQL holds/);
    assert.match(refused('date', PgTimestamp.fromMicros(0n)), /expected a PgDate, a Date or a 'YYYY-MM-DD' string, got PgTimestamp/);
    assert.throws(() => decode('date', '4714-11-23 BC'), CopyFormatError);
  });

  it('timestamp and timestamptz: exact microseconds, BC, year 294276, infinity, any UTC offset read', () => {
    const texts = ['2024-01-02 03:04:05.123456', '1970-01-01 00:00:00', '1969-12-31 23:59:59.999999', '0044-03-15 10:00:00.5 BC', '4714-11-24 00:00:00 BC', '294276-12-31 23:59:59.999999', '12345-06-07 08:09:10.01', 'infinity', '-infinity'];
    roundTrips('timestamp', texts);
    roundTrips('timestamptz', texts.map((t) => (t.endsWith(' BC') ? t.replace(' BC', '+00 BC') : t.includes(':') ? `${t}+00` : t)));
    roundTrips('timestamp(3) with time zone', ['2024-01-02 03:04:05.123+00']);
    const value = decode('timestamptz', '2024-01-02 08:34:05.123456+05:30');
    assert.ok(value instanceof PgTimestamp);
    assert.equal((value as PgTimestamp).micros, 1704164645123456n);
    assert.equal((decode('timestamptz', '2024-01-01 23:33:50-03:30:15') as PgTimestamp).micros, 1704164645000000n);
    assert.equal(encode('timestamptz', value), '2024-01-02 03:04:05.123456+00');
    assert.equal(encode('timestamp', value), '2024-01-02 03:04:05.123456');
    assert.equal(encode('timestamptz', new Date('2024-01-02T03:04:05.678Z')), '2024-01-02 03:04:05.678+00');
    assert.equal(encode('timestamptz', '2024-01-02T08:34:05+05:30'), '2024-01-02 03:04:05+00');
    assert.equal(encode('timestamp', '2024-01-02T03:04:05.000001Z'), '2024-01-02 03:04:05.000001');
    assert.equal(encode('timestamptz', PgTimestamp.INFINITY), 'infinity');
    assert.equal(refused('timestamptz', '294277-01-01 00:00:00'), "string \"294277-01-01 00:00:00\" is outside PostgreSQL's timestamp range (4714-11-24 BC to 294276-12-31)");
    assert.equal(refused('timestamptz', 'yesterday'), 'expected a PgTimestamp, a Date or an ISO 8601 / PostgreSQL timestamp string, got string "yesterday"');
    assert.equal(refused('timestamptz', 1704164645000), 'expected a PgTimestamp, a Date or an ISO 8601 / PostgreSQL timestamp string, got number 1704164645000');
    assert.match(refused('timestamp', new Date(NaN)), /^Date Invalid Date: PgTimestamp.fromDate: expected a valid Date$/);
  });

  it('types it does not know: their text, both ways', () => {
    for (const [type, text] of [['interval', '1 day 02:03:04'], ['time', '24:00:00'], ['money', '$1,000.00'], ['inet', '10.0.0.1/8'], ['mood', 'happy'], ['"My Type"', 'x\ty'], ['int4range', '[1,5)']]) {
      assert.equal(decode(type!, text!), text);
      assert.equal(encode(type!, text!), text);
    }
    assert.equal(refused('interval', 5), 'expected a string, got number 5');
  });
});

describe('arrays', () => {
  it('text[]: NULLs, empty strings, quotes, backslashes, commas, braces, unicode and the text NULL', () => {
    const value = ['plain', null, '', 'NULL', 'null', 'say "hi"', 'back\\slash', 'a,b', '{x}', 'tab\tnew\nline', 'é 😀', '\\N', ' '];
    const text = encode('text[]', value)!;
    assert.equal(text, '{plain,NULL,"","NULL","null","say \\"hi\\"","back\\\\slash","a,b","{x}","tab\tnew\nline","é 😀","\\\\N"," "}');
    assert.deepEqual(decode('text[]', text), value);
  });

  it('multi-dimensional arrays of any element type, with NULL elements', () => {
    assert.deepEqual(decode('int8[]', '{{1,NULL},{9223372036854775807,-9223372036854775808}}'), [
      [1n, null],
      [9223372036854775807n, -9223372036854775808n],
    ]);
    roundTrips('int8[]', ['{{1,NULL},{9223372036854775807,-9223372036854775808}}', '{}', '{NULL}']);
    roundTrips('numeric[][]', ['{{1.50,NaN},{-Infinity,0.000000000000000000001}}']);
    roundTrips('int4[]', ['{{{1,2}},{{3,4}}}']);
    roundTrips('bool[]', ['{t,f,NULL}']);
    roundTrips('float8[]', ['{-0,NaN,Infinity,0.1}']);
    roundTrips('date[]', ['{2024-01-02,"0044-03-15 BC",infinity}']);
    roundTrips('timestamptz[]', ['{"2024-01-02 03:04:05.123456+00","0044-03-15 10:00:00+00 BC",-infinity}']);
    roundTrips('uuid[]', ['{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}']);
    roundTrips('bytea[]', ['{"\\\\x00ff","\\\\x",NULL}']);
    roundTrips('jsonb[]', ['{"{\\"a\\":[1,null]}",NULL,"\\"s\\"",null}'.replace(',null}', ',NULL}')]);
    roundTrips('varchar(5)[]', ['{abc,"a b"}']);
    roundTrips('mood[]', ['{happy,"very sad",NULL}']);
    roundTrips('box[]', ['{(1,1),(0,0);(2,2),(1,1)}']);
    assert.deepEqual(decode('box[]', '{(1,1),(0,0);(2,2),(1,1)}'), ['(1,1),(0,0)', '(2,2),(1,1)']);
    assert.deepEqual(decode('bytea[]', '{"\\\\x00ff"}'), [Buffer.from([0, 255])]);
    assert.deepEqual(decode('jsonb[]', '{"{\\"a\\": 1}",NULL}'), [{ a: 1 }, null]);
    // A JS array in a jsonb[] is a JSON array element; a jsonb[][] takes two levels of JS arrays.
    assert.deepEqual(decode('jsonb[]', '{[],"[1, [2]]","null",NULL}'), [[], [1, [2]], JSON_NULL, null]);
    assert.equal(encode('jsonb[]', [[], [1, [2]], JSON_NULL, null]), '{[],"[1,[2]]","null",NULL}');
    assert.equal(encode('jsonb[][]', [[[1], 2], [{}, null]]), '{{[1],2},{"{}",NULL}}');
    assert.match(refused('jsonb[][]', [[1], []]), /rectangular/);
  });

  it('reads the lower-bound decoration and drops the bounds', () => {
    assert.deepEqual(decode('int4[]', '[0:2]={1,2,3}'), [1, 2, 3]);
    assert.deepEqual(decode('text[]', '[2:2][-1:0]={{a,b}}'), [['a', 'b']]);
  });

  it('refuses ragged arrays and bad elements, saying which element, writing nothing', () => {
    assert.match(refused('int4[]', [[1], [2, 3]]), /PostgreSQL arrays are rectangular/);
    assert.equal(refused('int4[]', [1, 'x']), 'element 1 at depth 0: expected an integer (a safe integer number or a bigint; the target refuses one outside -2147483648..2147483647), got string "x"');
    assert.match(refused('varchar(2)[]', ['ab', 3]), /element 1 at depth 0: expected a string, got number 3/);
    assert.equal(refused('text[]', 'not an array'), 'expected an array, got string "not an array"');
    assert.throws(() => decode('int4[]', '{1,x}'), /a field of type integer\[\] holds "\{1,x\}"/);
    assert.throws(() => decode('text[]', '{a'), CopyFormatError);
  });
});

describe('jsonForReject', () => {
  const reject = (type: string, text: string | null): string => jsonForReject(type, ...fieldOf(text));

  it("writes each value as PostgreSQL's to_jsonb does", () => {
    const cases: [string, string | null, string][] = [
      ['int8', null, 'null'],
      ['int8', '-9223372036854775808', '-9223372036854775808'],
      ['int4', '42', '42'],
      ['bool', 't', 'true'],
      ['float8', '-0', '-0'],
      ['float8', '1e+100', '1e+100'],
      ['float8', 'NaN', '"NaN"'],
      ['float4', '-Infinity', '"-Infinity"'],
      ['numeric', '12.50', '12.50'],
      ['numeric', 'NaN', '"NaN"'],
      ['numeric', 'Infinity', '"Infinity"'],
      ['text', 'tab\t"q"\\', '"tab\\t\\"q\\"\\\\"'],
      ['uuid', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"'],
      ['bytea', '\\x00ff', '"\\\\x00ff"'],
      ['date', '2024-01-02', '"2024-01-02"'],
      ['date', '0044-03-15 BC', '"0044-03-15 BC"'],
      ['date', 'infinity', '"infinity"'],
      ['timestamptz', '2024-01-02 03:04:05.123456+00', '"2024-01-02T03:04:05.123456+00:00"'],
      ['timestamptz', '0044-03-15 10:00:00.5+00 BC', '"0044-03-15T10:00:00.5+00:00 BC"'],
      ['timestamp', '12345-01-01 10:00:00.5', '"12345-01-01T10:00:00.5"'],
      ['timestamp', '-infinity', '"-infinity"'],
      ['jsonb', '{"a": [1, null], "b": 18446744073709551616}', '{"a":[1,null],"b":18446744073709551616}'],
      ['json', 'null', 'null'],
      ['int4[]', '{{1,2},{3,NULL}}', '[[1, 2], [3, null]]'],
      ['text[]', '{a,"b c",NULL}', '["a", "b c", null]'],
      ['interval', '1 day', '"1 day"'],
      ['int8', 'not a number', '"not a number"'],
      ['jsonb', '{broken', '"{broken"'],
      ['int4[]', '{1,x}', '"{1,x}"'],
      ['json', '{"a": "\\u0000"}', '"{\\"a\\": \\"\\\\u0000\\"}"'],
    ];
    for (const [type, text, json] of cases) {
      const out = reject(type, text);
      assert.equal(out, json, `${type} ${text}`);
      JSON.parse(out);
    }
  });

  it('never throws, even on a field that is not COPY text', () => {
    const buf = Buffer.from('abc\\');
    assert.equal(jsonForReject('int8', buf, 0, buf.length), '"abc\\\\"');
  });
});
