// Pure chunk planning: chunk starts -> contiguous key ranges over the domain. Keys are each key
// column's text (keys of any type); the tests use bigint keys, sorted as PostgreSQL would hand them
// over, and compare them as bigints only to check the ranges.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planChunks } from '../../../lambdas/coordinator/plan.ts';
import type { KeyValue } from '../../../lambdas/shared/keys.ts';
import type { ChunkRange } from '../../../lambdas/shared/ledger.ts';
import { prng } from '../../support/prng.ts';

const MIN_BIGINT = -(2n ** 63n);
const MAX_BIGINT = 2n ** 63n - 1n;

/** A bigint key as planning gets it from PostgreSQL: its text. */
const k = (n: bigint): KeyValue => [n.toString()];
const big = (key: KeyValue | null): bigint | null => (key === null ? null : BigInt(key[0]!));

/** A uniform bigint in [lo, hi] from 64 random bits (bias is irrelevant here). */
function randomBigint(random: () => number, lo: bigint, hi: bigint): bigint {
  const bits = (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32));
  return lo + (bits % (hi - lo + 1n));
}

function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every N-th key in key order, skipping the first: what planSource's `(rn - 1) % N = 0 AND rn > 1` returns. */
function everyNthKey(sortedKeys: readonly bigint[], n: number): bigint[] {
  return sortedKeys.filter((_, i) => i > 0 && i % n === 0);
}

/** Keys of `sortedKeys` in each range, by one sweep. */
function countPerRange(ranges: readonly ChunkRange[], sortedKeys: readonly bigint[]): number[] {
  const counts: number[] = [];
  let j = 0;
  for (const r of ranges) {
    const lo = big(r.lo);
    const hi = big(r.hi);
    while (j < sortedKeys.length && lo !== null && sortedKeys[j]! < lo) j += 1;
    let count = 0;
    while (j < sortedKeys.length && (hi === null || sortedKeys[j]! < hi)) {
      count += 1;
      j += 1;
    }
    counts.push(count);
  }
  return counts;
}

/** The domain is covered exactly: first lo, last hi, each range non-empty and touching the next. */
function assertCoversDomain(ranges: readonly ChunkRange[], domainLo: bigint | null, domainHi: bigint | null): void {
  assert.ok(ranges.length > 0);
  assert.equal(big(ranges[0]!.lo), domainLo);
  assert.equal(big(ranges.at(-1)!.hi), domainHi);
  for (let i = 0; i < ranges.length; i++) {
    const lo = big(ranges[i]!.lo);
    const hi = big(ranges[i]!.hi);
    if (lo !== null && hi !== null) assert.ok(lo < hi, `range ${i} [${lo}, ${hi}) is empty`);
    if (i > 0) assert.notEqual(lo, null, `only the first range may be unbounded below (range ${i})`);
    if (i < ranges.length - 1) {
      assert.notEqual(hi, null, `only the last range may be unbounded above (range ${i})`);
      assert.equal(big(ranges[i + 1]!.lo), hi, `gap or overlap after range ${i}`);
    }
  }
}

/** What the README promises for boundaries taken every N-th key: N keys per chunk, the last 1..N. */
function assertExactlyNPerChunk(counts: readonly number[], n: number, label: string): void {
  const last = counts.length - 1;
  for (let i = 0; i < last; i++) assert.equal(counts[i], n, `${label}: range ${i} of ${counts.length} holds ${counts[i]} keys`);
  assert.ok(counts[last]! >= 1 && counts[last]! <= n, `${label}: the last range holds ${counts[last]} keys`);
}

function bounds(ranges: readonly ChunkRange[]): [string | null, string | null][] {
  return ranges.map((r) => [r.lo?.[0] ?? null, r.hi?.[0] ?? null]);
}

