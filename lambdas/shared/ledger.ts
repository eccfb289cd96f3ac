// The run ledger (schema `etl`): runs, their chunks and their progress. Every statement that reads
// or writes the ledger lives here; callers pass the client so it can join their transaction.
import type { RunMode } from './config.ts';
import { inTransaction, queryAll, sqlLiteral, type PoolClient } from './db.ts';
import { RunStateError } from './errors.ts';
import { keyFromDb } from './keys.ts';
import { chunkKey } from './messages.ts';
import type { ChunkRange } from '../coordinator/plan.ts';

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';
export type ChunkStatus = 'pending' | 'done' | 'failed';

export interface NewRun {
  pipeline: string;
  mode: RunMode;
  sourceTable: string;
  targetTable: string;
  keyColumn: string;
  chunkRows: number;
  lo: bigint;
  hi: bigint | null;
  highWaterMark: bigint | null;
  rowsPlanned: bigint;
  chunks: readonly ChunkRange[];
}

export interface RunRow {
  runId: string;
  pipeline: string;
  mode: RunMode;
  status: RunStatus;
  sourceTable: string;
  targetTable: string;
  keyColumn: string;
  chunkRows: number;
  highWaterMark: bigint | null;
  rowsPlanned: bigint;
  chunksTotal: number;
  chunksDone: number;
  chunksFailed: number;
  chunksEnqueued: number;
  enqueueComplete: boolean;
  rowsRead: bigint | null;
  rowsWritten: bigint | null;
  rowsRejected: bigint | null;
  retries: number | null;
  createdAt: Date;
  heartbeatAt: Date;
  finishedAt: Date | null;
  lastError: string | null;
}

const RUN_COLUMNS = `run_id, pipeline, mode, status, source_table, target_table, key_column, chunk_rows,
  high_water_mark::text, rows_planned::text, chunks_total, chunks_done, chunks_failed, chunks_enqueued, enqueue_complete,
  rows_read::text, rows_written::text, rows_rejected::text, retries, created_at, heartbeat_at, finished_at, last_error`;

interface RawRun {
  run_id: string;
  pipeline: string;
  mode: RunMode;
  status: RunStatus;
  source_table: string;
  target_table: string;
  key_column: string;
  chunk_rows: number;
  high_water_mark: string | null;
  rows_planned: string;
  chunks_total: number;
  chunks_done: number;
  chunks_failed: number;
  chunks_enqueued: number;
  enqueue_complete: boolean;
  rows_read: string | null;
  rows_written: string | null;
  rows_rejected: string | null;
  retries: number | null;
  created_at: Date;
  heartbeat_at: Date;
  finished_at: Date | null;
  last_error: string | null;
}

function toRun(r: RawRun): RunRow {
  return {
    runId: r.run_id,
    pipeline: r.pipeline,
    mode: r.mode,
    status: r.status,
    sourceTable: r.source_table,
    targetTable: r.target_table,
    keyColumn: r.key_column,
    chunkRows: r.chunk_rows,
    highWaterMark: keyFromDb(r.high_water_mark),
    rowsPlanned: BigInt(r.rows_planned),
    chunksTotal: r.chunks_total,
    chunksDone: r.chunks_done,
    chunksFailed: r.chunks_failed,
    chunksEnqueued: r.chunks_enqueued,
    enqueueComplete: r.enqueue_complete,
    rowsRead: keyFromDb(r.rows_read),
    rowsWritten: keyFromDb(r.rows_written),
    rowsRejected: keyFromDb(r.rows_rejected),
    retries: r.retries,
    createdAt: r.created_at,
    heartbeatAt: r.heartbeat_at,
    finishedAt: r.finished_at,
    lastError: r.last_error,
  };
}

export type CreateRunResult = { created: true; run: RunRow } | { created: false; run: RunRow };

/**
 * Record a run and all its chunks in one transaction: a crash leaves either nothing or a whole
 * plan. When another run of the pipeline is active, nothing is created and that run is returned.
 */
