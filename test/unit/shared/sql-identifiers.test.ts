import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PgFanoutError, SchemaError } from '../../../lambdas/shared/errors.ts';
import { prng } from '../../support/prng.ts';
import {
  displayQualified,
  parseColumnName,
  parseQualifiedName,
  quoteIdent,
  quoteQualified,
  type QualifiedName,
} from '../../../lambdas/shared/sql-identifiers.ts';

const FIX = 'Use a plain name like input_table, schema.table, or quote it: "My Schema"."in.put".';

/** The message splitIdentifierParts gives for `text` failing for `why`. */
function partError(what: string, text: string, why: string): string {
  return `${what} is ${JSON.stringify(text)}: ${why}. ${FIX}`;
}


const NASTY_NAMES = [
  'a"b',
  '"',
  '""',
  '"a"',
  'x.y',
  '.',
  '..',
  '"."',
  'a"."b',
  ' lead',
  'trail ',
  ' ',
  'Mixed Case',
  'UPPER',
  'input_table; DROP TABLE x; --',
  'x"; DROP TABLE x; --',
  "it's",
  'tab\there',
  'new\nline',
  'cr\rlf',
  '\\',
  '$1',
  '--',
  '/*',
  '*/',
  '日本語',
  'emoji 😀',
  'Ä',
  'İ',
  'ß',
  '\u00a0',
  '\u200b',
  '1starts_with_digit',
  '$starts_with_dollar',
  'select',
  'a'.repeat(63),
  'é'.repeat(31),
];

