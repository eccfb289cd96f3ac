// decodedEngine: a user's transform run on decoded values, its result checked and encoded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reject } from '../../../lambdas/pipeline/define.ts';
import { CopyTextWriter, decodeRows } from '../../../lambdas/transform/copy-text.ts';
import { decodedEngine, type DecodedEngineSpec, type EngineColumn } from '../../../lambdas/transform/decoded-engine.ts';
import { FILTERED } from '../../../lambdas/transform/row-engine.ts';
import type { CopyRow } from '../../../lambdas/transform/row-transform.ts';
import { encoderFor } from '../../../lambdas/transform/values/index.ts';

const col = (name: string, type: string, notNull = false): EngineColumn => ({ name, type, notNull });
/** What the type's encoder (values/, tested on its own) says about a value. */
const refusal = (type: string, value: unknown) => encoderFor(type)(value, new CopyTextWriter(64));
const SOURCE = [col('id', 'bigint', true), col('name', 'text'), col('n', 'integer')];

/** One COPY text line (no newline) as the row view the plumbing hands an engine. */
function copyRow(line: string): CopyRow {
  const buf = Buffer.from(line);
  const start: number[] = [0];
  const end: number[] = [];
  for (let i = 0; i < buf.length; i++) if (buf[i] === 0x09) { end.push(i); start.push(i + 1); }
  end.push(buf.length);
  return { buf, start: Int32Array.from(start), end: Int32Array.from(end) };
}

function run(spec: Partial<DecodedEngineSpec> & Pick<DecodedEngineSpec, 'transform'>, line: string) {
  const full: DecodedEngineSpec = {
    sourceColumns: SOURCE, keyFields: 1, singleTarget: true,
    targets: [{ name: 'out', columns: [col('id', 'bigint', true), col('label', 'text')] }],
    ...spec,
  };
  const engine = decodedEngine(full);
  const outs = full.targets.map(() => new CopyTextWriter(64));
  const counts = new Float64Array(full.targets.length);
  const result = engine.transformRow(copyRow(line), outs, counts);
  // A rejected row leaves part of a line, which the plumbing discards: only whole lines are decoded.
  return { engine, result, counts: [...counts], lines: result === null ? outs.map((o) => decodeRows(o.take())) : [] };
}

const MULTI = [
  { name: 'a', columns: [col('id', 'bigint', true), col('label', 'text')] },
  { name: 'b', columns: [col('k', 'bigint'), col('n', 'integer')] },
];

