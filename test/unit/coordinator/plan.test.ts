import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planChunks, startsFromSample, type ChunkRange } from '../../../lambdas/coordinator/plan.ts';
import { MAX_KEY, MIN_KEY } from '../../../lambdas/shared/keys.ts';
import { prng } from '../../support/prng.ts';


/** A uniform bigint in [lo, hi] from 64 random bits (bias is irrelevant here). */
function randomBigint(random: () => number, lo: bigint, hi: bigint): bigint {
  const bits = (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32));
  return lo + (bits % (hi - lo + 1n));
}

function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every N-th key in key order, skipping the first: what readKeyBounds' `rn % N = 1 AND rn > 1` returns. */
function everyNthKey(sortedKeys: readonly bigint[], n: number): bigint[] {
  return sortedKeys.filter((_, i) => i > 0 && i % n === 0);
}

/** Keys of `sortedKeys` in each range, by one sweep. */
function countPerRange(ranges: readonly ChunkRange[], sortedKeys: readonly bigint[]): number[] {
  const counts: number[] = [];
  let j = 0;
  for (const r of ranges) {
    while (j < sortedKeys.length && sortedKeys[j]! < r.lo) j += 1;
    let count = 0;
    while (j < sortedKeys.length && (r.hi === null || sortedKeys[j]! < r.hi)) {
      count += 1;
      j += 1;
    }
    counts.push(count);
  }
  return counts;
}

/** The domain is covered exactly: first lo, last hi, each range non-empty and touching the next. */
function assertCoversDomain(ranges: readonly ChunkRange[], domainLo: bigint, domainHi: bigint | null): void {
  assert.ok(ranges.length > 0);
  assert.equal(ranges[0]!.lo, domainLo);
  assert.equal(ranges.at(-1)!.hi, domainHi);
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    if (r.hi !== null) assert.ok(r.lo < r.hi, `range ${i} [${r.lo}, ${r.hi}) is empty`);
    if (i < ranges.length - 1) {
      assert.notEqual(r.hi, null, `only the last range may be unbounded (range ${i})`);
      assert.equal(ranges[i + 1]!.lo, r.hi, `gap or overlap after range ${i}`);
    }
  }
}

/** What the README promises for boundaries taken every N-th key: N keys per chunk, the last 1..N. */
function assertExactlyNPerChunk(counts: readonly number[], n: number, label: string): void {
  const last = counts.length - 1;
  for (let i = 0; i < last; i++) assert.equal(counts[i], n, `${label}: range ${i} of ${counts.length} holds ${counts[i]} keys`);
  assert.ok(counts[last]! >= 1 && counts[last]! <= n, `${label}: the last range holds ${counts[last]} keys`);
}

function bounds(ranges: readonly ChunkRange[]): [bigint, bigint | null][] {
  return ranges.map((r) => [r.lo, r.hi]);
}

