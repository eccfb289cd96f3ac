// keys.ts on the current core (key values as text arrays, any key type). keys.test.ts still tests
// the bigint-only keys of before and is being ported on another branch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collated, keyArrayLiteral, keyExpression, keyLiteralSql, keyRangeSql, keyText, rangeText, sameKey, type KeySql } from '../../../lambdas/shared/keys.ts';

// pg's escapeLiteral, near enough for these values: quotes doubled.
const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

const BIGINT: KeySql = { columns: ['"id"'], types: ['bigint'] };
const COMPOSITE: KeySql = { columns: ['"tenant"', '"seq"'], types: ['text', 'bigint'] };

describe('keyText and rangeText', () => {
  it('shows a one-column key as its value and a composite key in parentheses', () => {
    assert.equal(keyText(['42']), '42');
    assert.equal(keyText(['t1', '7']), '(t1, 7)');
    assert.equal(keyText(['a', 'b', 'c']), '(a, b, c)');
  });

  it('shows a range half-open, with -inf and +inf for missing ends', () => {
    assert.equal(rangeText(['10'], ['20']), '[10, 20)');
    assert.equal(rangeText(null, ['100']), '[-inf, 100)');
    assert.equal(rangeText(['100'], null), '[100, +inf)');
    assert.equal(rangeText(null, null), '[-inf, +inf)');
    assert.equal(rangeText(['1', 'a'], ['1', 'b']), '[(1, a), (1, b))');
  });
});

describe('sameKey', () => {
  it('is true for equal keys and for two nulls', () => {
    assert.equal(sameKey(['1', 'a'], ['1', 'a']), true);
    assert.equal(sameKey([], []), true);
    assert.equal(sameKey(null, null), true);
  });

  it('is false for a null and a key, either way round', () => {
    assert.equal(sameKey(null, ['1']), false);
    assert.equal(sameKey(['1'], null), false);
  });

  it('is false when a part or the number of parts differs', () => {
    assert.equal(sameKey(['1', 'a'], ['1', 'b']), false);
    assert.equal(sameKey(['1', 'a'], ['2', 'a']), false);
    assert.equal(sameKey(['1'], ['1', 'a']), false);
    assert.equal(sameKey(['1', 'a'], ['1']), false);
  });
});

describe('keyArrayLiteral', () => {
  it('quotes every element, escaping backslashes and double quotes', () => {
    assert.equal(keyArrayLiteral(['42']), '{"42"}');
    assert.equal(keyArrayLiteral(['t1', '7']), '{"t1","7"}');
    assert.equal(keyArrayLiteral(['a\\b', 'say "hi"']), '{"a\\\\b","say \\"hi\\""}');
    assert.equal(keyArrayLiteral(['NULL', '{,}']), '{"NULL","{,}"}');
  });
});

describe('collated', () => {
  it('adds COLLATE to the columns whose collation is not the default', () => {
    const key: KeySql = { ...COMPOSITE, collations: ['"pg_catalog"."en-x-icu"', null] };
    assert.deepEqual(collated(key, ['"t"', '"s"']), ['("t" COLLATE "pg_catalog"."en-x-icu")', '"s"']);
  });

  it('leaves the columns as they are without collations', () => {
    assert.deepEqual(collated(COMPOSITE, ['"t"', '"s"']), ['"t"', '"s"']);
  });
});

describe('keyExpression', () => {
  it('is the column for a one-column key and a row of columns for a composite key', () => {
    assert.equal(keyExpression(BIGINT), '"id"');
    assert.equal(keyExpression(COMPOSITE), '("tenant", "seq")');
    assert.equal(keyExpression(COMPOSITE, ['"a"', '"b"']), '("a", "b")');
  });
});

describe('keyLiteralSql', () => {
  it('casts each part to its type, in a ROW for a composite key', () => {
    assert.equal(keyLiteralSql(BIGINT, ['42'], quote), "'42'::bigint");
    assert.equal(keyLiteralSql(COMPOSITE, ["o'k", '7'], quote), "ROW('o''k'::text, '7'::bigint)");
  });

  it('refuses a value with another number of parts than the key, naming both', () => {
    assert.throws(() => keyLiteralSql(COMPOSITE, ['1'], quote), { name: 'TypeError', message: 'key value has 1 part(s); the key has 2' });
    assert.throws(() => keyLiteralSql(BIGINT, ['1', '2'], quote), { name: 'TypeError', message: 'key value has 2 part(s); the key has 1' });
  });
});

describe('keyRangeSql', () => {
  it('is TRUE for a range unbounded on both sides', () => {
    assert.equal(keyRangeSql(BIGINT, { lo: null, hi: null }, quote), 'TRUE');
  });

  it('bounds below inclusively and above exclusively', () => {
    assert.equal(keyRangeSql(BIGINT, { lo: ['10'], hi: null }, quote), `"id" >= '10'::bigint`);
    assert.equal(keyRangeSql(BIGINT, { lo: null, hi: ['20'] }, quote), `"id" < '20'::bigint`);
    assert.equal(keyRangeSql(BIGINT, { lo: ['10'], hi: ['20'] }, quote), `"id" >= '10'::bigint AND "id" < '20'::bigint`);
  });

  it('compares a composite key as a row, in the source collation, on another table\'s columns', () => {
    const key: KeySql = { ...COMPOSITE, collations: ['"C"', null] };
    assert.equal(
      keyRangeSql(key, { lo: ['a', '1'], hi: ['b', '2'] }, quote, ['"src_tenant"', '"src_seq"']),
      `(("src_tenant" COLLATE "C"), "src_seq") >= ROW('a'::text, '1'::bigint) AND (("src_tenant" COLLATE "C"), "src_seq") < ROW('b'::text, '2'::bigint)`,
    );
  });
});
