// define.ts: the runtime half of the pipeline API (reject, definePipeline and their checks).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { definePipeline, isPipelineDefinition, isReject, reject } from '../../../lambdas/pipeline/define.ts';

describe('reject', () => {
  it('makes a frozen reject that isReject recognises, carrying the reason', () => {
    const r = reject('no name');
    assert.equal(r.reason, 'no name');
    assert.ok(Object.isFrozen(r));
    assert.equal(isReject(r), true);
  });

  it('refuses a reason that is not a non-empty string', () => {
    for (const bad of ['', '  ', undefined, 42]) {
      assert.throws(() => reject(bad as string), { name: 'TypeError', message: 'reject(reason): give the reason as a non-empty string; it is stored in etl.rejects.' });
    }
  });
});

describe('isReject', () => {
  it('is false for anything not made by reject, look-alikes included', () => {
    for (const value of [null, undefined, 'x', 1, {}, { reason: 'x' }, { [Symbol.for('pg-fanout.reject')]: 1, reason: 'x' }, { [Symbol('pg-fanout.reject')]: true }]) {
      assert.equal(isReject(value), false);
    }
    assert.equal(isReject({ [Symbol.for('pg-fanout.reject')]: true, reason: 'x' }), true);
  });
});

describe('definePipeline', () => {
  it('returns a frozen definition holding the normalised spec', () => {
    const transform = (row: { readonly id: bigint }) => ({ id: row.id });
    const def = definePipeline({ name: 'copy', source: { table: 'a', key: 'id', columns: { id: 'bigint' } }, target: { table: 'b', columns: { id: 'bigint' } }, transform });
    assert.equal(def.kind, 'pg-fanout pipeline');
    assert.ok(Object.isFrozen(def));
    assert.equal(def.spec.name, 'copy');
    assert.equal(def.spec.transform, transform);
    assert.deepEqual(def.spec.source.key, ['id']);
    assert.equal(isPipelineDefinition(def), true);
  });

  it('throws the ConfigError of a malformed definition', () => {
    assert.throws(() => definePipeline({ name: '', source: { table: 'a', key: 'id', columns: { id: 'bigint' } }, target: { table: 'b', columns: { id: 'bigint' } }, transform: () => null }), { name: 'ConfigError' });
  });
});

describe('isPipelineDefinition', () => {
  it('needs the kind and a spec object', () => {
    assert.equal(isPipelineDefinition({ kind: 'pg-fanout pipeline', spec: {} }), true);
    for (const value of [null, undefined, 'x', {}, { kind: 'pg-fanout pipeline' }, { kind: 'pg-fanout pipeline', spec: 'x' }, { kind: 'other', spec: {} }]) {
      assert.equal(isPipelineDefinition(value), false, JSON.stringify(value));
    }
  });
});