describe('planChunks', () => {
  it('gives one chunk over the whole domain when there are no starts', () => {
    assert.deepEqual(planChunks({ domainLo: MIN_KEY, domainHi: null, chunkStarts: [], totalRows: 50n, rowsPerChunk: 100n }), [
      { lo: MIN_KEY, hi: null, rowsPlanned: 50n },
    ]);
  });

  it('cuts the domain at every start, first lo = domainLo and last hi = domainHi', () => {
    assert.deepEqual(planChunks({ domainLo: 0n, domainHi: 100n, chunkStarts: [10n, 20n, 70n], totalRows: 40n, rowsPerChunk: 10n }), [
      { lo: 0n, hi: 10n, rowsPlanned: 10n },
      { lo: 10n, hi: 20n, rowsPlanned: 10n },
      { lo: 20n, hi: 70n, rowsPlanned: 10n },
      { lo: 70n, hi: 100n, rowsPlanned: 10n },
    ]);
  });

  it('leaves rowsPlanned out when rowsPerChunk is not given', () => {
    const ranges = planChunks({ domainLo: 0n, domainHi: null, chunkStarts: [5n], totalRows: 9n });
    assert.deepEqual(ranges, [{ lo: 0n, hi: 5n }, { lo: 5n, hi: null }]);
    assert.equal(ranges.some((r) => Object.hasOwn(r, 'rowsPlanned')), false);
  });

  it('gives the last chunk the rows left over, so rowsPlanned sums to totalRows', () => {
    const ranges = planChunks({ domainLo: 0n, domainHi: null, chunkStarts: [10n, 20n], totalRows: 25n, rowsPerChunk: 10n });
    assert.deepEqual(ranges.map((r) => r.rowsPlanned), [10n, 10n, 5n]);
  });

  it('drops repeated starts and gives their rows to the last chunk', () => {
    const ranges = planChunks({ domainLo: 0n, domainHi: null, chunkStarts: [10n, 10n, 20n, 20n, 20n], totalRows: 45n, rowsPerChunk: 10n });
    assert.deepEqual(ranges, [
      { lo: 0n, hi: 10n, rowsPlanned: 10n },
      { lo: 10n, hi: 20n, rowsPlanned: 10n },
      { lo: 20n, hi: null, rowsPlanned: 25n },
    ]);
  });

  it('drops starts at or below domainLo, which would make an empty or outside chunk', () => {
    assert.deepEqual(bounds(planChunks({ domainLo: 100n, domainHi: null, chunkStarts: [50n, 99n, 100n, 150n], totalRows: 10n })), [
      [100n, 150n],
      [150n, null],
    ]);
  });

  it('drops starts at or above domainHi', () => {
    assert.deepEqual(bounds(planChunks({ domainLo: 0n, domainHi: 30n, chunkStarts: [10n, 30n, 40n], totalRows: 10n })), [
      [0n, 10n],
      [10n, 30n],
    ]);
  });

  it('drops a start that is not above the previous kept one, keeping ranges contiguous', () => {
    assert.deepEqual(bounds(planChunks({ domainLo: 0n, domainHi: null, chunkStarts: [20n, 10n, 30n], totalRows: 10n })), [
      [0n, 20n],
      [20n, 30n],
      [30n, null],
    ]);
  });

  it('gives one chunk over the whole domain with 0 rows planned when there are no rows, ignoring starts', () => {
    assert.deepEqual(planChunks({ domainLo: 5n, domainHi: null, chunkStarts: [10n, 20n], totalRows: 0n, rowsPerChunk: 10n }), [
      { lo: 5n, hi: null, rowsPlanned: 0n },
    ]);
    assert.deepEqual(planChunks({ domainLo: MIN_KEY, domainHi: 7n, chunkStarts: [], totalRows: 0n }), [
      { lo: MIN_KEY, hi: 7n, rowsPlanned: 0n },
    ]);
  });

  it('gives no chunks for an empty domain (domainHi <= domainLo)', () => {
    assert.deepEqual(planChunks({ domainLo: 10n, domainHi: 10n, chunkStarts: [], totalRows: 5n }), []);
    assert.deepEqual(planChunks({ domainLo: 10n, domainHi: 9n, chunkStarts: [], totalRows: 0n }), []);
  });

  it('covers the whole bigint domain, including a start at MAX_KEY', () => {
    assert.deepEqual(bounds(planChunks({ domainLo: MIN_KEY, domainHi: null, chunkStarts: [MIN_KEY, -1n, MAX_KEY], totalRows: 3n })), [
      [MIN_KEY, -1n],
      [-1n, MAX_KEY],
      [MAX_KEY, null],
    ]);
  });

  it('keeps keys above 2^53 exact', () => {
    const a = 2n ** 53n + 1n;
    const b = 2n ** 53n + 3n;
    assert.deepEqual(bounds(planChunks({ domainLo: 2n ** 53n, domainHi: null, chunkStarts: [a, b], totalRows: 3n })), [
      [2n ** 53n, a],
      [a, b],
      [b, null],
    ]);
  });

  it('rejects a domainLo outside bigint', () => {
    assert.throws(() => planChunks({ domainLo: MAX_KEY + 1n, domainHi: null, chunkStarts: [], totalRows: 0n }), {
      name: 'RangeError',
      message: 'domainLo 9223372036854775808 is outside bigint',
    });
    assert.throws(() => planChunks({ domainLo: MIN_KEY - 1n, domainHi: null, chunkStarts: [], totalRows: 0n }), {
      name: 'RangeError',
      message: 'domainLo -9223372036854775809 is outside bigint',
    });
  });

  it('plans the incremental case: domainLo = high-water mark + 1, no upper bound', () => {
    const hwm = 1000n;
    assert.deepEqual(planChunks({ domainLo: hwm + 1n, domainHi: null, chunkStarts: [1500n], totalRows: 15n, rowsPerChunk: 10n }), [
      { lo: 1001n, hi: 1500n, rowsPlanned: 10n },
      { lo: 1500n, hi: null, rowsPlanned: 5n },
    ]);
  });
});

