// The spool (a chunk's rejects, the lines of its second and further targets, an incremental chunk's
// lines): lines come back byte for byte and in order, in memory and once spilled past 4 MB to a
// temporary file, which dispose removes.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Spool } from '../../../lambdas/worker/spool.ts';

const MB = 1024 * 1024;

/** Distinct reject lines, `bytes` long in all, so a lost or reordered piece shows. */
function rejectLines(first: number, count: number, bytesEach: number): Buffer {
  const lines = Array.from({ length: count }, (_, i) => {
    const head = `${first + i}\trun\tpipeline\t`;
    return `${head}${'x'.repeat(Math.max(0, bytesEach - head.length - 1))}\n`;
  });
  return Buffer.from(lines.join(''));
}

describe('Spool', () => {
  // The spool makes its temporary directory under os.tmpdir(), which reads TMPDIR on every call.
  let spoolTmp: string;
  let savedTmpdir: string | undefined;
  beforeEach(() => {
    savedTmpdir = process.env.TMPDIR;
    spoolTmp = mkdtempSync(join(tmpdir(), 'reject-spool-test-'));
    process.env.TMPDIR = spoolTmp;
  });
  afterEach(() => {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    rmSync(spoolTmp, { recursive: true, force: true });
  });

  it('gives back lines that fit in memory byte for byte, in order, without a temporary file', async () => {
    const spool = new Spool();
    assert.equal(spool.isEmpty, true);
    const parts = [rejectLines(0, 100, 80), rejectLines(100, 1, 5000), rejectLines(101, 300, 120)];
    const reused = Buffer.alloc(64 * 1024);
    for (const part of parts) {
      // The transform hands over a buffer it reuses: the spool must keep a copy.
      part.copy(reused);
      spool.add(reused.subarray(0, part.length));
      reused.fill(0);
    }
    assert.equal(spool.isEmpty, false);
    assert.deepEqual(readdirSync(spoolTmp), []);
    assert.ok((await buffer(await spool.readable())).equals(Buffer.concat(parts)));
    await spool.dispose();
  });

  it('past 4 MB spills to a file and gives back every line byte for byte, in order, the first 4 MB included', async () => {
    const spool = new Spool();
    const parts: Buffer[] = [];
    for (let i = 0; i < 500; i += 1) parts.push(rejectLines(i * 50, 50, 200)); // 500 x 10 kB: spills part-way through these
    parts.push(rejectLines(1_000_000, 1, 2 * MB)); // one reject line larger than any buffer
    for (let i = 0; i < 100; i += 1) parts.push(rejectLines(2_000_000 + i * 50, 50, 200));
    const reused = Buffer.alloc(3 * MB);
    for (const part of parts) {
      part.copy(reused);
      spool.add(reused.subarray(0, part.length));
      reused.fill(0, 0, part.length);
    }
    const expected = Buffer.concat(parts);
    assert.ok(expected.length > 6 * MB);
    assert.equal(readdirSync(spoolTmp).length, 1, 'spilled to one temporary directory');
    const actual = await buffer(await spool.readable());
    assert.equal(actual.length, expected.length, 'bytes read back');
    assert.ok(actual.equals(expected), 'the same bytes in the same order');
    await spool.dispose();
  });

  it('dispose removes its temporary directory, whether or not the lines were read', async () => {
    for (const read of [true, false]) {
      const spool = new Spool();
      spool.add(rejectLines(0, 1, 5 * MB));
      assert.match(readdirSync(spoolTmp).join(), /^pg-fanout-rejects-/);
      if (read) await buffer(await spool.readable());
      await spool.dispose();
      assert.deepEqual(readdirSync(spoolTmp), [], read ? 'after reading' : 'without reading (the COPY failed)');
    }
  });
});
