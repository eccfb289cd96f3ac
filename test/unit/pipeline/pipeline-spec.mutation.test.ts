// normalizeDefinition and columnSpec: a definition as definePipeline receives it, checked field by
// field and normalised.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { columnSpec, normalizeDefinition } from '../../../lambdas/pipeline/pipeline-spec.ts';

const transform = () => null;
const SOURCE = { table: 'public.orders', key: 'id', columns: { id: 'bigint not null', name: 'text', tenant: 'integer' } };
const single = (over: Record<string, unknown> = {}) => ({ name: 'orders', source: SOURCE, target: { table: 'out.orders', columns: { id: 'bigint', label: 'text' } }, transform, ...over });
const multi = (targets: Record<string, unknown>, over: Record<string, unknown> = {}) => ({ name: 'orders', source: SOURCE, targets, transform, ...over });
const W = 'pipeline "orders"';
const refuses = (def: unknown, message: string) => assert.throws(() => normalizeDefinition(def as Record<string, unknown>), { name: 'ConfigError', message });

describe('columnSpec', () => {
  it('normalises the type and reads a trailing not null', () => {
    assert.deepEqual(columnSpec('price', 'NUMERIC(12, 2)   Not  Null ', 'w'), { name: 'price', declared: 'NUMERIC(12, 2)   Not  Null ', type: 'numeric(12,2)', baseType: 'numeric', arrayDims: 0, notNull: true });
    assert.deepEqual(columnSpec('tags', ' text[] ', 'w'), { name: 'tags', declared: ' text[] ', type: 'text[]', baseType: 'text', arrayDims: 1, notNull: false });
    assert.ok(Object.isFrozen(columnSpec('a', 'int', 'w')));
  });

  it('keeps "not null" that is part of no suffix as type text, and refuses what does not parse, naming where', () => {
    assert.equal(columnSpec('a', 'notnull', 'w').notNull, false);
    assert.equal(columnSpec('a', 'int not null extra', 'w').notNull, false);
    assert.equal(columnSpec('a', 'int not nullx', 'w').notNull, false);
    assert.deepEqual(columnSpec('a', 'int\tnot\tnull', 'w').type, 'integer');
    assert.throws(() => columnSpec('a', 'int((', 'pipeline "p": source.columns.a'), (error: Error) => error.name === 'ConfigError' && error.message.startsWith('pipeline "p": source.columns.a: column type "int(("'));
  });
});