describe('startsFromSample', () => {
  const sample = [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n];

  it('takes every (chunkRows x fraction)-th sampled key, skipping the first', () => {
    assert.deepEqual(startsFromSample(sample, 0.5, 4), [2n, 4n, 6n, 8n]);
    assert.deepEqual(startsFromSample(sample, 1, 3), [3n, 6n, 9n]);
  });

  it('rounds keys-per-chunk to the nearest whole number', () => {
    assert.deepEqual(startsFromSample(sample, 0.01, 250), [3n, 6n, 9n]);
    assert.deepEqual(startsFromSample(sample, 0.01, 249), [2n, 4n, 6n, 8n]);
  });

  it('takes at least every key when chunkRows x fraction rounds below 1', () => {
    assert.deepEqual(startsFromSample(sample, 0.001, 100), sample.slice(1));
  });

  it('gives no starts when the sample holds one chunk or less', () => {
    assert.deepEqual(startsFromSample(sample, 1, 10), []);
    assert.deepEqual(startsFromSample(sample, 1, 1000), []);
    assert.deepEqual(startsFromSample([], 1, 1), []);
  });

  it('returns the sampled bigints unchanged', () => {
    assert.deepEqual(startsFromSample([MIN_KEY, 2n ** 53n + 1n, MAX_KEY], 1, 1), [2n ** 53n + 1n, MAX_KEY]);
  });

  it('equals every N-th key when the fraction is 1', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => BigInt(i * i));
    for (const n of [1, 2, 7, 100, 999, 1000]) assert.deepEqual(startsFromSample(keys, 1, n), everyNthKey(keys, n));
  });
});

type KeyShape = 'dense' | 'sparse' | 'skewed' | 'negative' | 'extremes';
const SHAPES: KeyShape[] = ['dense', 'sparse', 'skewed', 'negative', 'extremes'];

function randomKeys(random: () => number, shape: KeyShape, count: number): bigint[] {
  const keys = new Set<bigint>();
  const add = (k: bigint) => {
    if (k >= MIN_KEY && k <= MAX_KEY) keys.add(k);
  };
  const base = randomBigint(random, -1_000_000n, 1_000_000n);
  while (keys.size < count) {
    switch (shape) {
      case 'dense':
        add(base + randomBigint(random, 0n, BigInt(count) * 2n));
        break;
      case 'sparse':
        add(randomBigint(random, -(10n ** 15n), 10n ** 15n));
        break;
      case 'skewed':
        // 99% in one dense block, 1% spread up to 1e15.
        add(random() < 0.99 ? base + randomBigint(random, 0n, BigInt(count)) : randomBigint(random, 0n, 10n ** 15n));
        break;
      case 'negative':
        add(-randomBigint(random, 1n, 10n ** 12n));
        break;
      case 'extremes':
        add(random() < 0.5 ? MIN_KEY + randomBigint(random, 0n, 50n) : MAX_KEY - randomBigint(random, 0n, 50n));
        if (keys.size < count && random() < 0.2) add(randomBigint(random, MIN_KEY, MAX_KEY));
        break;
    }
  }
  return [...keys].sort(compareBigint);
}

