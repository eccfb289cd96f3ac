// CopyTransform on the current core (RowEngine, several targets, keys, line sources, maxRows).
// copy-transform-stream.test.ts still builds it from a RowTransform and is being ported on
// another branch.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { decodeRows, encodeRow, type CopyTextWriter } from '../../../lambdas/transform/copy-text.ts';
import { CopyTransform, createCopyTransform, type CopyTransformOptions } from '../../../lambdas/transform/copy-transform-stream.ts';
import { rawEngine } from '../../../lambdas/transform/raw-engine.ts';
import { FILTERED } from '../../../lambdas/transform/row-engine.ts';
import type { RowEngine } from '../../../lambdas/transform/row-engine.ts';
import type { CopyRow } from '../../../lambdas/transform/row-transform.ts';
import { splitNameTransform } from '../../../lambdas/transform/split-name-transform.ts';

const rowText = (row: CopyRow, i: number) => row.buf.toString('utf8', row.start[i], row.end[i]);

/**
 * An engine over rows (key, value): value "reject:<why>" rejects, "filter" filters, "two" writes
 * two lines to target 0, "t<n>:<v>" writes (key, v) to target n only; anything else writes
 * (key, value) to every target. Partial output is written before a reject, to be discarded.
 */
function testEngine(targetCount: number, keyFields = 1): RowEngine {
  return {
    fieldCount: keyFields + 1,
    keyFields,
    targetCount,
    transformRow(row: CopyRow, outs: readonly CopyTextWriter[], counts: Float64Array): string | null {
      const value = rowText(row, keyFields);
      const key = () => { for (let k = 0; k < keyFields; k++) outs[0]!.rawField(row.buf, row.start[k]!, row.end[k]!); };
      if (value.startsWith('reject:')) {
        key();
        outs[0]!.textField('partial');
        return value.slice('reject:'.length);
      }
      if (value === 'filter') return FILTERED;
      const only = /^t(\d+):(.*)$/.exec(value);
      for (let t = 0; t < targetCount; t++) {
        if (only !== null && Number(only[1]) !== t) continue;
        const lines = value === 'two' && t === 0 ? 2 : 1;
        for (let n = 0; n < lines; n++) {
          for (let k = 0; k < keyFields; k++) outs[t]!.rawField(row.buf, row.start[k]!, row.end[k]!);
          outs[t]!.textField(only === null ? value : only[2]!);
          outs[t]!.endLine();
        }
        counts[t]! += lines;
      }
      return null;
    },
    rejectJson: (row) => JSON.stringify({ value: rowText(row, keyFields) }),
  };
}

interface Collected {
  output: Buffer[];
  rejects: Buffer[];
  keys: Buffer[];
  targets: [number, Buffer][];
  sources: [number, number[]][];
}

function collect(options: Partial<CopyTransformOptions> & { engine: RowEngine }): { stream: CopyTransform; got: Collected } {
  const got: Collected = { output: [], rejects: [], keys: [], targets: [], sources: [] };
  // Every callback is only called with something in it: a throw here fails the stream.
  const some = (what: string, n: number) => assert.ok(n > 0, `${what} called with nothing`);
  const stream = createCopyTransform({
    onRejects: (lines) => { some('onRejects', lines.length); got.rejects.push(lines); },
    onKeys: (lines) => { some('onKeys', lines.length); got.keys.push(lines); },
    onTargetLines: (t, lines) => { some('onTargetLines', lines.length); got.targets.push([t, lines]); },
    onLineSources: (t, s) => { some('onLineSources', s.length); got.sources.push([t, [...s]]); },
    ...options,
  });
  stream.on('data', (chunk: Buffer) => got.output.push(chunk));
  return { stream, got };
}

async function feed(stream: CopyTransform, chunks: readonly (Buffer | string)[]): Promise<void> {
  const ended = once(stream, 'end');
  for (const chunk of chunks) stream.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  stream.end();
  await ended;
}

async function failure(stream: CopyTransform, chunks: readonly string[]): Promise<Error> {
  const failed = once(stream, 'error');
  for (const chunk of chunks) stream.write(Buffer.from(chunk));
  stream.end();
  const [error] = await failed;
  return error as Error;
}

const rows = (...r: (string | null)[][]) => r.map((x) => encodeRow(x).toString()).join('');