describe('planChunks', () => {
  it('gives one chunk over the whole domain when there are no starts', () => {
    assert.deepEqual(planChunks({ domainLo: null, domainHi: null, chunkStarts: [], totalRows: 50n, rowsPerChunk: 100n }), [
      { lo: null, hi: null, rowsPlanned: 50n },
    ]);
  });

  it('cuts the domain at every start, first lo = domainLo and last hi = domainHi', () => {
    assert.deepEqual(planChunks({ domainLo: k(0n), domainHi: k(100n), chunkStarts: [k(10n), k(20n), k(70n)], totalRows: 40n, rowsPerChunk: 10n }), [
      { lo: k(0n), hi: k(10n), rowsPlanned: 10n },
      { lo: k(10n), hi: k(20n), rowsPlanned: 10n },
      { lo: k(20n), hi: k(70n), rowsPlanned: 10n },
      { lo: k(70n), hi: k(100n), rowsPlanned: 10n },
    ]);
  });

  it('leaves rowsPlanned out when rowsPerChunk is not given', () => {
    const ranges = planChunks({ domainLo: k(0n), domainHi: null, chunkStarts: [k(5n)], totalRows: 9n });
    assert.deepEqual(ranges, [{ lo: k(0n), hi: k(5n) }, { lo: k(5n), hi: null }]);
    assert.equal(ranges.some((r) => Object.hasOwn(r, 'rowsPlanned')), false);
  });

  it('gives the last chunk the rows left over, so rowsPlanned sums to totalRows', () => {
    const ranges = planChunks({ domainLo: null, domainHi: null, chunkStarts: [k(10n), k(20n)], totalRows: 25n, rowsPerChunk: 10n });
    assert.deepEqual(ranges.map((r) => r.rowsPlanned), [10n, 10n, 5n]);
  });

  it('drops repeated starts and gives their rows to the last chunk', () => {
    const ranges = planChunks({ domainLo: k(0n), domainHi: null, chunkStarts: [k(10n), k(10n), k(20n), k(20n), k(20n)], totalRows: 45n, rowsPerChunk: 10n });
    assert.deepEqual(ranges, [
      { lo: k(0n), hi: k(10n), rowsPlanned: 10n },
      { lo: k(10n), hi: k(20n), rowsPlanned: 10n },
      { lo: k(20n), hi: null, rowsPlanned: 25n },
    ]);
  });

  it('drops a start equal to domainLo, which would make an empty chunk', () => {
    assert.deepEqual(bounds(planChunks({ domainLo: k(100n), domainHi: null, chunkStarts: [k(100n), k(150n)], totalRows: 10n })), [
      ['100', '150'],
      ['150', null],
    ]);
  });

  it('compares keys by their text only: composite keys, and text that is no number', () => {
    const ranges = planChunks({ domainLo: null, domainHi: null, chunkStarts: [['t1', '7'], ['t1', '7'], ['t2', '0']], totalRows: 3n });
    assert.deepEqual(ranges, [{ lo: null, hi: ['t1', '7'] }, { lo: ['t1', '7'], hi: ['t2', '0'] }, { lo: ['t2', '0'], hi: null }]);
  });

  it('gives one chunk over the whole domain with 0 rows planned when there are no rows, ignoring starts', () => {
    assert.deepEqual(planChunks({ domainLo: k(5n), domainHi: null, chunkStarts: [k(10n), k(20n)], totalRows: 0n, rowsPerChunk: 10n }), [
      { lo: k(5n), hi: null, rowsPlanned: 0n },
    ]);
    assert.deepEqual(planChunks({ domainLo: null, domainHi: k(7n), chunkStarts: [], totalRows: 0n }), [
      { lo: null, hi: k(7n), rowsPlanned: 0n },
    ]);
  });

  it('covers the whole bigint domain, including a start at the largest bigint', () => {
    assert.deepEqual(bounds(planChunks({ domainLo: null, domainHi: null, chunkStarts: [k(MIN_BIGINT + 1n), k(-1n), k(MAX_BIGINT)], totalRows: 3n })), [
      [null, '-9223372036854775807'],
      ['-9223372036854775807', '-1'],
      ['-1', '9223372036854775807'],
      ['9223372036854775807', null],
    ]);
  });

  it('keeps keys above 2^53 exact', () => {
    const a = 2n ** 53n + 1n;
    const b = 2n ** 53n + 3n;
    assert.deepEqual(bounds(planChunks({ domainLo: k(2n ** 53n), domainHi: null, chunkStarts: [k(a), k(b)], totalRows: 3n })), [
      ['9007199254740992', '9007199254740993'],
      ['9007199254740993', '9007199254740995'],
      ['9007199254740995', null],
    ]);
  });

  it('plans an append run: from domainLo (the keys above the last run), no upper bound', () => {
    assert.deepEqual(planChunks({ domainLo: k(1001n), domainHi: null, chunkStarts: [k(1500n)], totalRows: 15n, rowsPerChunk: 10n }), [
      { lo: k(1001n), hi: k(1500n), rowsPlanned: 10n },
      { lo: k(1500n), hi: null, rowsPlanned: 5n },
    ]);
  });
});

