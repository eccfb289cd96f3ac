import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keyFromDb, MAX_KEY, MIN_KEY, parseKey, rangeText } from '../../../lambdas/shared/keys.ts';

describe('MIN_KEY and MAX_KEY', () => {
  it('are the PostgreSQL bigint bounds', () => {
    assert.equal(MIN_KEY, -9223372036854775808n);
    assert.equal(MAX_KEY, 9223372036854775807n);
  });
});

describe('parseKey', () => {
  it('parses decimal text to the exact bigint', () => {
    assert.equal(parseKey('0', 'k'), 0n);
    assert.equal(parseKey('-0', 'k'), 0n);
    assert.equal(parseKey('42', 'k'), 42n);
    assert.equal(parseKey('-42', 'k'), -42n);
    assert.equal(parseKey('0000000000000000001', 'k'), 1n);
    assert.equal(parseKey('9007199254740993', 'k'), 9007199254740993n);
  });

  it('accepts both ends of the bigint range', () => {
    assert.equal(parseKey('9223372036854775807', 'k'), MAX_KEY);
    assert.equal(parseKey('-9223372036854775808', 'k'), MIN_KEY);
  });

  it('rejects values one past either end, naming the setting and value', () => {
    assert.throws(() => parseKey('9223372036854775808', '--from'), {
      name: 'ConfigError',
      message: '--from is 9223372036854775808: it is outside the bigint range.',
    });
    assert.throws(() => parseKey('-9223372036854775809', '--from'), {
      name: 'ConfigError',
      message: '--from is -9223372036854775809: it is outside the bigint range.',
    });
  });

  it('rejects text that is not at most 19 decimal digits', () => {
    for (const text of ['', '-', '+1', ' 1', '1 ', '1.0', '1e3', '0x1', 'abc', '1_000', '00000000000000000001', '１']) {
      assert.throws(() => parseKey(text, '--from'), {
        name: 'ConfigError',
        message: `--from is ${JSON.stringify(text)}: it must be a bigint (decimal digits).`,
      });
    }
  });
});

describe('rangeText', () => {
  it('shows a half-open range, with +inf for no upper end', () => {
    assert.equal(rangeText(10n, 20n), '[10, 20)');
    assert.equal(rangeText(MIN_KEY, null), '[-9223372036854775808, +inf)');
    assert.equal(rangeText(-1n, MAX_KEY), '[-1, 9223372036854775807)');
  });
});

describe('keyFromDb', () => {
  it('turns pg int8 text into an exact bigint and keeps NULL', () => {
    assert.equal(keyFromDb('9223372036854775807'), MAX_KEY);
    assert.equal(keyFromDb('-9223372036854775808'), MIN_KEY);
    assert.equal(keyFromDb('9007199254740993'), 9007199254740993n);
    assert.equal(keyFromDb(null), null);
  });
});