export async function createRun(client: PoolClient, run: NewRun): Promise<CreateRunResult> {
  const runId = await inTransaction(client, async () => {
    const inserted = await client.query<{ run_id: string }>(
      `INSERT INTO etl.runs (pipeline, mode, status, source_table, target_table, key_column, chunk_rows, lo, hi,
                             high_water_mark, rows_planned, chunks_total, planned_at)
       VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, $8, $9, $10, $11, clock_timestamp())
       ON CONFLICT (pipeline) WHERE status = 'running' DO NOTHING
       RETURNING run_id`,
      [run.pipeline, run.mode, run.sourceTable, run.targetTable, run.keyColumn, run.chunkRows, run.lo.toString(),
        run.hi?.toString() ?? null, run.highWaterMark?.toString() ?? null, run.rowsPlanned.toString(), run.chunks.length],
    );
    const created = inserted.rows[0]?.run_id;
    if (created === undefined) return undefined;
    const BATCH = 50_000;
    for (let i = 0; i < run.chunks.length; i += BATCH) {
      const part = run.chunks.slice(i, i + BATCH);
      await client.query(
        `INSERT INTO etl.chunks (run_id, chunk_no, lo, hi, rows_planned)
         SELECT $1, n, lo, hi, rows FROM unnest($2::int[], $3::bigint[], $4::bigint[], $5::bigint[]) AS c(n, lo, hi, rows)`,
        [created, part.map((_, j) => i + j), part.map((c) => c.lo.toString()), part.map((c) => c.hi?.toString() ?? null),
          part.map((c) => c.rowsPlanned?.toString() ?? null)],
      );
    }
    if (run.chunks.length === 0) {
      // Nothing to move: the run is complete the moment it exists.
      await client.query(
        `UPDATE etl.runs SET status = 'completed', enqueue_complete = true, enqueued_at = clock_timestamp(), finished_at = clock_timestamp(),
                rows_read = 0, rows_written = 0, rows_rejected = 0, retries = 0 WHERE run_id = $1`,
        [created],
      );
    }
    return created;
  });
  if (runId !== undefined) return { created: true, run: await getRun(client, runId) };
  const active = await activeRun(client, run.pipeline);
  if (active === undefined) throw new RunStateError(`a run of ${run.pipeline} was active a moment ago and is gone: trigger again.`);
  return { created: false, run: active };
}

export async function findRun(client: PoolClient, runId: string): Promise<RunRow | undefined> {
  const { rows } = await client.query<RawRun>(`SELECT ${RUN_COLUMNS} FROM etl.runs WHERE run_id = $1`, [runId]);
  return rows[0] && toRun(rows[0]);
}

export async function getRun(client: PoolClient, runId: string): Promise<RunRow> {
  const run = await findRun(client, runId);
  if (run === undefined) throw new RunStateError(`run ${runId} is not in the ledger: list runs with \`pg-fanout status\`.`);
  return run;
}

export async function activeRun(client: PoolClient, pipeline: string): Promise<RunRow | undefined> {
  const { rows } = await client.query<RawRun>(`SELECT ${RUN_COLUMNS} FROM etl.runs WHERE pipeline = $1 AND status = 'running'`, [pipeline]);
  return rows[0] && toRun(rows[0]);
}

export async function latestRun(client: PoolClient, pipeline?: string): Promise<RunRow | undefined> {
  const { rows } = await client.query<RawRun>(
    `SELECT ${RUN_COLUMNS} FROM etl.runs WHERE $1::text IS NULL OR pipeline = $1 ORDER BY created_at DESC LIMIT 1`,
    [pipeline ?? null],
  );
  return rows[0] && toRun(rows[0]);
}

/** The key up to which the last completed run read: where an incremental run starts. */
export async function lastHighWaterMark(client: PoolClient, pipeline: string): Promise<bigint | null> {
  const { rows } = await client.query<{ hwm: string | null }>(
    `SELECT high_water_mark::text AS hwm FROM etl.runs
      WHERE pipeline = $1 AND status = 'completed' AND high_water_mark IS NOT NULL
      ORDER BY finished_at DESC LIMIT 1`,
    [pipeline],
  );
  return keyFromDb(rows[0]?.hwm ?? null);
}

export interface ChunkRow {
  runId: string;
  chunkNo: number;
  lo: bigint;
  hi: bigint | null;
  status: ChunkStatus;
  attempts: number;
  rowsRead: bigint | null;
  rowsWritten: bigint | null;
  rowsRejected: bigint | null;
  lastError: string | null;
  enqueued: boolean;
}

const CHUNK_COLUMNS = `run_id, chunk_no, lo::text, hi::text, status, attempts, rows_read::text, rows_written::text, rows_rejected::text,
  last_error, enqueued_at IS NOT NULL AS enqueued`;

/** Chunks not done (optionally only those never enqueued), in chunk order, `limit` at a time after `afterChunk`. */
export async function chunksToSend(
  client: PoolClient,
  runId: string,
  options: { onlyNeverEnqueued: boolean; afterChunk: number; limit: number },
): Promise<ChunkRow[]> {
  const { rows } = await client.query(
    `SELECT ${CHUNK_COLUMNS}
       FROM etl.chunks
      WHERE run_id = $1 AND status <> 'done' AND chunk_no > $2 AND (NOT $3::boolean OR enqueued_at IS NULL)
      ORDER BY chunk_no LIMIT $4`,
    [runId, options.afterChunk, options.onlyNeverEnqueued, options.limit],
  );
  return rows.map(toChunk);
}