describe('planChunks on random key sets (seeded)', () => {
  it('with starts every N-th key: ranges are contiguous, hold exactly N keys each but the last (1..N), and rowsPlanned is exact', () => {
    const random = prng(20240601);
    let trials = 0;
    for (let trial = 0; trial < 300; trial++) {
      const shape = SHAPES[trial % SHAPES.length]!;
      const count = shape === 'extremes' ? 1 + Math.floor(random() * 90) : 1 + Math.floor(random() * 3000);
      const keys = randomKeys(random, shape, count);
      const n = 1 + Math.floor(random() * (random() < 0.3 ? 10 : 400));
      const starts = everyNthKey(keys, n);
      const lowest = keys[0]!;
      const domainLo = trial % 3 === 0 ? MIN_KEY : trial % 3 === 1 ? lowest : lowest - randomBigint(random, 0n, lowest - MIN_KEY);
      const highest = keys.at(-1)!;
      const domainHi = trial % 2 === 0 || highest === MAX_KEY ? null : highest + 1n + randomBigint(random, 0n, MAX_KEY - highest - 1n);
      const label = `trial ${trial} (${shape}, ${keys.length} keys, N=${n}, domain [${domainLo}, ${domainHi ?? '+inf'}))`;

      const ranges = planChunks({ domainLo, domainHi, chunkStarts: starts, totalRows: BigInt(keys.length), rowsPerChunk: BigInt(n) });
      assertCoversDomain(ranges, domainLo, domainHi);
      assert.equal(ranges.length, Math.ceil(keys.length / n), label);
      const counts = countPerRange(ranges, keys);
      assert.equal(counts.reduce((a, b) => a + b, 0), keys.length, `${label}: every key in exactly one range`);
      assertExactlyNPerChunk(counts, n, label);
      for (let i = 0; i < ranges.length; i++) assert.equal(ranges[i]!.rowsPlanned, BigInt(counts[i]!), `${label}: rowsPlanned of range ${i}`);
      trials += 1;
    }
    assert.equal(trials, 300);
  });

  it('for an incremental run above a high-water mark: ranges hold exactly N of the new keys each but the last (1..N)', () => {
    const random = prng(7);
    for (let trial = 0; trial < 100; trial++) {
      const all = randomKeys(random, SHAPES[trial % 4]!, 2 + Math.floor(random() * 2000));
      const hwm = all[Math.floor(random() * (all.length - 1))]!;
      const fresh = all.filter((k) => k > hwm);
      const n = 1 + Math.floor(random() * 200);
      const ranges = planChunks({ domainLo: hwm + 1n, domainHi: null, chunkStarts: everyNthKey(fresh, n), totalRows: BigInt(fresh.length), rowsPerChunk: BigInt(n) });
      assertCoversDomain(ranges, hwm + 1n, null);
      const counts = countPerRange(ranges, fresh);
      assert.equal(counts.reduce((a, b) => a + b, 0), fresh.length);
      assertExactlyNPerChunk(counts, n, `trial ${trial} (N=${n})`);
      for (let i = 0; i < ranges.length; i++) assert.equal(ranges[i]!.rowsPlanned, BigInt(counts[i]!));
    }
  });

  it('with starts from a sample: ranges are contiguous and hold 1..perChunk sampled keys each', () => {
    const random = prng(99);
    for (let trial = 0; trial < 100; trial++) {
      const sample = randomKeys(random, SHAPES[trial % SHAPES.length]!, 1 + Math.floor(random() * 1000));
      const fraction = [0.001, 0.01, 0.1, 1][trial % 4]!;
      const chunkRows = 1 + Math.floor(random() * 20_000);
      const perChunk = Math.max(1, Math.round(chunkRows * fraction));
      const ranges = planChunks({ domainLo: MIN_KEY, domainHi: null, chunkStarts: startsFromSample(sample, fraction, chunkRows), totalRows: 1n });
      assertCoversDomain(ranges, MIN_KEY, null);
      const counts = countPerRange(ranges, sample);
      assert.equal(counts.reduce((a, b) => a + b, 0), sample.length);
      for (const c of counts) assert.ok(c >= 1 && c <= perChunk, `trial ${trial}: ${c} sampled keys, perChunk ${perChunk}`);
    }
  });
});
