// plan.ts on the current core (keys as text arrays, planned rows per chunk). plan.test.ts still
// tests the bigint planner of before and is being ported on another branch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planChunks, sampleFraction, sampleRowRate } from '../../../lambdas/coordinator/plan.ts';

describe('planChunks', () => {
  it('plans one chunk over the whole domain when there are no rows, ignoring the chunk starts', () => {
    assert.deepEqual(planChunks({ domainLo: null, domainHi: null, chunkStarts: [['5']], totalRows: 0n, rowsPerChunk: 10n }), [{ lo: null, hi: null, rowsPlanned: 0n }]);
    assert.deepEqual(planChunks({ domainLo: ['1'], domainHi: ['9'], chunkStarts: [], totalRows: 0n }), [{ lo: ['1'], hi: ['9'], rowsPlanned: 0n }]);
  });

  it('cuts the domain at each chunk start, the last chunk taking what is left of the rows', () => {
    assert.deepEqual(planChunks({ domainLo: null, domainHi: null, chunkStarts: [['10'], ['20']], totalRows: 25n, rowsPerChunk: 10n }), [
      { lo: null, hi: ['10'], rowsPlanned: 10n },
      { lo: ['10'], hi: ['20'], rowsPlanned: 10n },
      { lo: ['20'], hi: null, rowsPlanned: 5n },
    ]);
  });

  it('plans no negative rows for the last chunk when the estimate ran over', () => {
    const plan = planChunks({ domainLo: ['0'], domainHi: ['100'], chunkStarts: [['50']], totalRows: 15n, rowsPerChunk: 20n });
    assert.deepEqual(plan, [{ lo: ['0'], hi: ['50'], rowsPlanned: 20n }, { lo: ['50'], hi: ['100'], rowsPlanned: 0n }]);
  });

  it('plans exactly zero rows for a last chunk the others used up', () => {
    const plan = planChunks({ domainLo: null, domainHi: null, chunkStarts: [['a'], ['b']], totalRows: 20n, rowsPerChunk: 10n });
    assert.equal(plan.at(-1)!.rowsPlanned, 0n);
  });

  it('leaves rowsPlanned out without a rows-per-chunk figure', () => {
    const plan = planChunks({ domainLo: null, domainHi: null, chunkStarts: [['x', '1']], totalRows: 7n });
    assert.deepEqual(plan, [{ lo: null, hi: ['x', '1'] }, { lo: ['x', '1'], hi: null }]);
    assert.ok(plan.every((r) => !('rowsPlanned' in r)));
  });

  it('drops a start that repeats the previous one or the domain start', () => {
    const plan = planChunks({ domainLo: ['1'], domainHi: null, chunkStarts: [['1'], ['3'], ['3'], ['5']], totalRows: 30n, rowsPerChunk: 10n });
    assert.deepEqual(plan, [
      { lo: ['1'], hi: ['3'], rowsPlanned: 10n },
      { lo: ['3'], hi: ['5'], rowsPlanned: 10n },
      { lo: ['5'], hi: null, rowsPlanned: 10n },
    ]);
  });

  it('keeps a first start when the domain is unbounded below', () => {
    const plan = planChunks({ domainLo: null, domainHi: null, chunkStarts: [['1'], ['1']], totalRows: 4n });
    assert.deepEqual(plan, [{ lo: null, hi: ['1'] }, { lo: ['1'], hi: null }]);
  });
});

describe('sampleFraction', () => {
  it('samples everything when the table looks empty', () => {
    assert.equal(sampleFraction(0, 10, 100), 1);
    assert.equal(sampleFraction(-1, 10, 100), 1);
    assert.equal(sampleFraction(1000, 0, 100), 1);
    assert.equal(sampleFraction(1000, -5, 100), 1);
    assert.equal(sampleFraction(0, 1000, 100), 1);
    assert.equal(sampleFraction(-1, 1000, 100), 1);
  });

  it('takes about 30 pages per chunk', () => {
    // 100 chunks of 100,000 rows over 100,000 pages: 3,000 pages.
    assert.equal(sampleFraction(10_000_000, 100_000, 100_000), 0.03);
  });

  it('takes at least 100 pages', () => {
    assert.equal(sampleFraction(100_000, 10_000, 100_000), 0.01);
  });

  it('takes at most every page', () => {
    assert.equal(sampleFraction(1_000_000, 50, 100), 1);
    assert.equal(sampleFraction(1, 1, 1), 1);
  });
});

describe('sampleRowRate', () => {
  it('keeps every row when the table looks empty', () => {
    assert.equal(sampleRowRate(0, 10), 1);
    assert.equal(sampleRowRate(-1, 10), 1);
    assert.equal(sampleRowRate(1000, 0), 1);
    assert.equal(sampleRowRate(1000, -5), 1);
  });

  it('keeps about 10 rows a page', () => {
    assert.equal(sampleRowRate(10_000_000, 100_000), 0.1);
    assert.equal(sampleRowRate(4_000_000, 20_000), 0.05);
  });

  it('keeps every row of pages of 10 rows or fewer', () => {
    assert.equal(sampleRowRate(1_000_000, 100_000), 1);
    assert.equal(sampleRowRate(100_000, 100_000), 1);
  });
});