export async function listChunks(client: PoolClient, runId: string, filter: { status?: ChunkStatus } = {}): Promise<ChunkRow[]> {
  const { rows } = await client.query(
    `SELECT ${CHUNK_COLUMNS}
       FROM etl.chunks WHERE run_id = $1 AND ($2::text IS NULL OR status = $2) ORDER BY chunk_no`,
    [runId, filter.status ?? null],
  );
  return rows.map(toChunk);
}

function toChunk(r: Record<string, unknown>): ChunkRow {
  return {
    runId: r.run_id as string,
    chunkNo: r.chunk_no as number,
    lo: BigInt(r.lo as string),
    hi: keyFromDb(r.hi as string | null),
    status: r.status as ChunkStatus,
    attempts: r.attempts as number,
    rowsRead: keyFromDb(r.rows_read as string | null),
    rowsWritten: keyFromDb(r.rows_written as string | null),
    rowsRejected: keyFromDb(r.rows_rejected as string | null),
    lastError: r.last_error as string | null,
    enqueued: r.enqueued as boolean,
  };
}

export async function markEnqueued(client: PoolClient, runId: string, chunkNos: readonly number[]): Promise<void> {
  await client.query(
    `WITH marked AS (
       UPDATE etl.chunks SET enqueued_at = clock_timestamp()
        WHERE run_id = $1 AND chunk_no = ANY($2::int[]) AND enqueued_at IS NULL RETURNING 1)
     UPDATE etl.runs SET chunks_enqueued = chunks_enqueued + (SELECT count(*) FROM marked), heartbeat_at = clock_timestamp()
      WHERE run_id = $1`,
    [runId, chunkNos],
  );
}

export async function markEnqueueComplete(client: PoolClient, runId: string): Promise<void> {
  await client.query(
    `UPDATE etl.runs SET enqueue_complete = true, enqueued_at = coalesce(enqueued_at, clock_timestamp()), heartbeat_at = clock_timestamp()
      WHERE run_id = $1`,
    [runId],
  );
}

// ---- chunk lifecycle, used by the worker's chunk operation ----

/** Inside the chunk's transaction: lock the chunk row so concurrent copies of one chunk serialise. */
export async function lockChunk(client: PoolClient, runId: string, chunkNo: number): Promise<ChunkStatus> {
  const { rows } = await client.query<{ status: ChunkStatus }>(
    'SELECT status FROM etl.chunks WHERE run_id = $1 AND chunk_no = $2 FOR UPDATE',
    [runId, chunkNo],
  );
  const row = rows[0];
  if (row === undefined) throw new RunStateError(`chunk ${chunkNo} of run ${runId} is not in the ledger.`);
  return row.status;
}

/** The chunk as its ledger row has it, locked in the chunk's transaction. */
export interface LockedChunk {
  lo: bigint;
  hi: bigint | null;
  status: ChunkStatus;
}

/** A chunk as a message names it. */
export interface ChunkRef {
  runId: string;
  chunkNo: number;
  lo: bigint;
  hi: bigint | null;
}

export interface ChunkCounts {
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  durationMs: number;
}

// A transaction of chunks takes two round trips to the ledger, one before its COPY and one after:
// per-chunk latency and statements are what make small chunks slow, and a worker talks to the
// database across a network.

/**
 * One round trip: counts an attempt for each chunk in its own transaction with an asynchronous
 * commit (a counter lost in a server crash is harmless; a WAL flush there would cost every chunk),
 * then opens the chunks' transaction, locks their rows in chunk order (concurrent copies of a chunk
 * serialise here, and two batches cannot deadlock) and runs the caller's `whilePending` statements
 * for each chunk, each given a guard to AND into its WHERE clause so it does nothing unless that
 * chunk is still pending with exactly the message's range.
 * Returns with that transaction open: each chunk as the ledger has it, undefined when it has not.
 */
