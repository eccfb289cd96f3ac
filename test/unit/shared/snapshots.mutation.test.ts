// Edges of snapshots.ts that snapshots.test.ts leaves open: the exact error texts, surrounding
// whitespace, a baseline at the server's xmax, and the age arithmetic at its boundaries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baselineUsable, baselineXid, changedSince, parseSnapshot } from '../../../lambdas/shared/snapshots.ts';

describe('parseSnapshot', () => {
  it('ignores whitespace around the text', () => {
    assert.deepEqual(parseSnapshot(' 10:20:12,15\n'), { xmin: 10n, xmax: 20n, xip: [12n, 15n] });
  });

  it('refuses text before or after the snapshot, naming it', () => {
    for (const text of ['x10:20:', '10:20:x', '10:20']) {
      assert.throws(() => parseSnapshot(text), { name: 'TypeError', message: `not a pg_snapshot: ${JSON.stringify(text)}` });
    }
  });

  it('refuses an xmin above xmax, naming the snapshot', () => {
    assert.throws(() => parseSnapshot('21:20:'), { name: 'TypeError', message: 'pg_snapshot 21:20:: xmin is above xmax' });
    assert.deepEqual(parseSnapshot('20:20:'), { xmin: 20n, xmax: 20n, xip: [] });
  });
});

describe('baselineXid', () => {
  it('refuses a missing baseline', () => {
    assert.throws(() => baselineXid(null), { name: 'TypeError', message: 'an incremental run without a baseline snapshot' });
  });
});

describe('baselineUsable', () => {
  it('is true for a baseline whose xmin is the server\'s xmax', () => {
    assert.equal(baselineUsable('100:100:', '50:100:'), true);
  });
});

describe('changedSince', () => {
  it('counts a row written by the current transaction id as changed', () => {
    assert.equal(changedSince(10, 5, 10), true);
  });

  it('takes ids 0-2 as INT_MAX old and id 3 as an ordinary id, across the wrap', () => {
    // Baseline 5 ids before the wrap, current 10 after it: the baseline's age is 15.
    assert.equal(changedSince(2, 2 ** 32 - 5, 10), false);
    assert.equal(changedSince(3, 2 ** 32 - 5, 10), true);
  });

  it('counts a frozen id as changed when the baseline\'s age is exactly INT_MAX', () => {
    assert.equal(changedSince(0, 3, 2 ** 31 + 2), true);
  });
});
