// The run ledger (schema `etl`, in the target database): runs, their chunks and their progress.
// Every statement that reads or writes runs and chunks lives here (steps: ledger-steps.ts); callers
// pass the client so it can join their transaction.
import type { RunMode } from './config.ts';
import { inTransaction, queryAll, sqlLiteral, type PoolClient } from './db.ts';
import { RunStateError } from './errors.ts';
import { keyArrayLiteral, type KeyRange, type KeyValue } from './keys.ts';
import { chunkKey } from './messages.ts';

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled';
export type RunPhase = 'copy' | 'build' | 'swap';
export type ChunkStatus = 'pending' | 'done' | 'failed';
export type Refresh = 'shadow' | 'in-place';

/** A planned chunk: a key range, and the rows planning expects in it when it knows. */
export interface ChunkRange extends KeyRange {
  readonly rowsPlanned?: bigint;
}

/** Where a run writes one of its pipeline's targets. */
export interface RunTarget {
  /** The pipeline's name for the target. */
  readonly name: string;
  readonly schema: string;
  readonly table: string;
  /** The shadow table a `shadow` full refresh loads (same schema), swapped in at the end. */
  readonly shadow: string | null;
}

export interface NewStep {
  readonly kind: 'build' | 'swap';
  readonly target: string | null;
  readonly description: string;
  readonly statements: readonly string[];
}

export interface NewRun {
  /** Chosen by the caller when it names things after the run (shadow tables); else generated. */
  runId?: string;
  pipeline: string;
  fingerprint: string;
  mode: RunMode;
  refresh: Refresh | null;
  sourceTable: string;
  targets: readonly RunTarget[];
  keyColumns: readonly string[];
  chunkRows: number;
  highWaterMark: KeyValue | null;
  rowsPlanned: bigint;
  chunks: readonly ChunkRange[];
  /** The source's `pg_current_snapshot()` taken before any chunk read: the next incremental run's baseline. */
  sourceSnapshot: string | null;
  /** The snapshot this incremental run captures changes since. */
  baselineSnapshot: string | null;
  steps?: readonly NewStep[];
}

export interface RunRow {
  runId: string;
  pipeline: string;
  fingerprint: string | null;
  mode: RunMode;
  refresh: Refresh | null;
  status: RunStatus;
  phase: RunPhase;
  sourceTable: string;
  targetTable: string;
  targets: RunTarget[];
  keyColumn: string;
  chunkRows: number;
  highWaterMark: KeyValue | null;
  sourceSnapshot: string | null;
  baselineSnapshot: string | null;
  rowsPlanned: bigint;
  chunksTotal: number;
  chunksDone: number;
  chunksFailed: number;
  chunksEnqueued: number;
  enqueueComplete: boolean;
  stepsTotal: number;
  stepsDone: number;
  rowsRead: bigint | null;
  rowsWritten: bigint | null;
  rowsRejected: bigint | null;
  rowsFiltered: bigint | null;
  rowsDeleted: bigint | null;
  retries: number | null;
  createdAt: Date;
  heartbeatAt: Date;
  finishedAt: Date | null;
  lastError: string | null;
}

const RUN_COLUMNS = `run_id, pipeline, fingerprint, mode, refresh, status, phase, source_table, target_table, targets, key_column, chunk_rows,
  high_water_mark, source_snapshot, baseline_snapshot, rows_planned::text, chunks_total, chunks_done, chunks_failed, chunks_enqueued,
  enqueue_complete, steps_total, steps_done, rows_read::text, rows_written::text, rows_rejected::text, rows_filtered::text,
  rows_deleted::text, retries, created_at, heartbeat_at, finished_at, last_error`;

const big = (v: unknown): bigint | null => (v === null || v === undefined ? null : BigInt(v as string));

