// Transaction snapshots as change capture uses them. Pure.
//
// Each run records the source's `pg_current_snapshot()` (text `xmin:xmax:xip,…`, 64-bit
// transaction ids) before any of its chunks reads. Every row version written by a transaction that
// finished before that snapshot's `xmin` (the oldest transaction still running then) was visible to
// every chunk of that run, which all read later. So the next run only needs the versions written by
// transactions from that `xmin` on: inserts, updates and late commits alike (a transaction that took
// a low id and commits late has an xid ≥ xmin). Versions between xmin and xmax that were in fact
// visible are copied again (harmless: a chunk replaces by key); the xip list is not used, because a
// subtransaction's id is not in it and `pg_visible_in_snapshot` would call it visible.
//
// Rows carry 32-bit xids; `age(xmin)` compares them with the current id in 32-bit arithmetic that is
// exact while the distance is below 2^31, which PostgreSQL's wraparound protection guarantees for
// every unfrozen row. The baseline itself must be that close too: `baselineUsable` checks it, and a
// run too far from its baseline is a full one instead.

export interface Snapshot {
  readonly xmin: bigint;
  readonly xmax: bigint;
  readonly xip: readonly bigint[];
}

export function parseSnapshot(text: string): Snapshot {
  const m = /^(\d+):(\d+):([\d,]*)$/.exec(text.trim());
  if (m === null) throw new TypeError(`not a pg_snapshot: ${JSON.stringify(text)}`);
  const xmin = BigInt(m[1]!);
  const xmax = BigInt(m[2]!);
  if (xmin > xmax) throw new TypeError(`pg_snapshot ${text}: xmin is above xmax`);
  return { xmin, xmax, xip: m[3] === '' ? [] : m[3]!.split(',').map((x) => BigInt(x)) };
}

const XID_SPACE = 2n ** 32n;
/** How far back `age()` stays exact, with a margin for transactions started while a run reads. */
export const MAX_BASELINE_DISTANCE = 2n ** 31n - 50_000_000n;

/**
 * The 32-bit transaction id to compare rows' `age(xmin)` against: the baseline's xmin. Ids 0–2 are
 * special (invalid, bootstrap, frozen) and `age()` of them is INT_MAX, which makes every row count
 * as changed: correct, and it happens once in four billion transactions.
 */
export function baselineXid(snapshot: string | null): string {
  if (snapshot === null) throw new TypeError('an incremental run without a baseline snapshot');
  return (parseSnapshot(snapshot).xmin % XID_SPACE).toString();
}

/** Whether a baseline is near enough to `now` (a current snapshot) for 32-bit comparisons. */
export function baselineUsable(baseline: string, now: string): boolean {
  const b = parseSnapshot(baseline);
  const n = parseSnapshot(now);
  // A baseline from another server (a restored or rebuilt source) can be ahead of it.
  if (b.xmin > n.xmax) return false;
  return n.xmax - b.xmin < MAX_BASELINE_DISTANCE;
}

const INT32 = 2 ** 31;

/**
 * What `age(xmin) BETWEEN 0 AND age(baseline)` computes in SQL (`age()` is the current id minus
 * the given one, as a signed 32-bit number), on 32-bit ids: whether a row version counts as
 * changed since the baseline. The unit tests hold it to the 64-bit truth.
 */
export function changedSince(xmin32: number, baseline32: number, current32: number): boolean {
  const age = (x: number) => (x < 3 ? INT32 - 1 : (((current32 - x) % 2 ** 32) + 2 ** 32 + INT32) % 2 ** 32 - INT32);
  const a = age(xmin32);
  return a >= 0 && a <= age(baseline32);
}