describe('CopyTransform options', () => {
  it('refuses a missing engine, a missing onRejects, and several targets without onTargetLines', () => {
    assert.throws(() => new CopyTransform({ onRejects: () => {} } as unknown as CopyTransformOptions), {
      name: 'TypeError', message: 'createCopyTransform: options.engine must be a RowEngine (an object with transformRow)',
    });
    assert.throws(() => new CopyTransform({ engine: { ...testEngine(1), transformRow: 1 }, onRejects: () => {} } as unknown as CopyTransformOptions), {
      name: 'TypeError', message: 'createCopyTransform: options.engine must be a RowEngine (an object with transformRow)',
    });
    assert.throws(() => new CopyTransform({ engine: testEngine(1) } as unknown as CopyTransformOptions), {
      name: 'TypeError', message: 'createCopyTransform: options.onRejects must be a function, or rejected rows would be lost',
    });
    const needs = { name: 'TypeError', message: 'createCopyTransform: options.onTargetLines is needed for the targets that are not the stream output' };
    assert.throws(() => new CopyTransform({ engine: testEngine(2), onRejects: () => {} }), needs);
    assert.throws(() => new CopyTransform({ engine: testEngine(1), streamTarget: null, onRejects: () => {} }), needs);
    assert.doesNotThrow(() => new CopyTransform({ engine: testEngine(1), onRejects: () => {} }));
    assert.doesNotThrow(() => new CopyTransform({ engine: testEngine(1), streamTarget: 0, onRejects: () => {} }));
  });
});

