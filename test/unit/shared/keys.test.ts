// Keys of any type: each key column's text, never parsed into a JS number. The old bigint key
// helpers (MIN_KEY, MAX_KEY, parseKey, keyFromDb) are gone: an unbounded end is null, a key stays
// the text PostgreSQL printed, and the only bigint parsing left, of version 1 messages, is tested
// in messages.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyArrayLiteral, keyRangeSql, rangeText, sameKey } from '../../../lambdas/shared/keys.ts';

describe('rangeText', () => {
  it('shows a half-open range, with -inf and +inf for no lower and no upper end', () => {
    assert.equal(rangeText(['10'], ['20']), '[10, 20)');
    assert.equal(rangeText(null, null), '[-inf, +inf)');
    assert.equal(rangeText(null, ['5001']), '[-inf, 5001)');
    assert.equal(rangeText(['-1'], ['9223372036854775807']), '[-1, 9223372036854775807)');
  });

  it('shows a composite key as a tuple', () => {
    assert.equal(rangeText(['1', 'a'], ['1', 'b']), '[(1, a), (1, b))');
  });
});

describe('sameKey', () => {
  it('compares the text of every part; null only equals null', () => {
    assert.equal(sameKey(['9007199254740993'], ['9007199254740993']), true);
    assert.equal(sameKey(['9007199254740993'], ['9007199254740992']), false, 'no rounding through a JS number');
    assert.equal(sameKey(['1', 'a'], ['1', 'a']), true);
    assert.equal(sameKey(['1', 'a'], ['1']), false);
    assert.equal(sameKey(null, null), true);
    assert.equal(sameKey(null, ['1']), false);
  });
});

describe('keyArrayLiteral', () => {
  it('quotes every element, so commas, braces, quotes, backslashes and the text NULL survive', () => {
    assert.equal(keyArrayLiteral(['-9223372036854775808']), '{"-9223372036854775808"}');
    assert.equal(keyArrayLiteral(['a,b', '{c}', 'd"e', 'f\\g', 'NULL', '']), '{"a,b","{c}","d\\"e","f\\\\g","NULL",""}');
  });
});

describe('keyRangeSql', () => {
  const quote = (t: string) => `'${t.replaceAll("'", "''")}'`;
  it('casts each bound to the key type, compares composite keys as rows, and is TRUE when unbounded', () => {
    const single = { columns: ['"id"'], types: ['bigint'] };
    assert.equal(keyRangeSql(single, { lo: ['9223372036854775807'], hi: null }, quote), `"id" >= '9223372036854775807'::bigint`);
    assert.equal(keyRangeSql(single, { lo: null, hi: ['5001'] }, quote), `"id" < '5001'::bigint`);
    assert.equal(keyRangeSql(single, { lo: null, hi: null }, quote), 'TRUE');
    const pair = { columns: ['"t"', '"n"'], types: ['text', 'bigint'] };
    assert.equal(keyRangeSql(pair, { lo: ["it's", '1'], hi: ['z', '2'] }, quote),
      `("t", "n") >= ROW('it''s'::text, '1'::bigint) AND ("t", "n") < ROW('z'::text, '2'::bigint)`);
  });
});