export async function beginChunks(
  client: PoolClient,
  chunks: readonly ChunkRef[],
  whilePending: (chunk: ChunkRef, guard: string) => string[] = () => [],
  options: { countAttempts?: boolean } = {},
): Promise<(LockedChunk | undefined)[]> {
  const one = (c: ChunkRef) => `run_id = ${sqlLiteral(c.runId)} AND chunk_no = ${sqlLiteral(c.chunkNo)}`;
  const all = `(run_id, chunk_no) IN (${chunks.map((c) => `(${sqlLiteral(c.runId)}::uuid, ${sqlLiteral(c.chunkNo)})`).join(', ')})`;
  // A new statement in READ COMMITTED sees what a concurrent copy committed while we waited for the lock.
  const guard = (c: ChunkRef) =>
    `EXISTS (SELECT FROM etl.chunks WHERE ${one(c)} AND status <> 'done' AND lo = ${sqlLiteral(c.lo)} AND hi IS NOT DISTINCT FROM ${sqlLiteral(c.hi)})`;
  const results = await queryAll(
    client,
    [
      'BEGIN',
      'SET LOCAL synchronous_commit = off',
      options.countAttempts === false
        ? 'SELECT' // counted already, by a batch transaction that rolled back
        : `UPDATE etl.chunks SET attempts = attempts + CASE WHEN status = 'done' THEN 0 ELSE 1 END,
                started_at = CASE WHEN status = 'done' THEN started_at ELSE clock_timestamp() END
          WHERE ${all}`,
      'COMMIT',
      'BEGIN',
      `SELECT run_id::text, chunk_no, lo::text, hi::text, status FROM etl.chunks WHERE ${all} ORDER BY run_id, chunk_no FOR UPDATE`,
      ...chunks.flatMap((c) => whilePending(c, guard(c))),
    ].join(';\n'),
  );
  const rows = (results[5]?.rows ?? []) as { run_id: string; chunk_no: number; lo: string; hi: string | null; status: ChunkStatus }[];
  const byKey = new Map(rows.map((r) => [chunkKey({ runId: r.run_id, chunkNo: r.chunk_no }), { lo: keyFromDb(r.lo)!, hi: keyFromDb(r.hi), status: r.status }]));
  return chunks.map((c) => byKey.get(chunkKey(c)));
}

export interface CompletedChunk {
  runId: string;
  chunkNo: number;
  /** Its status before this transaction: a chunk marked failed is taken out of its run's failed count. */
  previous: ChunkStatus;
  counts: ChunkCounts;
}

/**
 * One round trip that ends the chunks' transaction: marks them done, counts them in their runs,
 * settles each run whose last chunk this was, and commits. The run row's lock serialises the last
 * chunks, so exactly one of them settles the run. Returns each run's status.
 */
export async function commitChunks(client: PoolClient, chunks: readonly CompletedChunk[]): Promise<Map<string, RunStatus>> {
  const runs = new Map<string, { done: number; unfailed: number }>();
  for (const c of chunks) {
    const run = runs.get(c.runId) ?? { done: 0, unfailed: 0 };
    run.done += 1;
    if (c.previous === 'failed') run.unfailed += 1;
    runs.set(c.runId, run);
  }
  const results = await queryAll(
    client,
    [
      ...chunks.map(
        ({ runId, chunkNo, counts }) =>
          `UPDATE etl.chunks SET status = 'done', rows_read = ${sqlLiteral(counts.rowsRead)}, rows_written = ${sqlLiteral(counts.rowsWritten)},
                  rows_rejected = ${sqlLiteral(counts.rowsRejected)}, duration_ms = ${sqlLiteral(Math.round(counts.durationMs))},
                  finished_at = clock_timestamp(), last_error = NULL
            WHERE run_id = ${sqlLiteral(runId)} AND chunk_no = ${sqlLiteral(chunkNo)}`,
      ),
      ...[...runs].flatMap(([runId, { done, unfailed }]) => [
        `UPDATE etl.runs SET chunks_done = chunks_done + ${done}, chunks_failed = chunks_failed - ${unfailed}, heartbeat_at = clock_timestamp()
          WHERE run_id = ${sqlLiteral(runId)} RETURNING run_id::text, status`,
        settleRunSql(sqlLiteral(runId)),
      ]),
      'COMMIT',
    ].join(';\n'),
  );
  const status = new Map<string, RunStatus>();
  // The run statements come in (bump, settle) pairs after the chunk updates; a settle overrides its bump.
  for (const result of results.slice(chunks.length)) {
    for (const row of result.rows as { run_id: string; status: RunStatus }[]) status.set(row.run_id, row.status);
  }
  for (const runId of runs.keys()) if (!status.has(runId)) throw new RunStateError(`run ${runId} is not in the ledger.`);
  return status;
}