describe('CopyTransform rows', () => {
  it('streams target 0, hands the other targets out, and counts rows and lines', async () => {
    const { stream, got } = collect({ engine: testEngine(3) });
    await feed(stream, [rows(['1', 'a'], ['2', 't1:b'], ['3', 'two'], ['4', 'filter'], ['5', 'reject:bad value'], ['6', 't2:c'])]);
    assert.equal(Buffer.concat(got.output).toString(), rows(['1', 'a'], ['3', 'two'], ['3', 'two']));
    assert.deepEqual(got.targets.map(([t, b]) => [t, b.toString()]), [[1, rows(['1', 'a'], ['2', 'b'], ['3', 'two'])], [2, rows(['1', 'a'], ['3', 'two'], ['6', 'c'])]]);
    assert.equal(stream.rowsRead, 6);
    assert.equal(stream.rowsRejected, 1);
    assert.equal(stream.rowsFiltered, 1);
    assert.equal(stream.rowsWritten, 4);
    assert.deepEqual([...stream.targetRows], [3, 3, 3]);
    assert.equal(stream.overflowKey, null);
    assert.equal(stream.overflowRows, 0);
  });

  it('writes a reject line as prefix, key as a text array, NULL target, reason and source JSON, dropping partial output', async () => {
    const { stream, got } = collect({ engine: testEngine(1, 2), rejectPrefix: Buffer.from('run\tp\t7\t') });
    await feed(stream, [rows(['t"1', 'k\\2', 'ok'], ['a', 'b', 'reject:why\tnot'])]);
    assert.equal(Buffer.concat(got.output).toString(), rows(['t"1', 'k\\2', 'ok']));
    assert.equal(got.rejects.length, 1);
    assert.deepEqual(decodeRows(got.rejects[0]!), [['run', 'p', '7', '{"a","b"}', null, 'why\\tnot', '{"value":"reject:why\\\\tnot"}']]);
  });

  it('writes reject lines with no prefix by default, and a NULL key part as empty text', async () => {
    const { stream, got } = collect({ engine: testEngine(1) });
    await feed(stream, [rows([null, 'reject:r'])]);
    assert.deepEqual(decodeRows(Buffer.concat(got.rejects)), [['{""}', null, 'r', '{"value":"reject:r"}']]);
  });

  it('works with only an engine and onRejects', async () => {
    const rejects: Buffer[] = [];
    const stream = createCopyTransform({ engine: testEngine(1), onRejects: (lines) => rejects.push(lines) });
    const output: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => output.push(chunk));
    await feed(stream, ['1\ta\n2\treject:r\n3', '\tb\n']);
    assert.equal(Buffer.concat(output).toString(), rows(['1', 'a'], ['3', 'b']));
    assert.equal(rejects.length, 1);
    assert.equal(stream.rowsWritten, 2);
  });

  it('calls onRejects once per chunk that has rejects, and only then', async () => {
    const { stream, got } = collect({ engine: testEngine(1) });
    await feed(stream, [rows(['1', 'a']), rows(['2', 'reject:x'], ['3', 'reject:y']), rows(['4', 'b']), '5\tc', '\n']);
    assert.deepEqual(got.rejects.map((b) => decodeRows(b).map((r) => r[2])), [['x', 'y']]);
    assert.equal(got.keys.length, 4);
  });

  it('calls nothing for input without rows', async () => {
    const { stream, got } = collect({ engine: testEngine(2) });
    await feed(stream, [Buffer.alloc(0), Buffer.alloc(0)]);
    assert.deepEqual(got, { output: [], rejects: [], keys: [], targets: [], sources: [] });
    assert.equal(stream.rowsRead, 0);
  });

  it('hands out the key fields of every row read, rejected and filtered ones included', async () => {
    const { stream, got } = collect({ engine: testEngine(1, 2) });
    await feed(stream, [rows(['a', '1', 'x'], ['b', '2', 'filter']), rows(['c', '3', 'reject:no'])]);
    assert.deepEqual(got.keys.map((b) => b.toString()), [rows(['a', '1'], ['b', '2']), rows(['c', '3'])]);
  });

  it('hands out the source row number of each line written, per chunk and target', async () => {
    const { stream, got } = collect({ engine: testEngine(2), streamTarget: null });
    await feed(stream, [rows(['1', 'two'], ['2', 'filter'], ['3', 't1:x']), rows(['4', 'reject:r'], ['5', 'y'])]);
    assert.deepEqual(got.sources, [[0, [0, 0]], [1, [0, 2]], [0, [4]], [1, [4]]]);
    assert.deepEqual(got.targets.map(([t, b]) => [t, b.toString()]), [
      [0, rows(['1', 'two'], ['1', 'two'])], [1, rows(['1', 'two'], ['3', 'x'])], [0, rows(['5', 'y'])], [1, rows(['5', 'y'])],
    ]);
    assert.deepEqual(got.output, []);
  });

  it('gives the same output for every split of the input, rows and characters straddling chunks', async () => {
    const input = Buffer.from(rows(['1', 'Ünïcødé ✓'], ['2', 'reject:bad'], ['3', 't1:y'], ['4', 'filter'], ['5', 'z']));
    const whole = collect({ engine: testEngine(2) });
    await feed(whole.stream, [input]);
    const expected = { output: Buffer.concat(whole.got.output).toString(), rejects: Buffer.concat(whole.got.rejects).toString(), t1: Buffer.concat(whole.got.targets.map(([, b]) => b)).toString() };
    for (let a = 0; a <= input.length; a++) {
      for (const b of [a, a + 1, a + 7, input.length]) {
        if (b < a || b > input.length) continue;
        const split = collect({ engine: testEngine(2) });
        await feed(split.stream, [input.subarray(0, a), input.subarray(a, b), input.subarray(b)]);
        assert.deepEqual({
          output: Buffer.concat(split.got.output).toString(),
          rejects: Buffer.concat(split.got.rejects).toString(),
          t1: Buffer.concat(split.got.targets.map(([, x]) => x)).toString(),
        }, expected, `split at ${a}, ${b}`);
        assert.equal(split.stream.rowsRead, 5);
      }
    }
  });

  it('keeps a held row safe from a producer that reuses its buffer', async () => {
    const { stream, got } = collect({ engine: testEngine(1) });
    const ended = once(stream, 'end');
    const reused = Buffer.from('1\tabc');
    stream.write(reused);
    reused.fill(0x21);
    stream.write(Buffer.from('d\n2\te\n'));
    stream.end();
    await ended;
    assert.equal(Buffer.concat(got.output).toString(), rows(['1', 'abcd'], ['2', 'e']));
  });

  it('fails on a row with too few or too many fields, naming the row, the counts and the fix', async () => {
    const msg = (row: number, fields: number, preview: string) =>
      `COPY row ${row} has ${fields} fields, expected 3 (the key, then the declared source columns): ${JSON.stringify(preview)}; select exactly the key columns and the declared source columns, in that order`;
    let error = await failure(collect({ engine: testEngine(1, 2) }).stream, ['a\tb\tc\n', 'd\te\n']);
    assert.equal(error.name, 'CopyFormatError');
    assert.equal(error.message, msg(2, 2, 'd\te'));
    error = await failure(collect({ engine: testEngine(1, 2) }).stream, ['a\tb\tc\td\n']);
    assert.equal(error.message, msg(1, 4, 'a\tb\tc\td'));
    error = await failure(collect({ engine: testEngine(1, 2) }).stream, ['\n']);
    assert.equal(error.message, msg(1, 1, ''));
    const long = `${'x'.repeat(100)}\ty\tz\tw`;
    error = await failure(collect({ engine: testEngine(1, 2) }).stream, [`${long}\n`]);
    assert.equal(error.message, msg(1, 4, long.slice(0, 80)));
  });

  it('fails when the input ends inside a row', async () => {
    const error = await failure(collect({ engine: testEngine(1) }).stream, ['1\ta\n2\tb', 'c']);
    assert.equal(error.name, 'CopyFormatError');
    assert.equal(error.message, 'COPY input ended without a final newline: row 2 has 4 bytes and no \\n; the input was cut short; feed the stream the whole COPY output, every row ending in \\n');
  });

  it('fails with the error onRejects throws', async () => {
    const boom = new Error('rejects table gone');
    const { stream } = collect({ engine: testEngine(1), onRejects: () => { throw boom; } });
    assert.equal(await failure(stream, [rows(['1', 'reject:x'])]), boom);
  });
});

