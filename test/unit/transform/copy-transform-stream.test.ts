import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { CopyFormatError } from '../../../lambdas/shared/errors.ts';
import { decodeFieldText, encodeField, encodeRow } from '../../../lambdas/transform/copy-text.ts';
import { createCopyTransform, type CopyTransform } from '../../../lambdas/transform/copy-transform-stream.ts';
import { rawEngine } from '../../../lambdas/transform/raw-engine.ts';
import type { RowEngine } from '../../../lambdas/transform/row-engine.ts';
import type { CopyRow, RowTransform } from '../../../lambdas/transform/row-transform.ts';
import { nameSplitPipeline } from '../../../lambdas/pipeline/builtin-name-split.ts';
import { engineFor } from '../../../lambdas/pipeline/open-pipeline.ts';
import type { ResolvedPipeline } from '../../../lambdas/pipeline/resolve-pipeline.ts';
import { adversarialNames, type AdversarialName } from '../../fixtures/adversarial-names.ts';

// A reject line is the prefix (run_id, pipeline, chunk_no: `run-7` stands for them here), the key as
// a text array, the target (NULL: the transform's reject), the reason, and the source row as JSON.
const PREFIX = Buffer.from('run-7\t');
const text = (value: string): Buffer => Buffer.from(value, 'utf8');

/**
 * The built-in name split's engine as a worker gets it (engineFor): the pipeline resolved against
 * a source whose key is bigint and whose name and age are text and integer. Only what engineFor
 * reads of a resolved pipeline is given.
 */
const nameSplit: RowEngine = engineFor({
  spec: nameSplitPipeline({ sourceTable: 'input_table', targetTable: 'output_table', keyColumn: 'id' }),
  sourceColumns: [{ name: 'id', type: 'bigint' }, { name: 'name', type: 'text' }, { name: 'age', type: 'integer' }],
} as unknown as ResolvedPipeline);

/** A byte-level transform as an engine; the reject JSON holds every field as text (what the tests below need). */
function engineOf(transform: RowTransform): RowEngine {
  const names = ['key', ...transform.sourceColumns];
  return rawEngine(transform, (row: CopyRow) => JSON.stringify(Object.fromEntries(names.map((n, i) => [n, decodeFieldText(row.buf, row.start[i], row.end[i])]))));
}

/** A transform reject line, as the stream writes it for etl.rejects. */
function rejectLine(key: string, reason: string, sourceRow: string): Buffer {
  return Buffer.concat([PREFIX, encodeRow([`{"${key}"}`, null, reason, sourceRow])]);
}

/** The name split's source row JSON: what etl.rejects.source_row holds for a rejected row. */
function nameSplitRow(key: string, name: string | null, age: string | null): string {
  return `{"id":${key},"name":${name === null ? 'null' : JSON.stringify(name)},"age":${age ?? 'null'}}`;
}

interface Run {
  readonly output: Buffer;
  readonly outputChunks: readonly Buffer[];
  readonly rejects: Buffer;
  readonly rejectCalls: number;
  readonly stream: CopyTransform;
}

/** Writes the chunks straight into the stream and collects everything it gives back. */
async function run(chunks: readonly Buffer[], engine: RowEngine = nameSplit): Promise<Run> {
  const rejects: Buffer[] = [];
  const stream = createCopyTransform({ engine, rejectPrefix: PREFIX, onRejects: (lines) => rejects.push(lines) });
  const outputChunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => outputChunks.push(chunk));
  const ended = once(stream, 'end');
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  await ended;
  for (const lines of rejects) assert.ok(lines.length > 0, 'onRejects is only called with rejects');
  return { output: Buffer.concat(outputChunks), outputChunks, rejects: Buffer.concat(rejects), rejectCalls: rejects.length, stream };
}

async function runError(chunks: readonly Buffer[], engine: RowEngine = nameSplit): Promise<Error> {
  try {
    await run(chunks, engine);
  } catch (error) {
    assert.ok(error instanceof Error);
    return error;
  }
  assert.fail('the stream was expected to fail');
}