function toRun(r: Record<string, unknown>): RunRow {
  return {
    runId: r.run_id as string,
    pipeline: r.pipeline as string,
    fingerprint: r.fingerprint as string | null,
    mode: r.mode as RunMode,
    refresh: r.refresh as Refresh | null,
    status: r.status as RunStatus,
    phase: r.phase as RunPhase,
    sourceTable: r.source_table as string,
    targetTable: r.target_table as string,
    targets: r.targets as RunTarget[],
    keyColumn: r.key_column as string,
    chunkRows: r.chunk_rows as number,
    highWaterMark: r.high_water_mark as KeyValue | null,
    sourceSnapshot: r.source_snapshot as string | null,
    baselineSnapshot: r.baseline_snapshot as string | null,
    rowsPlanned: BigInt(r.rows_planned as string),
    chunksTotal: r.chunks_total as number,
    chunksDone: r.chunks_done as number,
    chunksFailed: r.chunks_failed as number,
    chunksEnqueued: r.chunks_enqueued as number,
    enqueueComplete: r.enqueue_complete as boolean,
    stepsTotal: r.steps_total as number,
    stepsDone: r.steps_done as number,
    rowsRead: big(r.rows_read),
    rowsWritten: big(r.rows_written),
    rowsRejected: big(r.rows_rejected),
    rowsFiltered: big(r.rows_filtered),
    rowsDeleted: big(r.rows_deleted),
    retries: r.retries as number | null,
    createdAt: r.created_at as Date,
    heartbeatAt: r.heartbeat_at as Date,
    finishedAt: r.finished_at as Date | null,
    lastError: r.last_error as string | null,
  };
}

export type CreateRunResult = { created: true; run: RunRow } | { created: false; run: RunRow };

const keyJson = (k: KeyValue | null) => (k === null ? null : [...k]);

/**
 * Record a run, all its chunks and its steps in one transaction: a crash leaves either nothing or a
 * whole plan. When another run of the pipeline is active, nothing is created and that run is returned.
 */