describe('CopyTransform maxRows', () => {
  it('transforms the first maxRows rows and keeps the next row\'s key and the overflow count', async () => {
    const { stream, got } = collect({ engine: testEngine(1, 2), maxRows: 2 });
    await feed(stream, [rows(['a', '1', 'x'], ['a', '2', 'y'], ['b\\t', '3', 'z']), rows(['c', '4', 'w'])]);
    assert.equal(Buffer.concat(got.output).toString(), rows(['a', '1', 'x'], ['a', '2', 'y']));
    assert.deepEqual(stream.overflowKey, ['b\\t', '3']);
    assert.equal(stream.overflowRows, 2);
    assert.equal(stream.rowsRead, 2);
  });

  it('keeps the overflow key of a row that straddles chunks or has fewer fields than the key', async () => {
    const { stream } = collect({ engine: testEngine(1, 2), maxRows: 1 });
    await feed(stream, ['a\t1\tx\nb\t', '2\ty\nonly\n']);
    assert.deepEqual(stream.overflowKey, ['b', '2']);
    assert.equal(stream.overflowRows, 2);
    const short = collect({ engine: testEngine(1, 2), maxRows: 0 });
    await feed(short.stream, ['k\n', 'a\tb\tc\n']);
    assert.deepEqual(short.stream.overflowKey, ['k', '']);
    assert.equal(short.stream.overflowRows, 2);
    const several = collect({ engine: testEngine(1, 2), maxRows: 1 });
    await feed(several.stream, ['a\t1\tx\nb\t2\ty\nc\t3\tz\nd\t4\tw\n']);
    assert.deepEqual(several.stream.overflowKey, ['b', '2']);
    assert.equal(several.stream.overflowRows, 3);
    const atOne = collect({ engine: testEngine(1, 1), maxRows: 0 });
    await feed(atOne.stream, ['k\nb\tv\nc\tw\n']);
    assert.deepEqual(atOne.stream.overflowKey, ['k']);
    assert.equal(atOne.stream.overflowRows, 3);
    const oneChunk = collect({ engine: testEngine(1, 2), maxRows: 0 });
    await feed(oneChunk.stream, ['k\na\tb\tc\n']);
    assert.deepEqual(oneChunk.stream.overflowKey, ['k', '']);
    const last = collect({ engine: testEngine(1, 2), maxRows: 0 });
    await feed(last.stream, ['k\n']);
    assert.deepEqual(last.stream.overflowKey, ['k', '']);
    const nullKey = collect({ engine: testEngine(1, 1), maxRows: 0 });
    await feed(nullKey.stream, ['\\N\tv\n']);
    assert.deepEqual(nullKey.stream.overflowKey, ['']);
  });
});

describe('CopyTransform.transformLines', () => {
  it('transforms whole lines outside the stream, to the callbacks', () => {
    const { stream, got } = collect({ engine: testEngine(2), streamTarget: null });
    stream.transformLines(Buffer.alloc(0));
    assert.equal(got.targets.length, 0);
    stream.transformLines(Buffer.from(rows(['1', 'a'], ['2', 't1:b'])));
    assert.deepEqual(got.targets.map(([t, b]) => [t, b.toString()]), [[0, rows(['1', 'a'])], [1, rows(['1', 'a'], ['2', 'b'])]]);
    assert.equal(stream.rowsRead, 2);
  });

  it('needs a stream without a stream target, and whole lines', () => {
    const streamed = collect({ engine: testEngine(1) }).stream;
    assert.throws(() => streamed.transformLines(Buffer.from('1\ta\n')), { name: 'TypeError', message: 'transformLines needs a CopyTransform whose streamTarget is null' });
    const { stream } = collect({ engine: testEngine(1), streamTarget: null });
    assert.throws(() => stream.transformLines(Buffer.from('1\ta')), { name: 'TypeError', message: 'transformLines takes whole lines only' });
    stream.write(Buffer.from('1\ta'));
    assert.throws(() => stream.transformLines(Buffer.from('2\tb\n')), { name: 'TypeError', message: 'transformLines takes whole lines only' });
  });
});