/** Input rows for the corpus entries (key = position + 1) and the output and rejects they must give. */
function corpusCase(entries: readonly AdversarialName[]): { input: Buffer; output: Buffer; rejects: Buffer; rejected: number } {
  const input: Buffer[] = [];
  const output: Buffer[] = [];
  const rejects: Buffer[] = [];
  entries.forEach((entry, i) => {
    const key = String(i + 1);
    const age = entry.age === null ? null : String(entry.age);
    input.push(encodeRow([key, entry.name, age]));
    if ('reject' in entry.expected) {
      rejects.push(rejectLine(key, entry.expected.reject, nameSplitRow(key, entry.name, age)));
    } else {
      output.push(encodeRow([key, entry.expected.firstName, entry.expected.lastName, age]));
    }
  });
  return { input: Buffer.concat(input), output: Buffer.concat(output), rejects: Buffer.concat(rejects), rejected: rejects.length };
}

const smallEntries = adversarialNames.filter((e) => e.name === null || e.name.length < 200);
const bigEntries = adversarialNames.filter((e) => e.name !== null && e.name.length >= 200);

describe('createCopyTransform with the name split', () => {
  it('transforms the whole corpus in one chunk to the exact expected output, rejects and counts', async () => {
    const expected = corpusCase(adversarialNames);
    const result = await run([expected.input]);
    assert.equal(result.output.toString('utf8'), expected.output.toString('utf8'));
    assert.deepEqual(result.output, expected.output);
    assert.deepEqual(result.rejects, expected.rejects);
    assert.equal(result.rejectCalls, 1);
    assert.equal(result.outputChunks.length, 1, 'one output buffer per input chunk');
    assert.equal(result.stream.rowsRead, adversarialNames.length);
    assert.equal(result.stream.rowsRejected, expected.rejected);
    assert.equal(result.stream.rowsWritten, adversarialNames.length - expected.rejected);
  });

  it('gives identical output when the input is split in two at every byte offset', async () => {
    const expected = corpusCase(smallEntries);
    const input = expected.input;
    assert.ok(input.length > 5_000, `the split test covers ${input.length} offsets`);
    for (let at = 0; at <= input.length; at++) {
      const result = await run([input.subarray(0, at), input.subarray(at)]);
      if (!result.output.equals(expected.output) || !result.rejects.equals(expected.rejects)) {
        assert.fail(`split at byte ${at} of ${input.length} (${JSON.stringify(input.toString('latin1', at - 5, at + 5))}) changed the output`);
      }
      assert.ok(result.rejectCalls <= 2);
      assert.equal(result.stream.rowsRead, smallEntries.length);
    }
  });

  it('gives identical output fed one byte at a time, the 10,000+ character names included', async () => {
    const expected = corpusCase([...bigEntries, ...smallEntries.slice(0, 40)]);
    const chunks: Buffer[] = [];
    for (let at = 0; at < expected.input.length; at++) chunks.push(expected.input.subarray(at, at + 1));
    const result = await run(chunks);
    assert.deepEqual(result.output, expected.output);
    assert.deepEqual(result.rejects, expected.rejects);
    assert.ok(result.outputChunks.length <= chunks.length);
  });

  it('gives identical output for 300 random chunkings of the whole corpus', async () => {
    const expected = corpusCase(adversarialNames);
    let seed = 7;
    const random = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let n = 0; n < 300; n++) {
      const chunks: Buffer[] = [];
      const maxChunk = 1 + Math.floor(random() * (n % 3 === 0 ? 40_000 : 300));
      for (let at = 0; at < expected.input.length; ) {
        const size = Math.floor(random() * maxChunk);
        chunks.push(expected.input.subarray(at, at + size));
        at += size;
      }
      const result = await run(chunks);
      assert.ok(result.output.equals(expected.output), `chunking ${n} (up to ${maxChunk} bytes) changed the output`);
      assert.ok(result.rejects.equals(expected.rejects), `chunking ${n} changed the rejects`);
    }
  });

  it('keeps input chunks it holds on to safe from a producer that reuses its buffer', async () => {
    const expected = corpusCase(smallEntries.slice(0, 30));
    const rejects: Buffer[] = [];
    const stream = createCopyTransform({ engine: nameSplit, rejectPrefix: PREFIX, onRejects: (l) => rejects.push(l) });
    const out: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => out.push(chunk));
    const scratch = Buffer.alloc(7);
    for (let at = 0; at < expected.input.length; at += 7) {
      const n = expected.input.copy(scratch, 0, at, at + 7);
      stream.write(Buffer.from(scratch.subarray(0, n)));
      scratch.fill(0x21);
    }
    stream.end();
    await once(stream, 'end');
    assert.deepEqual(Buffer.concat(out), expected.output);
  });

  it('writes each reject line as prefix, key as a text array, NULL target, reason, then the source row as JSON', async () => {
    const input = text('10\t\\N\t\\N\n11\t\t5\n12\t \\t\u3000\t\\N\n13\tCher\t70\n-9223372036854775808\t\\N\t1\n');
    const result = await run([input]);
    assert.equal(
      result.rejects.toString('utf8'),
      'run-7\t{"10"}\t\\N\tname is NULL\t{"id":10,"name":null,"age":null}\n' +
        'run-7\t{"11"}\t\\N\tname is empty\t{"id":11,"name":"","age":5}\n' +
        'run-7\t{"12"}\t\\N\tname is whitespace only\t{"id":12,"name":" \\\\t\u3000","age":null}\n' +
        'run-7\t{"-9223372036854775808"}\t\\N\tname is NULL\t{"id":-9223372036854775808,"name":null,"age":1}\n',
    );
    assert.equal(result.output.toString(), '13\tCher\t\\N\t70\n');
    assert.deepEqual([result.stream.rowsRead, result.stream.rowsWritten, result.stream.rowsRejected], [5, 1, 4]);
  });

  it('defaults the reject prefix to nothing', async () => {
    const lines: Buffer[] = [];
    const stream = createCopyTransform({ engine: nameSplit, onRejects: (l) => lines.push(l) });
    stream.resume();
    stream.end(text('1\t\\N\t2\n'));
    await once(stream, 'end');
    assert.equal(Buffer.concat(lines).toString(), '{"1"}\t\\N\tname is NULL\t{"id":1,"name":null,"age":2}\n');
  });

  it('copies keys verbatim, the largest bigints included', async () => {
    const result = await run([text('9223372036854775807\tA B\t1\n-9223372036854775808\tC\t2\n0\tD\t3\n')]);
    assert.equal(result.output.toString(), '9223372036854775807\tA\tB\t1\n-9223372036854775808\tC\t\\N\t2\n0\tD\t\\N\t3\n');
  });

  it('produces nothing, and calls no one, for empty input', async () => {
    const none = await run([]);
    const empties = await run([Buffer.alloc(0), Buffer.alloc(0)]);
    for (const result of [none, empties]) {
      assert.equal(result.output.length, 0);
      assert.equal(result.rejectCalls, 0);
      assert.deepEqual([result.stream.rowsRead, result.stream.rowsWritten, result.stream.rowsRejected], [0, 0, 0]);
    }
  });

  it('works in a pipeline with a slow consumer', async () => {
    const expected = corpusCase(adversarialNames);
    const chunks: Buffer[] = [];
    for (let at = 0; at < expected.input.length; at += 1_000) chunks.push(expected.input.subarray(at, at + 1_000));
    const out: Buffer[] = [];
    const rejects: Buffer[] = [];
    await pipeline(
      Readable.from(chunks),
      createCopyTransform({ engine: nameSplit, rejectPrefix: PREFIX, onRejects: (l) => rejects.push(l) }),
      new Writable({
        highWaterMark: 1,
        write(chunk: Buffer, _encoding, callback) {
          out.push(chunk);
          setImmediate(callback);
        },
      }),
    );
    assert.deepEqual(Buffer.concat(out), expected.output);
    assert.deepEqual(Buffer.concat(rejects), expected.rejects);
  });
});