describe('parseQualifiedName', () => {
  const cases: [string, QualifiedName][] = [
    ['input_table', { name: 'input_table' }],
    ['public.input_table', { schema: 'public', name: 'input_table' }],
    ['Public.Input_Table', { schema: 'public', name: 'input_table' }],
    ['INPUT_TABLE', { name: 'input_table' }],
    ['"My Schema"."in.put"', { schema: 'My Schema', name: 'in.put' }],
    ['"Mixed"', { name: 'Mixed' }],
    ['"x".Y', { schema: 'x', name: 'y' }],
    ['X."Y"', { schema: 'x', name: 'Y' }],
    ['"a""b"', { name: 'a"b' }],
    ['""""', { name: '"' }],
    ['""""."."""', { schema: '"', name: '."' }],
    ['  padded.name\t\n', { schema: 'padded', name: 'name' }],
    ['"  inner  "', { name: '  inner  ' }],
    ['a$', { name: 'a$' }],
    ['a1$_', { name: 'a1$_' }],
    ['_', { name: '_' }],
    ['_1', { name: '_1' }],
    ['über', { name: 'über' }],
    ['таблица', { name: 'таблица' }],
    ['日本語.テーブル', { schema: '日本語', name: 'テーブル' }],
    ['select', { name: 'select' }],
    ['"input_table; DROP TABLE x; --"', { name: 'input_table; DROP TABLE x; --' }],
    ['"a;b"."c d"', { schema: 'a;b', name: 'c d' }],
    ['"tab\there"', { name: 'tab\there' }],
  ];
  for (const [text, expected] of cases) {
    it(`parses ${JSON.stringify(text)} by PostgreSQL's rules`, () => {
      assert.deepEqual(parseQualifiedName(text, 'SOURCE_TABLE'), expected);
    });
  }

  it('leaves schema out (not undefined-valued) for an unqualified name', () => {
    assert.equal(Object.hasOwn(parseQualifiedName('t', 'x'), 'schema'), false);
  });

  const rejected: [string, string][] = [
    ['', 'it is empty'],
    ['   ', 'it is empty'],
    ['input_table; DROP TABLE x; --', '"input_table; DROP TABLE x; --" is not a valid unquoted identifier'],
    ['a"b', '"a\\"b" is not a valid unquoted identifier'],
    ['"unclosed', 'a quoted part is not closed'],
    ['"a""', 'a quoted part is not closed'],
    ['"', 'a quoted part is not closed'],
    ['x."y', 'a quoted part is not closed'],
    ['""', 'a quoted part is empty'],
    ['"".x', 'a quoted part is empty'],
    ['.a', 'a part is empty'],
    ['a..b', 'a part is empty'],
    ['a.', 'it ends with a dot'],
    ['"a".', 'it ends with a dot'],
    ['"a"b', 'unexpected "b" after a quoted part'],
    ['"a" .b', 'unexpected " " after a quoted part'],
    ['"a""b"c', 'unexpected "c" after a quoted part'],
    ['a .b', '"a " is not a valid unquoted identifier'],
    ['a b', '"a b" is not a valid unquoted identifier'],
    ['1abc', '"1abc" is not a valid unquoted identifier'],
    ['$a', '"$a" is not a valid unquoted identifier'],
    ['a-b', '"a-b" is not a valid unquoted identifier'],
    ["a'b", '"a\'b" is not a valid unquoted identifier'],
    ['a\0b', '"a\\u0000b" is not a valid unquoted identifier'],
    ['"a\0b"', 'it contains a NUL character'],
    ['a'.repeat(64), "a part is longer than PostgreSQL's 63-byte limit"],
    ['A'.repeat(64), "a part is longer than PostgreSQL's 63-byte limit"],
    [`"${'q'.repeat(64)}"`, "a part is longer than PostgreSQL's 63-byte limit"],
    [`s.${'é'.repeat(32)}`, "a part is longer than PostgreSQL's 63-byte limit"],
  ];
  for (const [text, why] of rejected) {
    it(`rejects ${JSON.stringify(text)} because ${why}`, () => {
      assert.throws(() => parseQualifiedName(text, 'SOURCE_TABLE'), { name: 'SchemaError', message: partError('SOURCE_TABLE', text, why) });
    });
  }

  it('accepts a part of exactly 63 bytes, counting UTF-8 bytes not characters', () => {
    assert.deepEqual(parseQualifiedName('a'.repeat(63), 'x'), { name: 'a'.repeat(63) });
    const twoByte = `${'é'.repeat(31)}a`;
    assert.equal(Buffer.byteLength(twoByte), 63);
    assert.deepEqual(parseQualifiedName(`s.${twoByte}`, 'x'), { schema: 's', name: twoByte });
  });

  it('rejects a three-part name, naming the setting and the accepted forms', () => {
    for (const text of ['db.schema.table', '"a"."b"."c"', 'a.b.c.d']) {
      assert.throws(() => parseQualifiedName(text, 'TARGET_TABLE'), {
        name: 'SchemaError',
        message: `TARGET_TABLE is ${JSON.stringify(text)}: give a table as table or schema.table (quote parts with "…" if they contain dots or capitals).`,
      });
    }
  });

  it('throws SchemaError, a PgFanoutError', () => {
    let caught: unknown;
    try {
      parseQualifiedName('a;b', 'x');
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof SchemaError);
    assert.ok(caught instanceof PgFanoutError);
  });

  it(
    'folds only ASCII letters of an unquoted name, as PostgreSQL does in a UTF-8 database',
    
    () => {
      assert.equal(parseColumnName('Äpfel', 'KEY_COLUMN'), 'Äpfel');
      assert.equal(parseColumnName('ÄPFEL', 'KEY_COLUMN'), 'Äpfel');
      assert.equal(parseColumnName('İd', 'KEY_COLUMN'), 'İd');
      assert.deepEqual(parseQualifiedName('ÜBER.Straße', 'SOURCE_TABLE'), { schema: 'Über', name: 'straße' });
    },
  );
});

describe('parseColumnName', () => {
  it('parses unquoted and quoted column names', () => {
    assert.equal(parseColumnName('id', 'KEY_COLUMN'), 'id');
    assert.equal(parseColumnName('ID', 'KEY_COLUMN'), 'id');
    assert.equal(parseColumnName(' Id ', 'KEY_COLUMN'), 'id');
    assert.equal(parseColumnName('"Id"', 'KEY_COLUMN'), 'Id');
    assert.equal(parseColumnName('"my.id"', 'KEY_COLUMN'), 'my.id');
    assert.equal(parseColumnName('"a""b"', 'KEY_COLUMN'), 'a"b');
  });

  it('rejects a qualified column name', () => {
    for (const text of ['t.id', '"t"."id"', 'a.b.c']) {
      assert.throws(() => parseColumnName(text, 'KEY_COLUMN'), {
        name: 'SchemaError',
        message: `KEY_COLUMN is ${JSON.stringify(text)}: give one column name, not a qualified one.`,
      });
    }
  });

  it('rejects hostile and malformed names with the part rules', () => {
    assert.throws(() => parseColumnName('id; DROP TABLE x; --', 'KEY_COLUMN'), {
      message: partError('KEY_COLUMN', 'id; DROP TABLE x; --', '"id; DROP TABLE x; --" is not a valid unquoted identifier'),
    });
    assert.throws(() => parseColumnName('"id', 'KEY_COLUMN'), { message: partError('KEY_COLUMN', '"id', 'a quoted part is not closed') });
    assert.throws(() => parseColumnName('', 'KEY_COLUMN'), { message: partError('KEY_COLUMN', '', 'it is empty') });
    assert.throws(() => parseColumnName('"\0"', 'KEY_COLUMN'), { message: partError('KEY_COLUMN', '"\0"', 'it contains a NUL character') });
  });
});

