// The byte path of splitNameTransform on input PostgreSQL never sends but COPY FROM accepts: raw
// control whitespace inside a name, and a backslash escaping a space. Both must split as the
// reference splitName does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyTextWriter, decodeFieldText, decodeRows } from '../../../lambdas/transform/copy-text.ts';
import type { CopyRow } from '../../../lambdas/transform/row-transform.ts';
import { splitNameTransform } from '../../../lambdas/transform/split-name-transform.ts';
import { splitName } from '../../../lambdas/transform/split-name.ts';

/** Runs the transform on (key, name, age) with the name's raw COPY bytes; the decoded output row or the reason. */
function split(nameBytes: Buffer): (string | null)[] | string {
  const buf = Buffer.concat([Buffer.from('1\t'), nameBytes, Buffer.from('\t42\n')]);
  const row: CopyRow = { buf, start: Int32Array.of(0, 2, 3 + nameBytes.length), end: Int32Array.of(1, 2 + nameBytes.length, 5 + nameBytes.length) };
  const out = new CopyTextWriter(64);
  const reason = splitNameTransform.transformRow(row, out);
  if (reason !== null) return reason;
  out.endLine();
  return decodeRows(out.take())[0]!;
}

/** What the reference gives for the same field. */
function reference(nameBytes: Buffer): (string | null)[] | string {
  const result = splitName(decodeFieldText(nameBytes));
  return 'reject' in result ? result.reject : [result.firstName, result.lastName, '42'];
}

describe('splitNameTransform on raw bytes PostgreSQL does not send', () => {
  it('splits at a raw vertical tab, form feed or carriage return inside a name, as splitName does', () => {
    for (const ws of [0x0b, 0x0c, 0x0d]) {
      const name = Buffer.from([0x41, 0x64, 0x61, ws, 0x4c, 0x6f, 0x76, 0x65, ws, 0x6c, 0x61, 0x63, 0x65, ws]);
      assert.deepEqual(split(name), ['Ada', `Love${String.fromCharCode(ws)}lace`, '42'], `byte ${ws}`);
      assert.deepEqual(split(name), reference(name), `byte ${ws}`);
    }
  });

  it('keeps other raw control bytes inside the word', () => {
    const name = Buffer.from([0x41, 0x01, 0x42, 0x20, 0x43, 0x1f]);
    assert.deepEqual(split(name), ['A\u0001B', 'C\u001f', '42']);
    assert.deepEqual(split(name), reference(name));
  });

  it('reads a backslash before a space as an escaped space, so "\\ " alone is whitespace only', () => {
    assert.equal(split(Buffer.from('\\ ')), 'name is whitespace only');
    assert.deepEqual(split(Buffer.from('a\\ b')), ['a', 'b', '42']);
    assert.deepEqual(split(Buffer.from('a\\ b')), reference(Buffer.from('a\\ b')));
  });

  it('is named name-split/1 in pipeline fingerprints', () => {
    assert.equal(splitNameTransform.id, 'name-split/1');
  });
});