describe('createCopyTransform errors', () => {
  it('fails on a row with too few fields, naming the row and the counts', async () => {
    const error = await runError([text('1\tAnna Smith\t42\n2\tBob\n')]);
    assert.ok(error instanceof CopyFormatError);
    assert.match(error.message, /^COPY row 2 has 2 fields, expected 3 \(the key, then the declared source columns\): "2\\tBob"; select exactly/);
  });

  it('fails on a row with too many fields', async () => {
    const error = await runError([text('1\tA\t1\t2\n')]);
    assert.match(error.message, /COPY row 1 has 4 fields, expected 3/);
  });

  it('fails on a bad row that straddles chunks', async () => {
    const error = await runError([text('1\tA\t1\n2\tB'), text('\t2\t3'), text('\n')]);
    assert.match(error.message, /COPY row 2 has 4 fields, expected 3/);
  });

  it('fails on an empty line', async () => {
    const error = await runError([text('\n')]);
    assert.match(error.message, /COPY row 1 has 1 fields, expected 3/);
  });

  it('fails when the input ends without a final newline', async () => {
    const error = await runError([text('1\tA\t1\n2\tB'), text('\t2')]);
    assert.ok(error instanceof CopyFormatError);
    assert.match(error.message, /COPY input ended without a final newline: row 2 has 5 bytes and no \\n/);
  });

  it('fails when a name ends in a lone backslash', async () => {
    const error = await runError([text('1\tAnna\\\t2\n')]);
    assert.ok(error instanceof CopyFormatError);
    assert.match(error.message, /lone backslash/);
  });

  it('fails with the error onRejects throws', async () => {
    const thrown = new Error('rejects table is gone');
    const stream = createCopyTransform({
      engine: nameSplit,
      onRejects: () => {
        throw thrown;
      },
    });
    stream.resume();
    stream.end(text('1\t\\N\t2\n'));
    const [error] = await once(stream, 'error');
    assert.equal(error, thrown);
  });

  it('refuses options without an engine or without onRejects', () => {
    assert.throws(
      () => createCopyTransform({ engine: undefined as unknown as RowEngine, onRejects: () => {} }),
      /options.engine must be a RowEngine/,
    );
    assert.throws(
      () => createCopyTransform({ engine: nameSplit, onRejects: undefined as unknown as () => void }),
      /options.onRejects must be a function, or rejected rows would be lost/,
    );
  });
});

