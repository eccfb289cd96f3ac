// rawEngine: a byte-level RowTransform as a RowEngine with one target.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyTextWriter } from '../../../lambdas/transform/copy-text.ts';
import { rawEngine } from '../../../lambdas/transform/raw-engine.ts';
import type { CopyRow, RowTransform } from '../../../lambdas/transform/row-transform.ts';

const row = (line: string): CopyRow => {
  const buf = Buffer.from(line);
  const tab = buf.indexOf(0x09);
  return { buf, start: Int32Array.from([0, tab + 1]), end: Int32Array.from([tab, buf.length]) };
};

const upper: RowTransform = {
  id: 'upper/1',
  sourceColumns: ['name'],
  targetColumns: [{ name: 'name', type: 'text' }],
  transformRow(r, out) {
    const name = r.buf.toString('utf8', r.start[1], r.end[1]);
    if (name === 'bad') return 'bad name';
    out.textField(name.toUpperCase());
    return null;
  },
};

describe('rawEngine', () => {
  it('has the key and the transform\'s source columns as fields, one key field and one target', () => {
    const engine = rawEngine({ ...upper, sourceColumns: ['a', 'b', 'c'] }, () => '{}');
    assert.equal(engine.fieldCount, 4);
    assert.equal(engine.keyFields, 1);
    assert.equal(engine.targetCount, 1);
  });

  it('writes the raw key, then the transform\'s fields, and counts the line', () => {
    const engine = rawEngine(upper, () => '{}');
    const out = new CopyTextWriter(64);
    const counts = new Float64Array([5]);
    assert.equal(engine.transformRow(row('4\\t2\tada'), [out], counts), null);
    assert.equal(engine.transformRow(row('7\tbob'), [out], counts), null);
    assert.equal(out.take().toString(), '4\\t2\tADA\n7\tBOB\n');
    assert.deepEqual([...counts], [7]);
  });

  it('returns the transform\'s reject reason without ending the line or counting it', () => {
    const engine = rawEngine(upper, () => '{}');
    const out = new CopyTextWriter(64);
    const counts = new Float64Array(1);
    assert.equal(engine.transformRow(row('1\tbad'), [out], counts), 'bad name');
    assert.equal(out.take().toString(), '1');
    assert.deepEqual([...counts], [0]);
  });

  it('passes a run of rows to the transform\'s transformRows and adds the rows it wrote to the count', () => {
    const calls: unknown[] = [];
    const fast: RowTransform = {
      ...upper,
      transformRows(buf, from, to, out, limit) {
        calls.push([buf.toString(), from, to, limit]);
        out.rawField(buf, from, to - 1);
        out.endLine();
        return { next: to, rows: 2 };
      },
    };
    const engine = rawEngine(fast, () => '{}');
    const out = new CopyTextWriter(64);
    const counts = new Float64Array([3]);
    const r = engine.transformRows!(Buffer.from('1\ta\n2\tb\n'), 0, 8, [out], counts, 10);
    assert.deepEqual(r, { next: 8, rows: 2 });
    assert.deepEqual(calls, [['1\ta\n2\tb\n', 0, 8, 10]]);
    assert.deepEqual([...counts], [5]);
    assert.equal(out.take().toString(), '1\ta\n2\tb\n');
  });

  it('has no transformRows when the transform has none', () => {
    assert.equal(rawEngine(upper, () => '{}').transformRows, undefined);
  });

  it('uses the given rejectJson', () => {
    const rejectJson = (r: CopyRow) => `{"k":${r.buf.toString('utf8', r.start[0], r.end[0])}}`;
    assert.equal(rawEngine(upper, rejectJson).rejectJson(row('9\tx')), '{"k":9}');
  });
});