type KeyShape = 'dense' | 'sparse' | 'skewed' | 'negative' | 'extremes';
const SHAPES: KeyShape[] = ['dense', 'sparse', 'skewed', 'negative', 'extremes'];

function randomKeys(random: () => number, shape: KeyShape, count: number): bigint[] {
  const keys = new Set<bigint>();
  const add = (key: bigint) => {
    if (key >= MIN_BIGINT && key <= MAX_BIGINT) keys.add(key);
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
        add(random() < 0.5 ? MIN_BIGINT + randomBigint(random, 0n, 50n) : MAX_BIGINT - randomBigint(random, 0n, 50n));
        if (keys.size < count && random() < 0.2) add(randomBigint(random, MIN_BIGINT, MAX_BIGINT));
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
      const domainLo = trial % 3 === 0 ? null : trial % 3 === 1 ? lowest : lowest - randomBigint(random, 0n, lowest - MIN_BIGINT);
      const highest = keys.at(-1)!;
      const domainHi = trial % 2 === 0 || highest === MAX_BIGINT ? null : highest + 1n + randomBigint(random, 0n, MAX_BIGINT - highest - 1n);
      const label = `trial ${trial} (${shape}, ${keys.length} keys, N=${n}, domain [${domainLo ?? '-inf'}, ${domainHi ?? '+inf'}))`;

      const ranges = planChunks({
        domainLo: domainLo === null ? null : k(domainLo), domainHi: domainHi === null ? null : k(domainHi), chunkStarts: starts.map(k),
        totalRows: BigInt(keys.length), rowsPerChunk: BigInt(n),
      });
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

  it('for an append run above a high-water mark: ranges hold exactly N of the new keys each but the last (1..N)', () => {
    const random = prng(7);
    for (let trial = 0; trial < 100; trial++) {
      const all = randomKeys(random, SHAPES[trial % 4]!, 2 + Math.floor(random() * 2000));
      const hwm = all[Math.floor(random() * (all.length - 1))]!;
      const fresh = all.filter((key) => key > hwm);
      const n = 1 + Math.floor(random() * 200);
      // The domain starts at the first key above the mark (planChunks takes domainLo as given).
      const ranges = planChunks({ domainLo: k(fresh[0]!), domainHi: null, chunkStarts: everyNthKey(fresh, n).map(k), totalRows: BigInt(fresh.length), rowsPerChunk: BigInt(n) });
      assertCoversDomain(ranges, fresh[0]!, null);
      const counts = countPerRange(ranges, fresh);
      assert.equal(counts.reduce((a, b) => a + b, 0), fresh.length);
      assertExactlyNPerChunk(counts, n, `trial ${trial} (N=${n})`);
      for (let i = 0; i < ranges.length; i++) assert.equal(ranges[i]!.rowsPlanned, BigInt(counts[i]!));
    }
  });
});
