import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JSON_NULL, mayLoseNumbers, parseJson, stringifyJson } from '../../../../lambdas/transform/values/json-value.ts';
import { Numeric } from '../../../../lambdas/transform/values/numeric.ts';
import { PgDate } from '../../../../lambdas/transform/values/pg-date.ts';
import { PgTimestamp } from '../../../../lambdas/transform/values/pg-timestamp.ts';
import { Refusal } from '../../../../lambdas/transform/values/refusal.ts';

const reason = (value: string | Refusal): string => (value instanceof Refusal ? value.reason : `not refused: ${value}`);

describe('parseJson', () => {
  it('keeps integers beyond 2^53 as bigint, and as Numeric numbers whose scale or digits a double would lose', () => {
    const value = parseJson('[18446744073709551616, -9007199254740993, 9007199254740991, 9007199254740992, 0.1000000000000000055511151231257827, 0.1, 1.0, 1e400, 1e-400, 1.5e2, -0, 12.50, 0.0000001, 123456789.1234567]') as unknown[];
    assert.equal(value[0], 18446744073709551616n);
    assert.equal(value[1], -9007199254740993n);
    assert.equal(value[2], 9007199254740991);
    assert.equal(value[3], 9007199254740992n);
    assert.ok(value[4] instanceof Numeric);
    assert.equal(String(value[4]), '0.1000000000000000055511151231257827');
    assert.equal(value[5], 0.1);
    assert.ok(value[6] instanceof Numeric, '1.0 keeps its scale');
    assert.equal(String(value[6]), '1.0');
    assert.equal(String(value[7]), `1${'0'.repeat(400)}`);
    assert.equal(String(value[8]), `0.${'0'.repeat(399)}1`);
    assert.equal(value[9], 150);
    assert.ok(Object.is(value[10], -0));
    assert.equal(String(value[11]), '12.50');
    assert.equal(value[12], 1e-7);
    assert.equal(value[13], 123456789.1234567);
  });

  it('returns JSON_NULL for a top-level null only', () => {
    assert.equal(parseJson('null'), JSON_NULL);
    assert.equal(parseJson(' null '), JSON_NULL);
    assert.deepEqual(parseJson('{"a": null, "b": [null]}'), { a: null, b: [null] });
    assert.ok(Object.isFrozen(JSON_NULL));
  });

  it('leaves strings alone however numeric they look', () => {
    assert.deepEqual(parseJson('{"id": "12345678901234567890", "e": "1e5", "k\\"1e5": 2}'), { id: '12345678901234567890', e: '1e5', 'k"1e5': 2 });
  });

  it('looks for lossy numbers outside strings only', () => {
    assert.equal(mayLoseNumbers('{"a": "12345678901234567890", "b": "4ef8", "c": true, "d": false}'), false);
    assert.equal(mayLoseNumbers('{"a\\\\": 1234567890123456}'), true);
    assert.equal(mayLoseNumbers('[1.5e3]'), true);
    assert.equal(mayLoseNumbers('[123456789.1234567]'), true);
    assert.equal(mayLoseNumbers('[12345678.1234567, 1]'), false);
    assert.equal(mayLoseNumbers('{"a\\"": 1E5}'), true);
    assert.equal(mayLoseNumbers('[1.50]'), true);
    assert.equal(mayLoseNumbers('{"a": 0.0, "b": 1}'), true);
    assert.equal(mayLoseNumbers('[1.5, 10, 100.25]'), false);
    assert.equal(mayLoseNumbers('{"s": "1.50"}'), false);
  });

  it('throws on text that is not JSON', () => {
    assert.throws(() => parseJson('{a: 1}'), SyntaxError);
    assert.throws(() => parseJson(''), SyntaxError);
  });
});

describe('stringifyJson', () => {
  it('writes bigint, Numeric and JSON_NULL exactly, and what JSON.stringify writes otherwise', () => {
    const value = {
      big: 18446744073709551616n,
      exact: new Numeric('0.1000000000000000055511151231257827'),
      scaled: new Numeric('12.50'),
      nothing: JSON_NULL,
      list: [1, 'two', null, undefined, true, -0],
      skipped: undefined,
      when: new Date('2024-01-02T03:04:05.678Z'),
      day: PgDate.parse('2024-01-02'),
      instant: PgTimestamp.parse('2024-01-02 03:04:05.123456+00'),
      text: 'tab\t "quote" \\ é 😀',
    };
    const expected =
      '{"big":18446744073709551616,"exact":0.1000000000000000055511151231257827,"scaled":12.50,"nothing":null,' +
      '"list":[1,"two",null,null,true,0],"when":"2024-01-02T03:04:05.678Z","day":"2024-01-02",' +
      '"instant":"2024-01-02T03:04:05.123456Z","text":"tab\\t \\"quote\\" \\\\ é 😀"}';
    assert.equal(stringifyJson(value, true), expected);
    assert.equal(stringifyJson(JSON_NULL, true), 'null');
    assert.equal(stringifyJson('x', false), '"x"');
    assert.equal(stringifyJson(new Numeric('NaN'), true), '"NaN"');
  });

  it('round-trips what parseJson gives, numbers exact', () => {
    for (const text of ['[18446744073709551616,0.1000000000000000055511151231257827,0.1,1,-12.5,12.50,1.0]', '{"a":{"b":[{"c":null}]},"d":"e"}', 'null', '"\\u00e9"']) {
      assert.equal(stringifyJson(parseJson(text), true), text === '"\\u00e9"' ? '"é"' : text);
    }
  });

  it('refuses NaN, infinities, Map, Set, cycles and top-level undefined, saying where', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.equal(reason(stringifyJson(NaN, true)), 'NaN is not a JSON number');
    assert.equal(reason(stringifyJson({ a: [1, Infinity] }, true)), '"a": [1]: Infinity is not a JSON number');
    assert.equal(reason(stringifyJson(cyclic, true)), '"self": the value contains itself (a cycle)');
    assert.match(reason(stringifyJson({ m: new Map() }, true)), /^"m": a Map has no JSON form/);
    assert.match(reason(stringifyJson(new Set([1]), true)), /a Set has no JSON form/);
    assert.equal(reason(stringifyJson(undefined, true)), 'expected a JSON value, got undefined');
    assert.equal(reason(stringifyJson(() => 1, false)), 'expected a JSON value, got function');
  });

  it('refuses for jsonb, but not json, strings with U+0000 or a lone surrogate', () => {
    for (const bad of ['a\u0000b', '\ud800', 'x\udc00']) {
      assert.match(reason(stringifyJson({ k: bad }, true)), /jsonb cannot hold U\+0000 or a lone surrogate/);
      assert.match(reason(stringifyJson({ [bad]: 1 }, true)), /jsonb cannot hold/);
      assert.equal(stringifyJson({ k: bad }, false), JSON.stringify({ k: bad }));
    }
    assert.equal(stringifyJson({ k: '\u0001 \ud83d\ude00' }, true), '{"k":"\\u0001 😀"}');
  });
});
