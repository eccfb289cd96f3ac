// The name split's fast path over many rows (splitNameRows) against the general row-by-row path
// and the reference splitName: same output bytes, same rejects, on the adversarial corpus fed in
// pieces of every size, and with a row limit that stops mid-chunk; then splitNameRows called on its
// own (which rows it takes, where it stops, how it grows the writer) and the UTF-8 neighbours of
// every multi-byte whitespace character on both paths.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { once } from 'node:events';
import { CopyTextWriter, encodeRow } from '../../../lambdas/transform/copy-text.ts';
import { createCopyTransform } from '../../../lambdas/transform/copy-transform-stream.ts';
import { rawEngine } from '../../../lambdas/transform/raw-engine.ts';
import { splitNameRows, splitNameTransform } from '../../../lambdas/transform/split-name-transform.ts';
import { splitName } from '../../../lambdas/transform/split-name.ts';
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

/** The output line the reference gives for one row, or null for a rejected name. */
function expectedLine(key: string, name: string, age: string): string | null {
  const r = splitName(name);
  if ('reject' in r) return null;
  return encodeRow([key, r.firstName, r.lastName, age]).toString('utf8');
}

const line = (key: string, name: string, age: string): Buffer => encodeRow([key, name, age]);

// A fast path that silently stopped taking rows would still give the right bytes (the general
// path takes over), only slower: these cases call splitNameRows itself and check what it took.
describe('splitNameRows on its own: which rows it takes and where it stops', () => {
  const plainNames = ['Ann', 'Ann Lee', '  Ann   Lee  ', 'Ann\u00a0Lee', 'Zoë Ñúñez-O\'Brien', '李 小龙', 'a\u3000b\u3000c', 'x', 'AN', 'Ann Lee\u2028', '\u00a0Ann'];
  const plain = Buffer.concat(plainNames.map((n, i) => line(String(i + 1), n, String(20 + i))));
  const expected = plainNames.map((n, i) => expectedLine(String(i + 1), n, String(20 + i))).join('');

  it('takes every row whose name has no escape and is not blank, in one call, writing the reference\'s lines', () => {
    const out = new CopyTextWriter(0);
    assert.deepEqual(splitNameRows(plain, 0, plain.length, out, Infinity), { next: plain.length, rows: plainNames.length });
    assert.equal(out.take().toString('utf8'), expected);
  });

  it('takes the rows of a range inside a bigger buffer, after what the writer already holds', () => {
    const buf = Buffer.concat([Buffer.from('junk\n'), plain, Buffer.from('9\tnot taken\t1\n')]);
    const out = new CopyTextWriter(0);
    out.appendRaw(Buffer.from('before\n'));
    assert.deepEqual(splitNameRows(buf, 5, 5 + plain.length, out, Infinity), { next: 5 + plain.length, rows: plainNames.length });
    assert.equal(out.take().toString('utf8'), `before\n${expected}`);
  });

  it('stops after `limit` rows, at the start of the next', () => {
    for (const limit of [0, 1, 5]) {
      const out = new CopyTextWriter(0);
      const next = Buffer.concat(plainNames.slice(0, limit).map((n, i) => line(String(i + 1), n, String(20 + i)))).length;
      assert.deepEqual(splitNameRows(plain, 0, plain.length, out, limit), { next, rows: limit });
      assert.equal(out.take().toString('utf8'), plainNames.slice(0, limit).map((n, i) => expectedLine(String(i + 1), n, String(20 + i))).join(''));
    }
  });

  const notTaken: [string, Buffer][] = [
    ['an escape in the name', line('7', 'Ann\tLee', '30')],
    ['an escaped backslash in the name', line('7', 'Ann\\Lee', '30')],
    ['a NULL name', encodeRow(['7', null, '30'])],
    ['an empty name', line('7', '', '30')],
    ['a whitespace-only name', line('7', ' \u00a0 ', '30')],
    ['a row of one field', Buffer.from('7\n')],
    ['a row of two fields', Buffer.from('7\tAnn\n')],
    ['a row of four fields', Buffer.from('7\tAnn\t30\tx\n')],
  ];
  for (const [what, bad] of notTaken) {
    it(`stops at a row with ${what}, having written the rows before it and nothing of it`, () => {
      const first = line('1', 'Ann Lee', '20');
      const buf = Buffer.concat([first, bad, line('8', 'Bo', '40')]);
      const out = new CopyTextWriter(0);
      assert.deepEqual(splitNameRows(buf, 0, buf.length, out, Infinity), { next: first.length, rows: 1 });
      assert.equal(out.take().toString('utf8'), expectedLine('1', 'Ann Lee', '20'));
    });
  }

  it('grows the writer for lines longer than the rows they came from, at every fill level', () => {
    // "k TAB a TAB n" becomes "k TAB a TAB \N TAB n": 3 bytes more a row, past any headroom.
    const names = Array.from({ length: 120 }, (_, i) => 'abcdefghij'.slice(0, 1 + (i % 7)));
    const rows = Buffer.concat(names.map((n, i) => line(String(i), n, String(i % 90))));
    const want = names.map((n, i) => expectedLine(String(i), n, String(i % 90))).join('');
    for (let fill = 0; fill <= 300; fill += 1) {
      const out = new CopyTextWriter(0);
      out.appendRaw(Buffer.alloc(fill, 0x2e));
      assert.deepEqual(splitNameRows(rows, 0, rows.length, out, Infinity), { next: rows.length, rows: names.length });
      assert.equal(out.take().toString('utf8'), '.'.repeat(fill) + want, `after ${fill} bytes`);
    }
    // Fewer rows: the buffer fills up on the last row itself, with nothing after it to reserve for.
    for (let count = 1; count <= 30; count++) {
      const some = Buffer.concat(names.slice(0, count).map((n, i) => line(String(i), n, String(i % 90))));
      const wantSome = names.slice(0, count).map((n, i) => expectedLine(String(i), n, String(i % 90))).join('');
      for (let fill = 0; fill <= 300; fill += 1) {
        const out = new CopyTextWriter(0);
        out.appendRaw(Buffer.alloc(fill, 0x2e));
        splitNameRows(some, 0, some.length, out, Infinity);
        assert.equal(out.take().toString('utf8'), '.'.repeat(fill) + wantSome, `${count} rows after ${fill} bytes`);
      }
    }
  });
});

