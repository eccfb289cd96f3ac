import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCount, formatDuration, progressLine, rowsPerSecond, type ProgressSnapshot } from '../../../local/progress.ts';

function snapshot(fields: Partial<ProgressSnapshot>): ProgressSnapshot {
  return { chunksDone: 0, chunksFailed: 0, chunksTotal: 4, rowsDone: 0n, rowsTotal: 1000n, elapsedMs: 0, ...fields };
}

describe('rowsPerSecond', () => {
  it('divides rows by elapsed seconds', () => {
    assert.equal(rowsPerSecond(1000n, 2000), 500);
    assert.equal(rowsPerSecond(1n, 4000), 0.25);
    assert.equal(rowsPerSecond(0n, 1000), 0);
  });

  it('is 0 when no time has passed or the clock went backwards', () => {
    assert.equal(rowsPerSecond(1000n, 0), 0);
    assert.equal(rowsPerSecond(1000n, -5), 0);
  });
});

describe('formatDuration', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [499, '0s'],
    [500, '1s'],
    [59_499, '59s'],
    [59_500, '1m00s'],
    [61_000, '1m01s'],
    [605_000, '10m05s'],
    [3_599_499, '59m59s'],
    [3_599_500, '1h00m'],
    [3_659_000, '1h00m'],
    [3_660_000, '1h01m'],
    [90_061_000, '25h01m'],
  ];
  for (const [ms, text] of cases) {
    it(`shows ${ms} ms as ${text}`, () => {
      assert.equal(formatDuration(ms), text);
    });
  }

  it('shows -- for a negative, NaN or infinite duration', () => {
    for (const ms of [-1, -60_000, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) assert.equal(formatDuration(ms), '--');
  });
});

describe('formatCount', () => {
  it('groups thousands with commas for numbers and bigints', () => {
    assert.equal(formatCount(0), '0');
    assert.equal(formatCount(999), '999');
    assert.equal(formatCount(1000), '1,000');
    assert.equal(formatCount(1_234_567), '1,234,567');
    assert.equal(formatCount(1_234_567n), '1,234,567');
    assert.equal(formatCount(-5000), '-5,000');
  });

  it('keeps the fraction of a non-integer to at most three digits', () => {
    assert.equal(formatCount(1234.5678), '1,234.568');
  });

  it(
    'shows a bigint count above 2^53 digit for digit',
    
    () => {
      assert.equal(formatCount(2n ** 53n + 1n), '9,007,199,254,740,993');
      assert.equal(formatCount(9223372036854775807n), '9,223,372,036,854,775,807');
    },
  );
});

describe('progressLine', () => {
  it('shows bar, percent, chunks, failed chunks, rows, rate and ETA', () => {
    assert.equal(
      progressLine(snapshot({ chunksDone: 1, chunksFailed: 1, rowsDone: 250n, elapsedMs: 5000 })),
      '[########......................] 25.0%  chunks 1/4, 1 failed  rows 250/1,000  50 rows/s  ETA 15s',
    );
  });

  it('leaves out the failed count when no chunk failed', () => {
    assert.equal(
      progressLine(snapshot({ chunksDone: 2, rowsDone: 500n, elapsedMs: 10_000 })),
      '[###############...............] 50.0%  chunks 2/4  rows 500/1,000  50 rows/s  ETA 10s',
    );
  });

  it('computes ETA from the rows left at the current rate, in minutes for a large run', () => {
    assert.equal(
      progressLine(snapshot({ chunksDone: 12, chunksTotal: 100, rowsDone: 12_345_678n, rowsTotal: 100_000_000n, elapsedMs: 60_000 })),
      '[####..........................] 12.3%  chunks 12/100  rows 12,345,678/100,000,000  205,761 rows/s  ETA 7m06s',
    );
  });

  it('shows a full bar, 100% and ETA 0s when all rows are done', () => {
    assert.equal(
      progressLine(snapshot({ chunksDone: 4, rowsDone: 1000n, elapsedMs: 2000 })),
      '[##############################] 100.0%  chunks 4/4  rows 1,000/1,000  500 rows/s  ETA 0s',
    );
  });

  it('caps the bar at 100% when more rows were copied than planned', () => {
    assert.equal(
      progressLine(snapshot({ chunksDone: 4, rowsDone: 1500n, elapsedMs: 1000 })),
      '[##############################] 100.0%  chunks 4/4  rows 1,500/1,000  1,500 rows/s  ETA 0s',
    );
  });

  it('shows 100% and ETA 0s when every chunk is done but fewer rows came than a sampled plan estimated', () => {
    assert.equal(
      progressLine(snapshot({ chunksDone: 4, rowsDone: 931n, elapsedMs: 1000 })),
      '[##############################] 100.0%  chunks 4/4  rows 931/1,000  931 rows/s  ETA 0s',
    );
  });

  it('measures progress by rows while no chunk is recorded yet', () => {
    assert.match(progressLine(snapshot({ chunksTotal: 0, chunksDone: 0, rowsDone: 500n, elapsedMs: 1000 })), /^\[#{15}\.{15}\] 50\.0%  chunks 0\/0  rows 500\/1,000  500 rows\/s  ETA 1s$/);
  });

  it('measures progress by chunks when no rows were planned', () => {
    // The ETA is left out: with no rows planned there is no rate to project from.
    assert.match(
      progressLine(snapshot({ chunksDone: 1, rowsTotal: 0n, elapsedMs: 1000 })),
      /^\[########\.{22}\] 25\.0%  chunks 1\/4  rows 0\/0  0 rows\/s  ETA /,
    );
  });

  it('shows 100% for zero chunks and zero rows', () => {
    assert.equal(
      progressLine(snapshot({ chunksTotal: 0, rowsTotal: 0n })),
      '[##############################] 100.0%  chunks 0/0  rows 0/0  0 rows/s  ETA 0s',
    );
  });

  it('draws a bar of the given width', () => {
    assert.equal(
      progressLine(snapshot({ chunksDone: 1, rowsDone: 250n, elapsedMs: 5000 }), 10),
      '[###.......] 25.0%  chunks 1/4  rows 250/1,000  50 rows/s  ETA 15s',
    );
    assert.match(progressLine(snapshot({ rowsDone: 1000n, elapsedMs: 1 }), 0), /^\[\] 100\.0% /);
  });

  it(
    'shows an unknown ETA as -- while rows remain but nothing was copied yet',
    
    () => {
      assert.equal(
        progressLine(snapshot({ rowsDone: 0n, elapsedMs: 5000 })),
        '[..............................] 0.0%  chunks 0/4  rows 0/1,000  0 rows/s  ETA --',
      );
    },
  );
});
