import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baselineUsable, baselineXid, changedSince, MAX_BASELINE_DISTANCE, parseSnapshot } from '../../../lambdas/shared/snapshots.ts';
import { prng } from '../../support/prng.ts';

const SPACE = 2n ** 32n;
const low = (x: bigint) => Number(x % SPACE);

describe('parseSnapshot', () => {
  it('reads xmin, xmax and the running ids', () => {
    assert.deepEqual(parseSnapshot('10:20:12,15'), { xmin: 10n, xmax: 20n, xip: [12n, 15n] });
    assert.deepEqual(parseSnapshot('7:7:'), { xmin: 7n, xmax: 7n, xip: [] });
    assert.deepEqual(parseSnapshot('4294967300:4294967310:'), { xmin: 4294967300n, xmax: 4294967310n, xip: [] });
  });
  it('refuses what is not a snapshot', () => {
    for (const bad of ['', '1:2', 'a:b:', '5:4:', '1:2:x']) assert.throws(() => parseSnapshot(bad), TypeError, bad);
  });
});

describe('baselineXid', () => {
  it('is the baseline xmin in 32 bits, across epochs', () => {
    assert.equal(baselineXid('100:120:'), '100');
    assert.equal(baselineXid(`${3n * SPACE + 5n}:${3n * SPACE + 9n}:`), '5');
    assert.throws(() => baselineXid(null), TypeError);
  });
});

describe('baselineUsable', () => {
  it('is true while the baseline is within 2^31 transactions minus a margin', () => {
    assert.equal(baselineUsable('1000:1010:', '2000:2000:'), true);
    const far = 1000n + MAX_BASELINE_DISTANCE;
    assert.equal(baselineUsable('1000:1010:', `${far - 1n}:${far - 1n}:`), true);
    assert.equal(baselineUsable('1000:1010:', `${far}:${far}:`), false);
  });
  it('is false for a baseline ahead of the server (a restored or replaced source)', () => {
    assert.equal(baselineUsable('5000:5010:', '100:200:'), false);
  });
});

describe('changedSince: the 32-bit comparison agrees with 64-bit ids', () => {
  it('holds on random histories, including ids that wrapped past 2^32', () => {
    const random = prng(42);
    for (let trial = 0; trial < 20_000; trial++) {
      // The current id anywhere in the first few epochs, often just past a wrap.
      const epoch = BigInt(Math.floor(random() * 4));
      const current = epoch * SPACE + (random() < 0.3 ? BigInt(Math.floor(random() * 1000)) : BigInt(Math.floor(random() * 2 ** 32)));
      if (current < 3n + 2n ** 31n) continue;
      const distance = BigInt(Math.floor(random() * Number(MAX_BASELINE_DISTANCE)));
      const baseline = current - distance;
      // An unfrozen row: written at most 2^31 ids ago (PostgreSQL freezes older ones).
      const xmin = current - BigInt(Math.floor(random() * 2 ** 31));
      if (low(xmin) < 3 || low(baseline) < 3) continue;
      assert.equal(changedSince(low(xmin), low(baseline), low(current)), xmin >= baseline, `current ${current} baseline ${baseline} xmin ${xmin}`);
    }
  });
  it('counts a row written at the baseline xmin (running then) as changed, one before it as not', () => {
    assert.equal(changedSince(500, 500, 900), true);
    assert.equal(changedSince(499, 500, 900), false);
    assert.equal(changedSince(899, 500, 900), true);
  });
  it('across the wrap: ids just below 2^32 are older than ids just above 0', () => {
    assert.equal(changedSince(4294967290, 4294967280, 20), true);
    assert.equal(changedSince(10, 4294967280, 20), true);
    assert.equal(changedSince(4294967270, 4294967280, 20), false);
  });
  it('treats frozen and bootstrap ids (below 3) as old', () => {
    for (const special of [0, 1, 2]) assert.equal(changedSince(special, 500, 900), false);
  });
  it('a frozen row whose raw id is from an older epoch counts as changed only when that id falls in [baseline, current] (copied again: harmless)', () => {
    // Raw ids of rows frozen long ago land anywhere in 32 bits: changed exactly when they fall in [baseline, current].
    assert.equal(changedSince(700, 500, 900), true);
    assert.equal(changedSince(300, 500, 900), false);
    assert.equal(changedSince(950, 500, 900), false, 'a raw id "from the future" has a negative age: old');
  });
  it('a baseline id of 0-2 (every 2^32 ids) makes every row count as changed: safe', () => {
    assert.equal(changedSince(100, 2, 900), true);
  });
});