describe('the name split on every character that shares a UTF-8 lead byte with a multi-byte whitespace', () => {
  // The split's byte-level whitespace test looks at three bytes; every neighbour of a whitespace
  // character in those bytes must split exactly as the reference (/\s/) does, on both paths.
  const names: string[] = [];
  for (const lead of [0xe1, 0xe2, 0xe3, 0xef]) {
    for (let b1 = 0x80; b1 <= 0xbf; b1++) {
      for (let b2 = 0x80; b2 <= 0xbf; b2++) names.push(`a${Buffer.from([lead, b1, b2]).toString('utf8')}b`);
    }
  }
  names.push('a\u00a0b', 'a\u00a1b', 'a\u0100b', 'a\u00c0b');
  const input = Buffer.concat(names.map((n, i) => line(String(i), n, '1')));
  const want = names.map((n, i) => expectedLine(String(i), n, '1')).join('');

  it('splits them like the reference in the fast path', () => {
    const out = new CopyTextWriter(0);
    assert.deepEqual(splitNameRows(input, 0, input.length, out, Infinity), { next: input.length, rows: names.length });
    assert.equal(out.take().toString('utf8'), want);
  });

  it('splits them like the reference in the general path', async () => {
    assert.equal((await run(input, general, input.length)).out.toString('utf8'), want);
  });
});

describe('the general path of the name split', () => {
  it('trims escaped whitespace after the last name, when the only escape is in the last name', async () => {
    const names = ['Ann Lee\t', 'Ann Lee\n\r', 'Ann Lee\t x', 'Ann  \tLee', 'Ann Lee\\'];
    const input = Buffer.concat(names.map((n, i) => line(String(i), n, '1')));
    assert.equal((await run(input, general, input.length)).out.toString('utf8'), names.map((n, i) => expectedLine(String(i), n, '1')).join(''));
  });
});