describe('quoteIdent', () => {
  it('wraps a name in double quotes and doubles inner quotes', () => {
    assert.equal(quoteIdent('abc'), '"abc"');
    assert.equal(quoteIdent('Mixed Case'), '"Mixed Case"');
    assert.equal(quoteIdent('a"b'), '"a""b"');
    assert.equal(quoteIdent('"'), '""""');
    assert.equal(quoteIdent('x"; DROP TABLE x; --'), '"x""; DROP TABLE x; --"');
  });

  it('rejects an empty name and a NUL character', () => {
    const message = 'an identifier may not be empty or contain a NUL character.';
    assert.throws(() => quoteIdent(''), { name: 'SchemaError', message });
    assert.throws(() => quoteIdent('a\0b'), { name: 'SchemaError', message });
  });

  it('round-trips every nasty name through parseColumnName', () => {
    for (const name of NASTY_NAMES) {
      assert.equal(parseColumnName(quoteIdent(name), 'KEY_COLUMN'), name, JSON.stringify(name));
    }
  });

  it('round-trips 2000 seeded random names through parseColumnName', () => {
    const alphabet = ['a', 'Z', '_', '$', '0', '"', '""', '.', ' ', '\t', '\n', ';', "'", '-', '\\', 'é', 'ß', 'İ', '日', '😀', '\u00a0', '\u3000'];
    const random = prng(0x5eed);
    for (let n = 0; n < 2000; n++) {
      let name = '';
      const length = 1 + Math.floor(random() * 20);
      for (let i = 0; i < length; i++) name += alphabet[Math.floor(random() * alphabet.length)]!;
      if (Buffer.byteLength(name) > 63) name = name.slice(0, 10);
      assert.equal(parseColumnName(quoteIdent(name), 'x'), name, JSON.stringify(name));
    }
  });
});

describe('quoteQualified', () => {
  it('quotes both parts and joins them with a dot', () => {
    assert.equal(quoteQualified({ schema: 'public', name: 'input_table' }), '"public"."input_table"');
    assert.equal(quoteQualified({ schema: 'My Schema', name: 'in.put' }), '"My Schema"."in.put"');
    assert.equal(quoteQualified({ schema: 'a"b', name: '"' }), '"a""b".""""');
  });

  it('round-trips every pair of nasty names through parseQualifiedName', () => {
    for (const schema of NASTY_NAMES) {
      for (const name of NASTY_NAMES) {
        assert.deepEqual(parseQualifiedName(quoteQualified({ schema, name }), 'x'), { schema, name });
      }
    }
  });

  it('rejects an empty schema or name', () => {
    assert.throws(() => quoteQualified({ schema: '', name: 't' }), { name: 'SchemaError' });
    assert.throws(() => quoteQualified({ schema: 's', name: '' }), { name: 'SchemaError' });
  });
});

describe('displayQualified', () => {
  const cases: [QualifiedName, string][] = [
    [{ name: 'input_table' }, 'input_table'],
    [{ schema: 'public', name: 'input_table' }, 'public.input_table'],
    [{ schema: 'My Schema', name: 'in.put' }, '"My Schema"."in.put"'],
    [{ name: 'Upper' }, '"Upper"'],
    [{ name: 'a"b' }, '"a""b"'],
    [{ name: 'über' }, '"über"'],
    [{ name: '1a' }, '"1a"'],
    [{ name: 'a$' }, 'a$'],
    [{ name: '_x9' }, '_x9'],
    [{ schema: 'public', name: 'a b' }, 'public."a b"'],
  ];
  for (const [q, shown] of cases) {
    it(`shows ${JSON.stringify(q)} as ${shown}`, () => {
      assert.equal(displayQualified(q), shown);
    });
  }

  it('shows names that parse back to the same name', () => {
    for (const name of NASTY_NAMES) {
      assert.deepEqual(parseQualifiedName(displayQualified({ name }), 'x'), { name });
      assert.deepEqual(parseQualifiedName(displayQualified({ schema: name, name: 'plain' }), 'x'), { schema: name, name: 'plain' });
    }
  });
});
