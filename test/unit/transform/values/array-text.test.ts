import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatArrayText, parseArrayText, quoteElement } from '../../../../lambdas/transform/values/array-text.ts';
import { MALFORMED } from '../../../../lambdas/transform/values/malformed.ts';
import { Refusal } from '../../../../lambdas/transform/values/refusal.ts';

const asText = (element: string): string => element;
const parse = (text: string): unknown => parseArrayText(text, asText);
const format = (value: unknown): string | Refusal => formatArrayText(value, (element) => String(element));
const reason = (value: string | Refusal): string => (value instanceof Refusal ? value.reason : `not refused: ${value}`);

// Elements that need every kind of quoting, with the text array_out writes for them.
const TRICKY: [string, string][] = [
  ['', '""'],
  ['NULL', '"NULL"'],
  ['null', '"null"'],
  ['Null', '"Null"'],
  ['NULLS', 'NULLS'],
  ['a b', '"a b"'],
  ['tab\there', '"tab\there"'],
  ['new\nline', '"new\nline"'],
  ['cr\r', '"cr\r"'],
  ['vt\v ff\f', '"vt\v ff\f"'],
  ['comma,', '"comma,"'],
  ['{brace', '"{brace"'],
  ['brace}', '"brace}"'],
  ['say "hi"', '"say \\"hi\\""'],
  ['back\\slash', '"back\\\\slash"'],
  ['\\', '"\\\\"'],
  ['"', '"\\""'],
  ['semi;colon', 'semi;colon'],
  ['é😀中', 'é😀中'],
  ['\u00a0nbsp', '\u00a0nbsp'],
  ['plain', 'plain'],
];

describe('quoteElement', () => {
  it('quotes exactly when array_out does', () => {
    for (const [element, text] of TRICKY) assert.equal(quoteElement(element), text, JSON.stringify(element));
    assert.equal(quoteElement('semi;colon', ';'), '"semi;colon"');
    assert.equal(quoteElement('comma,', ';'), 'comma,');
  });
});

describe('parseArrayText', () => {
  it('reads every element as it was before quoting', () => {
    const text = `{${TRICKY.map(([, quoted]) => quoted).join(',')}}`;
    assert.deepEqual(parse(text), TRICKY.map(([element]) => element));
  });

  it('reads NULL (unquoted, any case) as null and "NULL" as the text', () => {
    assert.deepEqual(parse('{NULL,null,NuLl,"NULL",NULLX}'), [null, null, null, 'NULL', 'NULLX']);
  });

  it('reads nested dimensions, empty arrays and the lower-bound decoration', () => {
    assert.deepEqual(parse('{}'), []);
    assert.deepEqual(parse('{{1,2},{3,NULL}}'), [['1', '2'], ['3', null]]);
    assert.deepEqual(parse('{{{a}},{{"b}"}}}'), [[['a']], [['b}']]]);
    assert.deepEqual(parse('[0:1]={x,y}'), ['x', 'y']);
    assert.deepEqual(parse('[-2:-1][1:1]={{x},{y}}'), [['x'], ['y']]);
  });

  it('takes what array_in takes beyond array_out: whitespace, escapes in unquoted elements', () => {
    assert.deepEqual(parse(' { a b , "c" ,\tNULL } '), ['a b', 'c', null]);
    assert.deepEqual(parse('{a\\,b,c\\ ,\\N\\ULL}'), ['a,b', 'c ', 'NULL']);
  });

  it('passes each element to the element parser and stops at MALFORMED', () => {
    const seen: string[] = [];
    assert.deepEqual(parseArrayText('{1,"2",NULL}', (e) => (seen.push(e), Number(e))), [1, 2, null]);
    assert.deepEqual(seen, ['1', '2']);
    assert.equal(parseArrayText('{1,x}', (e) => (/^[0-9]+$/.test(e) ? Number(e) : MALFORMED)), MALFORMED);
  });

  it('returns MALFORMED for text that is no array', () => {
    for (const bad of ['', 'a', '{', '{a', '{a}x', '{,}', '{a,}', '{"a}', '{a"b}', '[1:2]{a}', '[1]={a}', '{{{{{{{1}}}}}}}', '{a\\']) {
      assert.equal(parse(bad), MALFORMED, bad);
    }
  });
});

describe('formatArrayText', () => {
  it('writes nested arrays with NULLs and quoting, and reads back the same', () => {
    const value = [TRICKY.map(([element]) => element), TRICKY.map(([element], i) => (i % 3 === 0 ? null : element))];
    const text = format(value);
    assert.equal(typeof text, 'string');
    assert.deepEqual(parse(text as string), value);
    assert.equal(format([[1, 2], [3, null]]), '{{1,2},{3,NULL}}');
    assert.equal(format([]), '{}');
    assert.equal(format([undefined]), '{NULL}');
  });

  it('refuses what PostgreSQL arrays cannot be: ragged, mixed, empty sub-arrays, over 6 dimensions, not arrays', () => {
    assert.match(reason(format([[1], [2, 3]])), /has 2 elements where 1 are expected: PostgreSQL arrays are rectangular/);
    assert.match(reason(format([[1], 2])), /element 1 at depth 0 should be a sub-array, got number 2/);
    assert.match(reason(format([1, [2]])), /element 1 at depth 0 is an array where its siblings are not/);
    assert.match(reason(format([[], []])), /empty sub-array/);
    assert.match(reason(format([[[[[[[1]]]]]]])), /7 dimensions; PostgreSQL allows at most 6/);
    assert.equal(reason(format('{1}')), 'expected an array, got string "{1}"');
    assert.equal(reason(formatArrayText([1, 'x'], (e) => (typeof e === 'number' ? String(e) : new Refusal('not a number')))), 'element 1 at depth 0: not a number');
  });
});