/** After a failed attempt (its transaction rolled back): keep the error; on the last attempt mark the chunk failed. */
export async function recordChunkFailure(client: PoolClient, runId: string, chunkNo: number, error: string, lastAttempt: boolean): Promise<void> {
  await inTransaction(client, async () => {
    const status = await lockChunk(client, runId, chunkNo);
    if (status === 'done') return;
    await client.query(
      `UPDATE etl.chunks SET last_error = $3, status = CASE WHEN $4::boolean THEN 'failed' ELSE status END WHERE run_id = $1 AND chunk_no = $2`,
      [runId, chunkNo, error.slice(0, 4000), lastAttempt],
    );
    if (lastAttempt && status === 'pending') await countFailedChunk(client, runId, error);
  });
}

/** Counts a chunk failed for good in its run, settling the run if it was the last one open. */
async function countFailedChunk(client: PoolClient, runId: string, error: string): Promise<RunStatus> {
  const { rows } = await client.query<{ status: RunStatus }>(
    `UPDATE etl.runs SET chunks_failed = chunks_failed + 1, heartbeat_at = clock_timestamp(), last_error = $2
      WHERE run_id = $1
      RETURNING status`,
    [runId, error],
  );
  const row = rows[0];
  if (row === undefined) throw new RunStateError(`run ${runId} is not in the ledger.`);
  const settled = await client.query<{ status: RunStatus }>(settleRunSql(sqlLiteral(runId)));
  return settled.rows[0]?.status ?? row.status;
}

/**
 * Settles a run whose chunks are all done or failed (and only such a run): completed, or failed
 * if any chunk failed, with its totals summed from the chunks. Returns its status when it settled.
 */
function settleRunSql(run: string): string {
  return `UPDATE etl.runs r SET status = CASE WHEN r.chunks_failed > 0 THEN 'failed' ELSE 'completed' END, finished_at = clock_timestamp(),
            (rows_read, rows_written, rows_rejected, retries) = (
              SELECT coalesce(sum(c.rows_read), 0), coalesce(sum(c.rows_written), 0), coalesce(sum(c.rows_rejected), 0),
                     coalesce(sum(greatest(c.attempts - 1, 0)), 0)
                FROM etl.chunks c WHERE c.run_id = r.run_id),
            last_error = CASE WHEN r.chunks_failed > 0 THEN r.last_error END
      WHERE r.run_id = ${run} AND r.chunks_done + r.chunks_failed = r.chunks_total AND r.status IN ('running', 'failed')
      RETURNING r.run_id::text, r.status`;
}

/** Reopen a failed run whose failed chunks are being redriven, so it can complete. */
export async function reopenRun(client: PoolClient, runId: string): Promise<void> {
  const { rowCount } = await client.query(
    `UPDATE etl.runs SET status = 'running', finished_at = NULL WHERE run_id = $1 AND status = 'failed'
       AND NOT EXISTS (SELECT 1 FROM etl.runs o WHERE o.pipeline = etl.runs.pipeline AND o.status = 'running')`,
    [runId],
  );
  if (rowCount === 0) {
    const run = await getRun(client, runId);
    if (run.status !== 'running') {
      throw new RunStateError(`run ${runId} is ${run.status} and cannot be reopened${run.status === 'failed' ? ' while another run of its pipeline is active' : ''}.`);
    }
  }
  await client.query(
    `UPDATE etl.chunks SET status = 'pending' WHERE run_id = $1 AND status = 'failed'`,
    [runId],
  );
  await client.query(
    `UPDATE etl.runs SET chunks_failed = (SELECT count(*) FROM etl.chunks WHERE run_id = $1 AND status = 'failed') WHERE run_id = $1`,
    [runId],
  );
}

export interface RunProgress {
  chunksDone: number;
  chunksFailed: number;
  chunksTotal: number;
  rowsDone: bigint;
  rowsPlanned: bigint;
}

export async function runProgress(client: PoolClient, runId: string): Promise<RunProgress> {
  const { rows } = await client.query<{ done: number; failed: number; total: number; rows_done: string; rows_planned: string }>(
    `SELECT count(*) FILTER (WHERE status = 'done')::int AS done, count(*) FILTER (WHERE status = 'failed')::int AS failed,
            count(*)::int AS total, coalesce(sum(rows_read) FILTER (WHERE status = 'done'), 0)::text AS rows_done,
            (SELECT rows_planned FROM etl.runs WHERE run_id = $1)::text AS rows_planned
       FROM etl.chunks WHERE run_id = $1`,
    [runId],
  );
  const r = rows[0]!;
  return { chunksDone: r.done, chunksFailed: r.failed, chunksTotal: r.total, rowsDone: BigInt(r.rows_done), rowsPlanned: BigInt(r.rows_planned ?? '0') };
}
