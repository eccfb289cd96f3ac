import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectBuilder, propertyReader } from '../../../lambdas/transform/row-shape.ts';

const AWKWARD = ['id', 'first name', 'quote"d', "it's", 'back\\slash', 'new\nline', 'Ünïcode', '${x}', '`tick`', 'constructor', 'toString', ''];

describe('objectBuilder', () => {
  it('builds an object with exactly the names, in order, whatever characters they hold', () => {
    const build = objectBuilder(AWKWARD);
    const values = AWKWARD.map((_, i) => i * 10);
    const o = build(values);
    assert.deepEqual(Object.keys(o), [...AWKWARD]);
    AWKWARD.forEach((name, i) => assert.equal(o[name], i * 10));
    assert.equal(Object.getPrototypeOf(o), Object.prototype);
  });

  it('a fresh object per call', () => {
    const build = objectBuilder(['a']);
    const one = build([1]);
    const two = build([2]);
    assert.notEqual(one, two);
    assert.deepEqual([one.a, two.a], [1, 2]);
  });

  it('a column named __proto__ is an own property, not the prototype', () => {
    const o = objectBuilder(['id', '__proto__'])([1, { polluted: true }]);
    assert.deepEqual(Object.keys(o), ['id', '__proto__']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(o, '__proto__')?.value, { polluted: true });
    assert.equal(Object.getPrototypeOf(o), Object.prototype);
    assert.equal((o as { polluted?: unknown }).polluted, undefined);
  });

  it('the rows built for a __proto__ column can be changed like any other (a transform may reuse its row)', () => {
    const o = objectBuilder(['id', '__proto__'])([1, 'p']);
    o.id = 2;
    o['__proto__'] = 'q';
    assert.deepEqual([o.id, Object.getOwnPropertyDescriptor(o, '__proto__')?.value], [2, 'q']);
    delete o.id;
    assert.deepEqual(Object.keys(o), ['__proto__']);
  });
});

describe('propertyReader', () => {
  it('reads every name into its slot, undefined where the object has none', () => {
    const read = propertyReader(AWKWARD);
    const into: unknown[] = [];
    read({ id: 1, 'quote"d': null, '': 'empty', extra: 9 }, into);
    assert.equal(into.length, AWKWARD.length);
    assert.deepEqual(into.slice(0, 3), [1, undefined, null]);
    assert.equal(into[AWKWARD.length - 1], 'empty');
  });

  it('overwrites what a previous row left', () => {
    const read = propertyReader(['a', 'b']);
    const into: unknown[] = [];
    read({ a: 1, b: 2 }, into);
    read({ a: 3 }, into);
    assert.deepEqual(into, [3, undefined]);
  });

  it('a column named like an Object.prototype property reads only an own property', () => {
    const read = propertyReader(['id', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']);
    const into: unknown[] = [];
    read({ id: 1 }, into);
    assert.deepEqual(into, [1, undefined, undefined, undefined, undefined]);
    read({ id: 2, constructor: 'c', toString: 't', hasOwnProperty: 'h', valueOf: null }, into);
    assert.deepEqual(into, [2, 'c', 't', 'h', null]);
  });

  it('a column named __proto__ reads only an own property', () => {
    const read = propertyReader(['__proto__', 'a']);
    const into: unknown[] = [];
    read({ a: 1 }, into);
    assert.deepEqual(into, [undefined, 1]);
    const own = objectBuilder(['__proto__', 'a'])(['x', 2]);
    read(own, into);
    assert.deepEqual(into, ['x', 2]);
  });
});