describe('CopyTransform with the raw name-split engine', () => {
  it('writes the key then the split name, and rejects with the engine\'s source JSON', async () => {
    const engine = rawEngine(splitNameTransform, (row) => `{"name":${JSON.stringify(rowText(row, 1))}}`);
    const { stream, got } = collect({ engine });
    await feed(stream, [rows(['1', 'Ada  Lovelace', '36'], ['2', '   ', '9'], ['3', 'Plato', null])]);
    assert.equal(Buffer.concat(got.output).toString(), rows(['1', 'Ada', 'Lovelace', '36'], ['3', 'Plato', null, null]));
    assert.deepEqual(decodeRows(Buffer.concat(got.rejects)), [['{"2"}', null, 'name is whitespace only', '{"name":"   "}']]);
    assert.deepEqual([...stream.targetRows], [2]);
  });
});

describe('CopyTransform and an engine\'s fast path (transformRows)', () => {
  /** The name split engine, counting the rows its fast path took and those it left to transformRow. */
  function countingNameSplit(): { engine: RowEngine; fast: number[]; slow: string[] } {
    const inner = rawEngine(splitNameTransform, (row) => `{"name":${JSON.stringify(rowText(row, 1))}}`);
    const fast: number[] = [];
    const slow: string[] = [];
    const engine: RowEngine = {
      ...inner,
      transformRow(row, outs, counts) {
        slow.push(rowText(row, 0));
        return inner.transformRow(row, outs, counts);
      },
      transformRows(buf, from, to, outs, counts, limit) {
        const r = inner.transformRows!(buf, from, to, outs, counts, limit);
        fast.push(r.rows);
        return r;
      },
    };
    return { engine, fast, slow };
  }
  // Row 2's name has an escape, which the name split's fast path leaves to transformRow.
  const input = rows(['1', 'Ada Lovelace', '36'], ['2', 'A\tB', '9'], ['3', 'Plato', null]);
  const output = rows(['1', 'Ada', 'Lovelace', '36'], ['2', 'A', 'B', '9'], ['3', 'Plato', null, null]);

  it('hands runs of rows to the fast path, and transformRow only the rows it leaves', async () => {
    const { engine, fast, slow } = countingNameSplit();
    const { stream, got } = collect({ engine, onKeys: undefined, onLineSources: undefined });
    await feed(stream, [input]);
    assert.equal(Buffer.concat(got.output).toString(), output);
    assert.deepEqual(slow, ['2']);
    assert.equal(fast.reduce((a, b) => a + b, 0), 2);
    assert.equal(stream.rowsRead, 3);
    assert.deepEqual([...stream.targetRows], [3]);
  });

  it('still hands out every row\'s key when keys are asked for (the fast path writes none)', async () => {
    const { engine } = countingNameSplit();
    const { stream, got } = collect({ engine, onLineSources: undefined });
    await feed(stream, [input]);
    assert.equal(Buffer.concat(got.output).toString(), output);
    assert.equal(Buffer.concat(got.keys).toString(), rows(['1'], ['2'], ['3']));
  });

  it('still hands out every line\'s source row when line sources are asked for (the fast path gives none)', async () => {
    const { engine } = countingNameSplit();
    const { stream, got } = collect({ engine, onKeys: undefined });
    await feed(stream, [input]);
    assert.equal(Buffer.concat(got.output).toString(), output);
    assert.deepEqual(got.sources, [[0, [0, 1, 2]]]);
  });

  it('gives an engine with several targets no fast path, which would write target 0 only', async () => {
    const fastCalls: number[] = [];
    const engine: RowEngine = {
      ...testEngine(2),
      // A single-target fast path, as the contract has it: lines for target 0 only.
      transformRows(buf, from, to, outs, counts) {
        fastCalls.push(from);
        outs[0]!.rawField(buf, from, to - 1);
        outs[0]!.endLine();
        counts[0]! += 1;
        return { next: to, rows: 1 };
      },
    };
    const { stream, got } = collect({ engine, onKeys: undefined, onLineSources: undefined });
    await feed(stream, [rows(['1', 'a'])]);
    assert.deepEqual(fastCalls, []);
    assert.equal(Buffer.concat(got.output).toString(), rows(['1', 'a']));
    assert.deepEqual(got.targets.map(([t, b]) => [t, b.toString()]), [[1, rows(['1', 'a'])]]);
    assert.deepEqual([...stream.targetRows], [1, 1]);
  });
});