describe('normalizeDefinition', () => {
  it('normalises a single-target pipeline, frozen, with the defaults', () => {
    const spec = normalizeDefinition(single());
    assert.equal(spec.name, 'orders');
    assert.equal(spec.singleTarget, true);
    assert.equal(spec.fullRefresh, 'shadow');
    assert.equal(spec.transform, transform);
    assert.deepEqual(spec.source.key, ['id']);
    assert.equal(spec.source.table, 'public.orders');
    assert.deepEqual(spec.source.columns.map((c) => [c.name, c.type, c.notNull]), [['id', 'bigint', true], ['name', 'text', false], ['tenant', 'integer', false]]);
    assert.equal(spec.targets.length, 1);
    const [t] = spec.targets;
    assert.deepEqual({ name: t!.name, table: t!.table, sourceKey: t!.sourceKey, primaryKey: t!.primaryKey }, { name: 'out.orders', table: 'out.orders', sourceKey: ['id'], primaryKey: ['id'] });
    assert.deepEqual(t!.columns.map((c) => c.name), ['id', 'label']);
    for (const o of [spec, spec.source, spec.source.key, spec.targets, t, t!.sourceKey, t!.primaryKey]) assert.ok(Object.isFrozen(o));
    assert.equal('rawTransform' in spec, false);
  });

  it('normalises several targets by name, with composite keys, their own sourceKey and primaryKey', () => {
    const spec = normalizeDefinition(multi({
      lines: { table: 'lines', columns: { t: 'integer', order_id: 'bigint', line: 'integer' }, sourceKey: ['t', 'order_id'], primaryKey: ['order_id', 'line'] },
      heads: { table: '"Sales"."Heads"', columns: { tenant: 'integer', id: 'bigint' } },
    }, { source: { ...SOURCE, key: ['tenant', 'id'] }, fullRefresh: 'in-place' }));
    assert.equal(spec.singleTarget, false);
    assert.equal(spec.fullRefresh, 'in-place');
    assert.deepEqual(spec.source.key, ['tenant', 'id']);
    assert.deepEqual(spec.targets.map((t) => [t.name, t.table, t.sourceKey, t.primaryKey]), [
      ['lines', 'lines', ['t', 'order_id'], ['order_id', 'line']],
      ['heads', '"Sales"."Heads"', ['tenant', 'id'], ['tenant', 'id']],
    ]);
  });

  it('names a single target after its table, or "target" when the table is missing', () => {
    refuses(single({ target: { columns: { id: 'bigint' } } }), `${W}: target.table must be a table name such as 'public.orders'.`);
  });

  it('refuses a definition that is not an object', () => {
    for (const def of [null, 'orders', 42]) refuses(def, 'definePipeline: pass an object with name, source, target (or targets) and transform.');
  });

  it('refuses a name that is not 1 to 120 of the allowed characters, or has spaces around it', () => {
    for (const name of [undefined, '', ' orders', 'orders ', 'a'.repeat(121), 'or;ders', 42]) {
      refuses(single({ name }), `definePipeline: name ${JSON.stringify(name)} is not a pipeline name: use 1 to 120 letters, digits, spaces and _ - . : > /, e.g. name: 'orders'.`);
    }
    for (const name of ['a'.repeat(120), 'Bestellungen_2024-v1.2: a > b/c', 'x']) assert.equal(normalizeDefinition(single({ name })).name, name);
  });

  it('refuses a source that is not an object, and a source table that is not a table name', () => {
    for (const source of [undefined, null, 'orders', ['orders']]) refuses(single({ source }), `${W}: source must be an object.`);
    refuses(single({ source: { ...SOURCE, table: 42 } }), `${W}: source.table must be a table name such as 'public.orders'.`);
    assert.throws(() => normalizeDefinition(single({ source: { ...SOURCE, table: 'a.b.c' } })), { name: 'SchemaError', message: /^pipeline "orders": source.table is "a.b.c"/ });
  });

  it('refuses columns that are not a non-empty map of type names', () => {
    for (const columns of [undefined, null, [], {}, 'id bigint']) {
      refuses(single({ source: { ...SOURCE, columns } }), `${W}: source.columns must map each column name to its PostgreSQL type, e.g. { id: 'bigint', name: 'text' }.`);
    }
    for (const type of [42, '', '  ']) {
      refuses(single({ source: { ...SOURCE, columns: { id: 'bigint', name: type } } }), `${W}: source.columns.name must be a PostgreSQL type name such as 'text' or 'numeric(12,2) not null'.`);
    }
    assert.throws(() => normalizeDefinition(single({ source: { ...SOURCE, columns: { ...SOURCE.columns, bad: 'int((' } } })), (error: Error) => error.name === 'ConfigError' && error.message.startsWith(`${W}: source.columns.bad: column type "int(("`));
    assert.throws(() => normalizeDefinition(single({ target: { table: 't', columns: { ['x'.repeat(64)]: 'text', id: 'bigint' } } })), { name: 'SchemaError', message: /^pipeline "orders": target.columns is / });
  });

  it('accepts column names that need quoting, quotes included', () => {
    const spec = normalizeDefinition(single({ target: { table: 't', columns: { id: 'bigint', 'Say "Hi"': 'text' } } }));
    assert.deepEqual(spec.targets[0]!.columns.map((c) => c.name), ['id', 'Say "Hi"']);
    const odd = normalizeDefinition(single({ target: { table: 't', columns: { id: 'bigint', '"': 'text', ['c'.repeat(40)]: 'text' } } }));
    assert.deepEqual(odd.targets[0]!.columns.map((c) => c.name), ['id', '"', 'c'.repeat(40)]);
  });

  it('refuses a key that is not a column name or a non-empty list of them', () => {
    for (const key of [undefined, [], [1], ['id', 2], 7]) {
      refuses(single({ source: { ...SOURCE, key } }), `${W}: source.key must name the key column, or list the columns of a composite key, e.g. key: 'id' or key: ['tenant_id', 'event_id'].`);
    }
  });

  it('refuses a key column that is not declared, or listed twice', () => {
    refuses(single({ source: { ...SOURCE, key: ['id', 'uid'] } }), `${W}: source.key column "uid" is not in source.columns (id, name, tenant): declare it there with its type, e.g. uid: 'bigint'.`);
    refuses(single({ source: { ...SOURCE, key: ['id', 'id'] } }), `${W}: source.key lists a column twice (id, id).`);
  });

  it('needs exactly one of target and targets', () => {
    refuses({ ...single(), targets: { a: { table: 'a', columns: { id: 'bigint' } } } }, `${W}: declare exactly one of target (one table) or targets (several tables by name), not both.`);
    refuses({ name: 'orders', source: SOURCE, transform }, `${W}: declare exactly one of target (one table) or targets (several tables by name), not neither.`);
  });

  it('refuses targets that are not objects, none, or badly named', () => {
    refuses(single({ target: 'out' }), `${W}: target must be an object.`);
    refuses(single({ target: null }), `${W}: target must be an object.`);
    refuses(multi([] as unknown as Record<string, unknown>), `${W}: targets must be an object.`);
    refuses(multi({}), `${W}: targets is empty: declare at least one target table.`);
    refuses(multi({ a: 'out' }), `${W}: targets.a must be an object with table and columns.`);
    refuses(multi({ a: null }), `${W}: targets.a must be an object with table and columns.`);
    refuses(multi({ 'a;b': { table: 'x', columns: { id: 'bigint' } } }), `${W}: target name "a;b" is not a name: use letters, digits and _ - . :`);
    // A single target's name is its table, which need not be a target name.
    assert.equal(normalizeDefinition(single({ target: { table: '"odd;name"', columns: { id: 'bigint' } } })).targets[0]!.name, '"odd;name"');
  });

  it('refuses a sourceKey or primaryKey that is not a non-empty list of names', () => {
    for (const sourceKey of ['id', [], [1], ['id', 1]]) {
      refuses(multi({ a: { table: 'x', columns: { id: 'bigint' }, sourceKey } }), `${W}: targets.a.sourceKey must list column names, e.g. ['order_id', 'line_no'].`);
    }
    refuses(single({ target: { table: 'x', columns: { id: 'bigint' }, primaryKey: [] } }), `${W}: target.primaryKey must list column names, e.g. ['order_id', 'line_no'].`);
  });

  it('refuses a sourceKey of another length than the key, or of missing or differently typed columns', () => {
    refuses(single({ target: { table: 'x', columns: { id: 'bigint', t: 'integer' }, sourceKey: ['id', 't'] } }), `${W}: target.sourceKey has 2 column(s) but source.key has 1: list the target columns that hold id, in that order.`);
    refuses(single({ source: { ...SOURCE, key: ['tenant', 'id'] }, target: { table: 'x', columns: { id: 'bigint' }, sourceKey: ['id'] } }), `${W}: target.sourceKey has 1 column(s) but source.key has 2: list the target columns that hold tenant, id, in that order.`);
    refuses(single({ target: { table: 'x', columns: { label: 'text' } } }), `${W}: target.columns has no "id", which target.sourceKey needs to hold source key id: declare it (e.g. id: 'bigint') or set target.sourceKey to the columns that hold the source key.`);
    refuses(multi({ a: { table: 'x', columns: { id: 'integer' } } }), `${W}: targets.a.columns.id is declared integer but holds source key id, which is bigint: declare the same type on both sides.`);
  });

  it('refuses a primaryKey column that is not declared', () => {
    refuses(single({ target: { table: 'x', columns: { id: 'bigint' }, primaryKey: ['id', 'line'] } }), `${W}: target.primaryKey column "line" is not in target.columns.`);
  });

  it('refuses two targets on one table and a target on the source table, comparing names as PostgreSQL would', () => {
    refuses(multi({ a: { table: 'out', columns: { id: 'bigint' } }, b: { table: 'PUBLIC."out"', columns: { id: 'bigint' } } }), `${W}: two targets write PUBLIC."out": give each target its own table.`);
    refuses(single({ target: { table: 'Public.Orders', columns: { id: 'bigint' } } }), `${W}: target Public.Orders is the source table itself: write to another table (pg-fanout would replace the rows it reads).`);
    refuses(single({ source: { ...SOURCE, table: 'orders' }, target: { table: 'public.orders', columns: { id: 'bigint' } } }), `${W}: target public.orders is the source table itself: write to another table (pg-fanout would replace the rows it reads).`);
    assert.doesNotThrow(() => normalizeDefinition(multi({ a: { table: 'out', columns: { id: 'bigint' } }, b: { table: 'other.out', columns: { id: 'bigint' } } })));
  });

  it('refuses a transform that is not a function, and an unknown fullRefresh', () => {
    refuses(single({ transform: undefined }), `${W}: transform must be a function (row) => target row(s), null or reject(reason).`);
    refuses(single({ fullRefresh: 'swap' }), `${W}: fullRefresh is "swap": use 'shadow' or 'in-place'.`);
    assert.equal(normalizeDefinition(single({ fullRefresh: 'shadow' })).fullRefresh, 'shadow');
  });
});