describe('decodedEngine', () => {
  it('describes its rows: the source fields, the key fields and the targets', () => {
    const { engine } = run({ keyFields: 2, targets: MULTI, singleTarget: false, transform: () => null }, '1\tx\t2');
    assert.equal(engine.fieldCount, 3);
    assert.equal(engine.keyFields, 2);
    assert.equal(engine.targetCount, 2);
  });

  it('hands the transform the decoded row and encodes the row it returns', () => {
    let seen: unknown;
    const { result, counts, lines } = run({ transform: (row: { id: bigint; name: string | null }) => { seen = row; return { label: `${row.name}!`, id: row.id + 1n }; } }, '41\tA\\tB\t\\N');
    assert.deepEqual(seen, { id: 41n, name: 'A\tB', n: null });
    assert.equal(result, null);
    assert.deepEqual(counts, [1]);
    assert.deepEqual(lines, [[['42', 'A\tB!']]]);
  });

  it('writes every row of an array, and filters a row for null or an empty array', () => {
    const two = run({ transform: (row: { id: bigint }) => [{ id: row.id, label: 'x' }, { id: row.id, label: null }] }, '7\ta\t1');
    assert.equal(two.result, null);
    assert.deepEqual(two.counts, [2]);
    assert.deepEqual(two.lines, [[['7', 'x'], ['7', null]]]);
    for (const transform of [() => null, () => []]) {
      const filtered = run({ transform }, '7\ta\t1');
      assert.equal(filtered.result, FILTERED);
      assert.deepEqual(filtered.counts, [0]);
    }
  });

  it('rejects with the reason of reject(reason)', () => {
    assert.equal(run({ transform: () => reject('no name') }, '1\t\\N\t1').result, 'no name');
  });

  it('rejects a row when the transform throws, with its message, its name, or the value thrown', () => {
    assert.equal(run({ transform: () => { throw new RangeError('too big'); } }, '1\ta\t1').result, 'too big');
    assert.equal(run({ transform: () => { throw new RangeError(''); } }, '1\ta\t1').result, 'RangeError');
    assert.equal(run({ transform: () => { throw 'oops'; } }, '1\ta\t1').result, 'the transform threw the string "oops"');
    assert.equal(run({ transform: () => { throw 42; } }, '1\ta\t1').result, 'the transform threw number 42');
    assert.equal(run({ transform: () => { throw null; } }, '1\ta\t1').result, 'the transform threw null');
    assert.equal(run({ transform: () => { throw [1]; } }, '1\ta\t1').result, 'the transform threw an array');
    assert.equal(run({ transform: () => { throw { code: 1 }; } }, '1\ta\t1').result, 'the transform threw an object ([object Object])');
    assert.equal(run({ transform: () => { throw 'x'.repeat(41); } }, '1\ta\t1').result, `the transform threw the string "${'x'.repeat(40)}…"`);
    assert.equal(run({ transform: () => { throw 'y'.repeat(40); } }, '1\ta\t1').result, `the transform threw the string "${'y'.repeat(40)}"`);
  });

  it('rejects undefined and a Promise, saying what to return', () => {
    assert.equal(run({ transform: () => undefined }, '1\ta\t1').result, 'the transform returned undefined: return the row(s), null to filter the row out, or reject(reason)');
    assert.equal(run({ transform: async () => ({ id: 1n, label: 'x' }) }, '1\ta\t1').result, 'the transform returned a Promise: transforms are synchronous; compute the row without await');
  });

  it('rejects a row that is not an object, naming the columns expected', () => {
    for (const [value, described] of [['x', 'the string "x"'], [5, 'number 5'], [true, 'boolean true']] as const) {
      assert.equal(run({ transform: () => value }, '1\ta\t1').result, `the transform returned ${described} where a row (an object with id, label) was expected`);
    }
    assert.equal(run({ transform: () => [[1]] }, '1\ta\t1').result, 'the transform returned an array where a row (an object with id, label) was expected');
    assert.equal(run({ transform: () => [null] }, '1\ta\t1').result, 'the transform returned null where a row (an object with id, label) was expected');
  });

  it('rejects a missing column, a null in a not-null column, a value the type refuses, and an undeclared column', () => {
    assert.equal(run({ transform: () => ({ id: 1n }) }, '1\ta\t1').result, 'the row has no column label (the transform must give every declared column; null for NULL)');
    assert.equal(run({ transform: () => ({ id: null, label: 'x' }) }, '1\ta\t1').result, 'column id is declared not null but the transform gave null');
    assert.equal(run({ transform: () => ({ id: 'abc', label: 'x' }) }, '1\ta\t1').result, `column id: ${refusal('bigint', 'abc')}`);
    assert.equal(run({ transform: () => ({ id: 1n, label: 'x', extra: 1 }) }, '1\ta\t1').result, 'the row has a column extra, which is not declared (declared: id, label)');
    // A later row of an array is checked too.
    assert.equal(run({ transform: () => [{ id: 1n, label: 'x' }, { id: 2n }] }, '1\ta\t1').result, 'the row has no column label (the transform must give every declared column; null for NULL)');
  });

  it('ignores inherited properties of a returned row', () => {
    const row = Object.assign(Object.create({ inherited: 1 }) as object, { id: 3n, label: 'x' });
    const { result, lines } = run({ transform: () => row }, '1\ta\t1');
    assert.equal(result, null);
    assert.deepEqual(lines, [[['3', 'x']]]);
  });

  it('rejects an undeclared own column of a row whose declared columns come partly from its prototype', () => {
    const row = Object.assign(Object.create({ label: 'x' }) as object, { id: 3n, extra: 1 });
    assert.equal(run({ transform: () => row }, '1\ta\t1').result, 'the row has a column extra, which is not declared (declared: id, label)');
    class Labelled { id = 4n; get label(): string { return 'y'; } }
    assert.deepEqual(run({ transform: () => new Labelled() }, '1\ta\t1').lines, [[['4', 'y']]]);
  });

  describe('with several targets', () => {
    const multi = (transform: DecodedEngineSpec['transform'], line = '5\ta\t6') => run({ targets: MULTI, singleTarget: false, transform }, line);

    it('writes rows by target name and counts them per target', () => {
      const { result, counts, lines } = multi((row: { id: bigint; n: number }) => ({ a: { id: row.id, label: 'x' }, b: [{ k: row.id, n: row.n }, { k: null, n: 0 }] }));
      assert.equal(result, null);
      assert.deepEqual(counts, [1, 2]);
      assert.deepEqual(lines, [[['5', 'x']], [['5', '6'], [null, '0']]]);
    });

    it('filters a row that gives no target a row', () => {
      for (const value of [{}, { a: null }, { a: [], b: undefined }]) {
        const { result, counts } = multi(() => value);
        assert.equal(result, FILTERED, JSON.stringify(value));
        assert.deepEqual(counts, [0, 0]);
      }
    });

    it('counts nothing for a row rejected after an earlier target was written', () => {
      const { result, counts } = multi(() => ({ a: { id: 1n, label: 'x' }, b: { k: 1n } }));
      assert.equal(result, 'target b: the row has no column n (the transform must give every declared column; null for NULL)');
      assert.deepEqual(counts, [0, 0]);
    });

    it('names the target in every reason about a row', () => {
      assert.equal(multi(() => ({ a: 'x' })).result, 'target a: the transform returned the string "x" where a row (an object with id, label) was expected');
      assert.equal(multi(() => ({ a: { id: null, label: 'x' } })).result, 'target a: column id is declared not null but the transform gave null');
      assert.equal(multi(() => ({ b: { k: 1n, n: 'x' } })).result, `target b: column n: ${refusal('integer', 'x')}`);
      assert.equal(multi(() => ({ b: { k: 1n, n: 1, z: 2 } })).result, 'target b: the row has a column z, which is not declared (declared: k, n)');
    });

    it('rejects rows for an undeclared target, and a result that is not rows by name', () => {
      assert.equal(multi(() => ({ c: [] })).result, 'the transform returned rows for target c, which the pipeline does not declare (it has a, b)');
      assert.equal(multi(() => [{ a: null }]).result, 'the transform returned an array: return rows by target name ({ a: …, b: … }), null or reject(reason)');
      assert.equal(multi(() => 'a').result, 'the transform returned the string "a": return rows by target name ({ a: …, b: … }), null or reject(reason)');
    });

    it('starts each row\'s counts from zero', () => {
      const engine = decodedEngine({ sourceColumns: SOURCE, keyFields: 1, singleTarget: false, targets: MULTI, transform: (row: { id: bigint }) => (row.id === 1n ? { a: { id: 1n, label: 'x' } } : { b: { k: 2n, n: 2 } }) });
      const outs = [new CopyTextWriter(64), new CopyTextWriter(64)];
      const counts = new Float64Array(2);
      assert.equal(engine.transformRow(copyRow('1\ta\t1'), outs, counts), null);
      assert.equal(engine.transformRow(copyRow('2\ta\t1'), outs, counts), null);
      assert.deepEqual([...counts], [1, 1]);
    });
  });

  describe('a value the transform passes through unchanged', () => {
    /** The transform `(row) => ({ id, <column>: row.<source> })` on one row of (id, source): the reject reason, or the COPY text written. */
    function written(source: EngineColumn, column: EngineColumn, line: string) {
      const engine = decodedEngine({
        sourceColumns: [col('id', 'bigint', true), source], keyFields: 1, singleTarget: true,
        targets: [{ name: 'out', columns: [col('id', 'bigint', true), column] }],
        transform: (row: Record<string, unknown>) => ({ id: row.id, [column.name]: row[source.name] }),
      });
      const out = new CopyTextWriter(64);
      const result = engine.transformRow(copyRow(line), [out], new Float64Array(1));
      return { result, text: result === null ? out.take().toString() : null };
    }

    it('is copied as its COPY text: a json column keeps its whitespace, key order and duplicate keys', () => {
      const doc = '{"b": 1,  "1": [1, 2], "b": 3}';
      assert.deepEqual(written(col('doc', 'json'), col('doc', 'json'), `7\t${doc}`), { result: null, text: `7\t${doc}\n` });
    });

    it('is copied as it came between text types, whatever their lengths', () => {
      // Octal escapes, as some writers send non-ASCII (PostgreSQL sends the UTF-8 bytes): a copy keeps
      // them, an encoding of the decoded value would not. The only outside view of the copy being made.
      const line = '7\tcaf\\303\\251';
      assert.deepEqual(written(col('name', 'character varying(10)'), col('label', 'text'), line), { result: null, text: `${line}\n` });
      assert.deepEqual(written(col('name', 'text'), col('label', 'character varying(12)'), line), { result: null, text: `${line}\n` });
    });

    it('is encoded for a column of another type: a text value in a jsonb column is a JSON string', () => {
      assert.deepEqual(written(col('name', 'text'), col('note', 'jsonb'), '7\thi'), { result: null, text: '7\t"hi"\n' });
    });

    it('is never copied between text and text[]: the column refuses a value of the other kind', () => {
      const tags = col('tags', 'text[]');
      assert.deepEqual(written(tags, col('label', 'text'), '7\t{a,b}'), { result: `column label: ${refusal('text', ['a', 'b'])}`, text: null });
      assert.deepEqual(written(col('name', 'text'), tags, '7\ta'), { result: `column tags: ${refusal('text[]', 'a')}`, text: null });
    });
  });

  it('gives the source row as JSON for etl.rejects, by column name', () => {
    const { engine } = run({ transform: () => null }, '1\ta\t1');
    assert.equal(engine.rejectJson(copyRow('9007199254740993\tsay "hi"\\t\t\\N')), '{"id":9007199254740993,"name":"say \\"hi\\"\\t","n":null}');
  });
});