export async function createRun(client: PoolClient, run: NewRun): Promise<CreateRunResult> {
  const steps = run.steps ?? [];
  const runId = await inTransaction(client, async () => {
    const inserted = await client.query<{ run_id: string }>(
      `INSERT INTO etl.runs (run_id, pipeline, fingerprint, mode, refresh, status, source_table, target_table, targets, key_column, chunk_rows, lo, hi,
                             high_water_mark, source_snapshot, baseline_snapshot, rows_planned, chunks_total, steps_total, planned_at)
       VALUES (coalesce($16::uuid, gen_random_uuid()), $1, $2, $3, $4, 'running', $5, $6, $7, $8, $9, NULL, NULL, $10, $11, $12, $13, $14, $15, clock_timestamp())
       ON CONFLICT (pipeline) WHERE status = 'running' DO NOTHING
       RETURNING run_id`,
      [run.pipeline, run.fingerprint, run.mode, run.refresh, run.sourceTable, run.targets.map((t) => `${t.schema}.${t.table}`).join(', '),
        JSON.stringify(run.targets), run.keyColumns.join(', '), run.chunkRows, keyJson(run.highWaterMark), run.sourceSnapshot,
        run.baselineSnapshot, run.rowsPlanned.toString(), run.chunks.length, steps.length, run.runId ?? null],
    );
    const created = inserted.rows[0]?.run_id;
    if (created === undefined) return undefined;
    const BATCH = 20_000;
    for (let i = 0; i < run.chunks.length; i += BATCH) {
      const part = run.chunks.slice(i, i + BATCH).map((c) => ({ lo: keyJson(c.lo), hi: keyJson(c.hi), rows: c.rowsPlanned?.toString() ?? null }));
      await client.query(
        `INSERT INTO etl.chunks (run_id, chunk_no, lo, hi, rows_planned)
         SELECT $1, $2::int + (ord - 1)::int,
                CASE WHEN jsonb_typeof(c->'lo') = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(c->'lo')) END,
                CASE WHEN jsonb_typeof(c->'hi') = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(c->'hi')) END,
                (c->>'rows')::bigint
           FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS t(c, ord)`,
        [created, i, JSON.stringify(part)],
      );
    }
    if (steps.length > 0) {
      await client.query(
        `INSERT INTO etl.run_steps (run_id, step_no, kind, target, description, statements)
         SELECT $1, (ord - 1)::int, s->>'kind', s->>'target', s->>'description', ARRAY(SELECT jsonb_array_elements_text(s->'statements'))
           FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS t(s, ord)`,
        [created, JSON.stringify(steps)],
      );
    }
    if (run.chunks.length === 0 && steps.length === 0) {
      // Nothing to move: the run is complete the moment it exists.
      await client.query(
        `UPDATE etl.runs SET status = 'completed', enqueue_complete = true, enqueued_at = clock_timestamp(), finished_at = clock_timestamp(),
                rows_read = 0, rows_written = 0, rows_rejected = 0, rows_filtered = 0, rows_deleted = 0, retries = 0 WHERE run_id = $1`,
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
  const { rows } = await client.query(`SELECT ${RUN_COLUMNS} FROM etl.runs WHERE run_id = $1`, [runId]);
  return rows[0] && toRun(rows[0]);
}

export async function getRun(client: PoolClient, runId: string): Promise<RunRow> {
  const run = await findRun(client, runId);
  if (run === undefined) throw new RunStateError(`run ${runId} is not in the ledger: list runs with \`pg-fanout status\`.`);
  return run;
}

export async function activeRun(client: PoolClient, pipeline: string): Promise<RunRow | undefined> {
  const { rows } = await client.query(`SELECT ${RUN_COLUMNS} FROM etl.runs WHERE pipeline = $1 AND status = 'running'`, [pipeline]);
  return rows[0] && toRun(rows[0]);
}

export async function latestRun(client: PoolClient, pipeline?: string): Promise<RunRow | undefined> {
  const { rows } = await client.query(
    `SELECT ${RUN_COLUMNS} FROM etl.runs WHERE $1::text IS NULL OR pipeline = $1 ORDER BY created_at DESC LIMIT 1`,
    [pipeline ?? null],
  );
  return rows[0] && toRun(rows[0]);
}

/** The highest key the last completed run of the pipeline read: where an `append` run starts. */
export async function lastHighWaterMark(client: PoolClient, pipeline: string, fingerprint: string): Promise<KeyValue | null> {
  const { rows } = await client.query<{ hwm: string[] | null }>(
    `SELECT high_water_mark AS hwm FROM etl.runs
      WHERE pipeline = $1 AND status = 'completed' AND fingerprint = $2
      ORDER BY finished_at DESC LIMIT 1`,
    [pipeline, fingerprint],
  );
  return rows[0]?.hwm ?? null;
}

export interface Baseline {
  runId: string;
  mode: RunMode;
  /** The source snapshot that run took before reading: every change since is the next run's work. */
  sourceSnapshot: string;
}

/**
 * The run an incremental run captures changes since: the latest completed `full` or `incremental`
 * run of this very definition. Undefined when there is none (the next run must be a full one).
 */
export async function lastBaseline(client: PoolClient, pipeline: string, fingerprint: string): Promise<Baseline | undefined> {
  const { rows } = await client.query<{ run_id: string; mode: RunMode; source_snapshot: string }>(
    `SELECT run_id, mode, source_snapshot FROM etl.runs
      WHERE pipeline = $1 AND status = 'completed' AND mode IN ('full', 'incremental') AND source_snapshot IS NOT NULL
      ORDER BY finished_at DESC LIMIT 1`,
    [pipeline],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  // A definition changed since: the targets hold what the old transform made of the rows.
  const same = await client.query<{ same: boolean }>(`SELECT fingerprint = $2 AS same FROM etl.runs WHERE run_id = $1`, [row.run_id, fingerprint]);
  if (same.rows[0]?.same !== true) return undefined;
  return { runId: row.run_id, mode: row.mode, sourceSnapshot: row.source_snapshot };
}

export interface ChunkRow {
  runId: string;
  chunkNo: number;
  lo: KeyValue | null;
  hi: KeyValue | null;
  status: ChunkStatus;
  attempts: number;
  rowsPlanned: bigint | null;
  rowsRead: bigint | null;
  rowsWritten: bigint | null;
  rowsRejected: bigint | null;
  rowsFiltered: bigint | null;
  rowsDeleted: bigint | null;
  lastError: string | null;
  enqueued: boolean;
}

const CHUNK_COLUMNS = `run_id, chunk_no, lo, hi, status, attempts, rows_planned::text, rows_read::text, rows_written::text, rows_rejected::text,
  rows_filtered::text, rows_deleted::text, last_error, enqueued_at IS NOT NULL AS enqueued`;

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
    lo: r.lo as KeyValue | null,
    hi: r.hi as KeyValue | null,
    status: r.status as ChunkStatus,
    attempts: r.attempts as number,
    rowsPlanned: big(r.rows_planned),
    rowsRead: big(r.rows_read),
    rowsWritten: big(r.rows_written),
    rowsRejected: big(r.rows_rejected),
    rowsFiltered: big(r.rows_filtered),
    rowsDeleted: big(r.rows_deleted),
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
export interface LockedChunk extends KeyRange {
  status: ChunkStatus;
}

/** A chunk as a message names it. */
export interface ChunkRef extends KeyRange {
  runId: string;
  chunkNo: number;
}

/** What a worker needs to know of a run to copy its chunks (it does not change during the run, but for its status). */
export interface RunContext {
  runId: string;
  status: RunStatus;
  mode: RunMode;
  refresh: Refresh | null;
  fingerprint: string | null;
  baselineSnapshot: string | null;
  targets: RunTarget[];
}

export interface ChunkCounts {
  rowsRead: number;
  /** Rows written, all targets together. */
  rowsWritten: number;
  rowsRejected: number;
  rowsFiltered: number;
  /** Rows deleted from the targets because their source rows were deleted (incremental runs). */
  rowsDeleted: number;
  /** Rows written per target name. */
  targetRows: Readonly<Record<string, number>>;
  durationMs: number;
}

/** The chunk was cut short at `splitAt` (it held more rows than a chunk may): `[splitAt, hi)` becomes a new chunk. */
export interface ChunkSplit {
  readonly splitAt: KeyValue;
}

/** SQL literal of a key as the ledger stores it. */
export function keySqlLiteral(key: KeyValue | null): string {
  return key === null ? 'NULL::text[]' : `${sqlLiteral(keyArrayLiteral(key))}::text[]`;
}

// A transaction of chunks takes two round trips to the ledger, one before its COPY and one after:
// per-chunk latency and statements are what make small chunks slow, and a worker talks to the
// database across a network.

/**
 * One round trip: counts an attempt for each chunk in its own transaction with an asynchronous
 * commit (a counter lost in a server crash is harmless; a WAL flush there would cost every chunk),
 * then opens the chunks' transaction, locks their rows in chunk order (concurrent copies of a chunk
 * serialise here, and two batches cannot deadlock), reads their runs and runs the caller's
 * `whilePending` statements for each chunk, each given a guard to AND into its WHERE clause so it
 * does nothing unless that chunk is still pending with exactly the message's range in a run that
 * is still open. Returns with that transaction open: each chunk as the ledger has it (undefined
 * when it has not), and the runs.
 */
export async function beginChunks(
  client: PoolClient,
  chunks: readonly ChunkRef[],
  whilePending: (chunk: ChunkRef, guard: string) => string[] = () => [],
  options: { countAttempts?: boolean } = {},
): Promise<{ chunks: (LockedChunk | undefined)[]; runs: Map<string, RunContext> }> {
  const one = (c: ChunkRef) => `run_id = ${sqlLiteral(c.runId)} AND chunk_no = ${sqlLiteral(c.chunkNo)}`;
  const all = `(run_id, chunk_no) IN (${chunks.map((c) => `(${sqlLiteral(c.runId)}::uuid, ${sqlLiteral(c.chunkNo)})`).join(', ')})`;
  const runIds = [...new Set(chunks.map((c) => c.runId))];
  // A new statement in READ COMMITTED sees what a concurrent copy committed while we waited for the lock.
  const guard = (c: ChunkRef) =>
    `EXISTS (SELECT FROM etl.chunks WHERE ${one(c)} AND status <> 'done' AND lo IS NOT DISTINCT FROM ${keySqlLiteral(c.lo)}
               AND hi IS NOT DISTINCT FROM ${keySqlLiteral(c.hi)}
               AND EXISTS (SELECT FROM etl.runs r WHERE r.run_id = ${sqlLiteral(c.runId)} AND r.status IN ('running', 'failed')))`;
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
      `SELECT run_id::text, chunk_no, lo, hi, status FROM etl.chunks WHERE ${all} ORDER BY run_id, chunk_no FOR UPDATE`,
      `SELECT run_id::text, status, mode, refresh, fingerprint, baseline_snapshot, targets FROM etl.runs
        WHERE run_id IN (${runIds.map((r) => `${sqlLiteral(r)}::uuid`).join(', ')})`,
      ...chunks.flatMap((c) => whilePending(c, guard(c))),
    ].join(';\n'),
  );
  const rows = (results[5]?.rows ?? []) as { run_id: string; chunk_no: number; lo: string[] | null; hi: string[] | null; status: ChunkStatus }[];
  const byKey = new Map(rows.map((r) => [chunkKey({ runId: r.run_id, chunkNo: r.chunk_no }), { lo: r.lo, hi: r.hi, status: r.status }]));
  const runs = new Map(
    ((results[6]?.rows ?? []) as Record<string, unknown>[]).map((r) => [
      r.run_id as string,
      {
        runId: r.run_id as string,
        status: r.status as RunStatus,
        mode: r.mode as RunMode,
        refresh: r.refresh as Refresh | null,
        fingerprint: r.fingerprint as string | null,
        baselineSnapshot: r.baseline_snapshot as string | null,
        targets: r.targets as RunTarget[],
      },
    ]),
  );
  return { chunks: chunks.map((c) => byKey.get(chunkKey(c))), runs };
}

export interface CompletedChunk {
  runId: string;
  chunkNo: number;
  /** Its status before this transaction: a chunk marked failed is taken out of its run's failed count. */
  previous: ChunkStatus;
  counts: ChunkCounts;
  split?: ChunkSplit;
}

export interface RunAfterCommit {
  status: RunStatus;
  phase: RunPhase;
  /** This transaction finished the run's copy phase (its build steps are due now). */
  copyPhaseEnded: boolean;
  /** Chunks this transaction split off, to be enqueued once it commits. */
  newChunks: { chunkNo: number; lo: KeyValue | null; hi: KeyValue | null }[];
}

/**
 * One round trip that ends the chunks' transaction: records the chunks split off (a chunk cut short
 * keeps `[lo, splitAt)`, a new pending chunk takes `[splitAt, hi)`), marks the chunks done, counts
 * them in their runs, settles each run whose last chunk this was, and commits. The run row's lock
 * (taken first) serialises the last chunks and the splits, so exactly one of them settles the run.
 */
export async function commitChunks(
  client: PoolClient,
  chunks: readonly CompletedChunk[],
  splitRanges: ReadonlyMap<string, KeyRange> = new Map(),
): Promise<Map<string, RunAfterCommit>> {
  const runs = new Map<string, { done: number; unfailed: number; splits: CompletedChunk[] }>();
  for (const c of chunks) {
    const run = runs.get(c.runId) ?? { done: 0, unfailed: 0, splits: [] };
    run.done += 1;
    if (c.previous === 'failed') run.unfailed += 1;
    if (c.split !== undefined) run.splits.push(c);
    runs.set(c.runId, run);
  }
  const statements: string[] = [];
  const kinds: ('bump' | 'split' | 'chunk' | 'settle')[] = [];
  const add = (kind: (typeof kinds)[number], sql: string) => {
    statements.push(sql);
    kinds.push(kind);
  };
  for (const [runId, { done, unfailed, splits }] of runs) {
    add('bump', `UPDATE etl.runs SET chunks_done = chunks_done + ${done}, chunks_failed = chunks_failed - ${unfailed},
                   chunks_total = chunks_total + ${splits.length}, heartbeat_at = clock_timestamp()
             WHERE run_id = ${sqlLiteral(runId)} RETURNING run_id::text, status, phase`);
    for (const c of splits) {
      const range = splitRanges.get(chunkKey(c));
      if (range === undefined) throw new TypeError(`commitChunks: no range for split chunk ${c.chunkNo}`);
      add('split', `INSERT INTO etl.chunks (run_id, chunk_no, lo, hi)
               SELECT ${sqlLiteral(runId)}, max(chunk_no) + 1, ${keySqlLiteral(c.split!.splitAt)}, ${keySqlLiteral(range.hi)}
                 FROM etl.chunks WHERE run_id = ${sqlLiteral(runId)}
               RETURNING run_id::text, chunk_no, lo, hi`);
    }
  }
  for (const { runId, chunkNo, counts, split } of chunks) {
    add('chunk', `UPDATE etl.chunks SET status = 'done', rows_read = ${sqlLiteral(counts.rowsRead)}, rows_written = ${sqlLiteral(counts.rowsWritten)},
                  rows_rejected = ${sqlLiteral(counts.rowsRejected)}, rows_filtered = ${sqlLiteral(counts.rowsFiltered)},
                  rows_deleted = ${sqlLiteral(counts.rowsDeleted)}, target_rows = ${sqlLiteral(JSON.stringify(counts.targetRows))}::jsonb,
                  duration_ms = ${sqlLiteral(Math.round(counts.durationMs))}, finished_at = clock_timestamp(), last_error = NULL
                  ${split === undefined ? '' : `, hi = ${keySqlLiteral(split.splitAt)}`}
            WHERE run_id = ${sqlLiteral(runId)} AND chunk_no = ${sqlLiteral(chunkNo)}`);
  }
  for (const runId of runs.keys()) add('settle', settleRunSql(sqlLiteral(runId)));
  add('chunk', 'COMMIT');
  const results = await queryAll(client, statements.join(';\n'));
  const after = new Map<string, RunAfterCommit>();
  results.forEach((result, i) => {
    const kind = kinds[i];
    for (const row of result.rows as Record<string, unknown>[]) {
      const runId = row.run_id as string;
      const entry = after.get(runId) ?? { status: 'running', phase: 'copy', copyPhaseEnded: false, newChunks: [] };
      if (kind === 'bump') Object.assign(entry, { status: row.status, phase: row.phase });
      if (kind === 'settle') Object.assign(entry, { status: row.status, phase: row.phase, copyPhaseEnded: row.phase === 'build' });
      if (kind === 'split') entry.newChunks.push({ chunkNo: row.chunk_no as number, lo: row.lo as KeyValue | null, hi: row.hi as KeyValue | null });
      after.set(runId, entry);
    }
  });
  for (const runId of runs.keys()) if (!after.has(runId)) throw new RunStateError(`run ${runId} is not in the ledger.`);
  return after;
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
 * Settles the copy phase of a run whose chunks are all done or failed (and only such a run), with
 * its totals summed from the chunks: failed if any chunk failed; else, when it has steps (a shadow
 * refresh), on to the build phase; else completed. Returns the run when it settled.
 */
function settleRunSql(run: string): string {
  return `UPDATE etl.runs r SET
            status = CASE WHEN r.chunks_failed > 0 THEN 'failed' WHEN r.steps_total > 0 THEN 'running' ELSE 'completed' END,
            phase = CASE WHEN r.chunks_failed = 0 AND r.steps_total > 0 THEN 'build' ELSE r.phase END,
            finished_at = CASE WHEN r.chunks_failed = 0 AND r.steps_total > 0 THEN NULL ELSE clock_timestamp() END,
            (rows_read, rows_written, rows_rejected, rows_filtered, rows_deleted, retries) = (
              SELECT coalesce(sum(c.rows_read), 0), coalesce(sum(c.rows_written), 0), coalesce(sum(c.rows_rejected), 0),
                     coalesce(sum(c.rows_filtered), 0), coalesce(sum(c.rows_deleted), 0), coalesce(sum(greatest(c.attempts - 1, 0)), 0)
                FROM etl.chunks c WHERE c.run_id = r.run_id),
            last_error = CASE WHEN r.chunks_failed > 0 THEN r.last_error END
      WHERE r.run_id = ${run} AND r.phase = 'copy' AND r.chunks_done + r.chunks_failed = r.chunks_total AND r.status IN ('running', 'failed')
      RETURNING r.run_id::text, r.status, r.phase`;
}

/** Reopen a failed run whose failed chunks or steps are being redriven, so it can complete. */
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
  await client.query(`UPDATE etl.chunks SET status = 'pending' WHERE run_id = $1 AND status = 'failed'`, [runId]);
  await client.query(`UPDATE etl.run_steps SET status = 'pending' WHERE run_id = $1 AND status = 'failed'`, [runId]);
  await client.query(
    `UPDATE etl.runs SET chunks_failed = (SELECT count(*) FROM etl.chunks WHERE run_id = $1 AND status = 'failed'), last_error = NULL WHERE run_id = $1`,
    [runId],
  );
}

/** Marks an active or failed run cancelled: its chunks still in flight are skipped by the workers. */
export async function cancelRun(client: PoolClient, runId: string, reason: string): Promise<RunRow> {
  const { rows } = await client.query(
    `UPDATE etl.runs SET status = 'cancelled', finished_at = clock_timestamp(), last_error = $2
      WHERE run_id = $1 AND status IN ('running', 'failed') RETURNING ${RUN_COLUMNS}`,
    [runId, reason],
  );
  if (rows[0] === undefined) {
    const run = await getRun(client, runId);
    throw new RunStateError(`run ${runId} is ${run.status}: only a running or failed run can be cancelled.`);
  }
  return toRun(rows[0]);
}

export interface RunProgress {
  chunksDone: number;
  chunksFailed: number;
  chunksTotal: number;
  rowsDone: bigint;
  rowsPlanned: bigint;
  stepsDone: number;
  stepsTotal: number;
}

export async function runProgress(client: PoolClient, runId: string): Promise<RunProgress> {
  const { rows } = await client.query<{ done: number; failed: number; total: number; rows_done: string; rows_planned: string; steps_done: number; steps_total: number }>(
    `SELECT count(*) FILTER (WHERE status = 'done')::int AS done, count(*) FILTER (WHERE status = 'failed')::int AS failed,
            count(*)::int AS total, coalesce(sum(rows_read) FILTER (WHERE status = 'done'), 0)::text AS rows_done,
            (SELECT rows_planned FROM etl.runs WHERE run_id = $1)::text AS rows_planned,
            (SELECT steps_done FROM etl.runs WHERE run_id = $1) AS steps_done,
            (SELECT steps_total FROM etl.runs WHERE run_id = $1) AS steps_total
       FROM etl.chunks WHERE run_id = $1`,
    [runId],
  );
  const r = rows[0]!;
  return {
    chunksDone: r.done, chunksFailed: r.failed, chunksTotal: r.total, rowsDone: BigInt(r.rows_done), rowsPlanned: BigInt(r.rows_planned ?? '0'),
    stepsDone: r.steps_done ?? 0, stepsTotal: r.steps_total ?? 0,
  };
}

/** Rows a run wrote into each target (by the pipeline's target name), summed over its chunks. */
export async function targetRowsOf(client: PoolClient, runId: string): Promise<Map<string, bigint>> {
  const { rows } = await client.query<{ name: string; n: string }>(
    `SELECT t.key AS name, sum(t.value::bigint)::text AS n FROM etl.chunks c, jsonb_each_text(coalesce(c.target_rows, '{}')) t
      WHERE c.run_id = $1 GROUP BY t.key ORDER BY t.key`,
    [runId],
  );
  return new Map(rows.map((r) => [r.name, BigInt(r.n)]));
}
