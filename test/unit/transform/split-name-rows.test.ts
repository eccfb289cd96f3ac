// The name split's fast path over many rows (splitNameRows) against the general row-by-row path
// and the reference splitName: same output bytes, same rejects, on the adversarial corpus fed in
// pieces of every size, and with a row limit that stops mid-chunk.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { once } from 'node:events';
import { encodeRow } from '../../../lambdas/transform/copy-text.ts';
import { createCopyTransform } from '../../../lambdas/transform/copy-transform-stream.ts';
import { rawEngine } from '../../../lambdas/transform/raw-engine.ts';
import { splitNameTransform } from '../../../lambdas/transform/split-name-transform.ts';
import type { RowTransform } from '../../../lambdas/transform/row-transform.ts';
import { adversarialNames } from '../../fixtures/adversarial-names.ts';

const general: RowTransform = { ...splitNameTransform, transformRows: undefined };

async function run(input: Buffer, transform: RowTransform, piece: number, maxRows?: number): Promise<{ out: Buffer; rejects: Buffer; read: number; overflow: string[] | null }> {
  const rejects: Buffer[] = [];
  const stream = createCopyTransform({ engine: rawEngine(transform, () => '{}'), onRejects: (l) => rejects.push(l), maxRows });
  const out: Buffer[] = [];
  stream.on('data', (d: Buffer) => out.push(d));
  const ended = once(stream, 'end');
  for (let at = 0; at < input.length; at += piece) stream.write(input.subarray(at, at + piece));
  stream.end();
  await ended;
  return { out: Buffer.concat(out), rejects: Buffer.concat(rejects), read: stream.rowsRead, overflow: stream.overflowKey };
}

describe('splitNameRows, the fast path of the name split', () => {
  const input = Buffer.concat(adversarialNames.map((e, i) => encodeRow([String(i + 1), e.name, e.age === null ? null : String(e.age)])));
  it('gives the bytes and rejects of the general path on the whole corpus, in pieces of any size', async () => {
    const expected = await run(input, general, input.length);
    assert.ok(expected.rejects.length > 0 && expected.out.length > 0);
    for (const piece of [1, 2, 3, 7, 64, 1000, input.length]) {
      const fast = await run(input, splitNameTransform, piece);
      assert.equal(fast.out.toString('latin1'), expected.out.toString('latin1'), `output, pieces of ${piece}`);
      assert.equal(fast.rejects.toString('latin1'), expected.rejects.toString('latin1'), `rejects, pieces of ${piece}`);
    }
  });
  it('stops at maxRows like the general path, keeping the next row\'s key', async () => {
    for (const limit of [1, 17, adversarialNames.length - 1]) {
      const fast = await run(input, splitNameTransform, 4096, limit);
      const slow = await run(input, general, 4096, limit);
      assert.deepEqual({ read: fast.read, overflow: fast.overflow, out: fast.out.toString('latin1') }, { read: slow.read, overflow: slow.overflow, out: slow.out.toString('latin1') });
      assert.equal(fast.read, limit);
      assert.deepEqual(fast.overflow, [String(limit + 1)]);
    }
  });
});