describe('createCopyTransform with another RowTransform', () => {
  // Upper-cases one text column; rejects "x" after writing half a row, which must not leak out.
  const upper: RowTransform = {
    id: 'test/upper',
    sourceColumns: ['word'],
    targetColumns: [
      { name: 'word', type: 'text' },
      { name: 'length', type: 'integer' },
    ],
    transformRow(row, out) {
      const word = decodeFieldText(row.buf, row.start[1], row.end[1]);
      if (word === null) {
        out.nullField();
        out.nullField();
        return null;
      }
      out.textField(word.toUpperCase());
      if (word === 'x') return 'x is not a word';
      out.textField(String(word.length));
      return null;
    },
  };

  it('writes the key, the transform\'s fields and a newline, and drops a rejected row\'s partial output', async () => {
    const result = await run([text('1\tab\\tc\n2\tx\n3\t\\N\n4\t\u00e9\n')], engineOf(upper));
    assert.equal(result.output.toString('utf8'), '1\tAB\\tC\t4\n3\t\\N\t\\N\n4\t\u00c9\t1\n');
    assert.equal(result.rejects.toString(), 'run-7\t{"2"}\t\\N\tx is not a word\t{"key":"2","word":"x"}\n');
  });

  it('counts fields from the transform\'s sourceColumns', async () => {
    const error = await runError([text('1\ta\t2\n')], engineOf(upper));
    assert.match(error.message, /COPY row 1 has 3 fields, expected 2 \(the key, then the declared source columns\)/);
  });

  it('has escaping that matches encodeField for reasons', async () => {
    const weird: RowTransform = { id: 'test/weird', sourceColumns: [], targetColumns: [], transformRow: () => 'tab\there\\' };
    const result = await run([text('5\n')], engineOf(weird));
    assert.deepEqual(result.rejects, Buffer.concat([PREFIX, text('{"5"}\t\\N\t'), encodeField('tab\there\\'), text('\t'), encodeField('{"key":"5"}'), text('\n')]));
  });
});
