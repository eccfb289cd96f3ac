// The steps that finish a shadow full refresh, in the ledger: build steps (an index or constraint
// on a shadow table, several at once) and the swap step (the shadow tables replace the targets in
// one transaction). Like chunks, each is done exactly once under its row lock and retried by SQS.
import { inTransaction, queryAll, sqlLiteral, type PoolClient } from './db.ts';
import { RunStateError } from './errors.ts';
import type { RunPhase, RunStatus } from './ledger.ts';

export type StepKind = 'build' | 'swap';
export type StepStatus = 'pending' | 'done' | 'failed';

export interface StepRow {
  runId: string;
  stepNo: number;
  kind: StepKind;
  target: string | null;
  description: string;
  statements: string[];
  status: StepStatus;
  attempts: number;
  enqueued: boolean;
  lastError: string | null;
}

const STEP_COLUMNS = `run_id::text, step_no, kind, target, description, statements, status, attempts, enqueued_at IS NOT NULL AS enqueued, last_error`;

function toStep(r: Record<string, unknown>): StepRow {
  return {
    runId: r.run_id as string,
    stepNo: r.step_no as number,
    kind: r.kind as StepKind,
    target: r.target as string | null,
    description: r.description as string,
    statements: r.statements as string[],
    status: r.status as StepStatus,
    attempts: r.attempts as number,
    enqueued: r.enqueued as boolean,
    lastError: r.last_error as string | null,
  };
}

export async function listSteps(client: PoolClient, runId: string): Promise<StepRow[]> {
  const { rows } = await client.query(`SELECT ${STEP_COLUMNS} FROM etl.run_steps WHERE run_id = $1 ORDER BY step_no`, [runId]);
  return rows.map(toStep);
}

/**
 * The steps a run is ready for, to be sent now: in the build phase its pending build steps; once
 * they are all done it moves to the swap phase (under the run row's lock, so once) and the swap
 * step is due. `onlyNeverEnqueued` leaves out steps already sent (a repair re-sends them all).
 */
export async function stepsDue(client: PoolClient, runId: string, options: { onlyNeverEnqueued: boolean }): Promise<StepRow[]> {
  return inTransaction(client, async () => {
    const run = await client.query<{ status: RunStatus; phase: RunPhase }>(`SELECT status, phase FROM etl.runs WHERE run_id = $1 FOR UPDATE`, [runId]);
    const r = run.rows[0];
    if (r === undefined) throw new RunStateError(`run ${runId} is not in the ledger.`);
    if (r.status !== 'running' || r.phase === 'copy') return [];
    let phase = r.phase;
    if (phase === 'build') {
      const open = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM etl.run_steps WHERE run_id = $1 AND kind = 'build' AND status <> 'done'`, [runId]);
      if ((open.rows[0]?.n ?? 0) === 0) {
        await client.query(`UPDATE etl.runs SET phase = 'swap', heartbeat_at = clock_timestamp() WHERE run_id = $1`, [runId]);
        phase = 'swap';
      }
    }
    const kind = phase === 'build' ? 'build' : 'swap';
    const { rows } = await client.query(
      `SELECT ${STEP_COLUMNS} FROM etl.run_steps
        WHERE run_id = $1 AND kind = $2 AND status = 'pending' AND (NOT $3::boolean OR enqueued_at IS NULL) ORDER BY step_no`,
      [runId, kind, options.onlyNeverEnqueued],
    );
    return rows.map(toStep);
  });
}

export async function markStepsEnqueued(client: PoolClient, runId: string, stepNos: readonly number[]): Promise<void> {
  await client.query(
    `WITH marked AS (UPDATE etl.run_steps SET enqueued_at = clock_timestamp() WHERE run_id = $1 AND step_no = ANY($2::int[]) RETURNING 1)
     UPDATE etl.runs SET heartbeat_at = clock_timestamp() WHERE run_id = $1 AND EXISTS (SELECT FROM marked)`,
    [runId, stepNos],
  );
}

/**
 * Counts an attempt (asynchronous commit, as for chunks), then opens the step's transaction and
 * locks its row. Returns with the transaction open: the step, and its run's status; undefined when
 * the ledger has no such step.
 */
export async function beginStep(client: PoolClient, runId: string, stepNo: number): Promise<{ step: StepRow; runStatus: RunStatus } | undefined> {
  const id = `run_id = ${sqlLiteral(runId)} AND step_no = ${sqlLiteral(stepNo)}`;
  const results = await queryAll(client, [
    'BEGIN',
    'SET LOCAL synchronous_commit = off',
    `UPDATE etl.run_steps SET attempts = attempts + 1, started_at = clock_timestamp() WHERE ${id} AND status <> 'done'`,
    'COMMIT',
    'BEGIN',
    `SELECT ${STEP_COLUMNS} FROM etl.run_steps WHERE ${id} FOR UPDATE`,
    `SELECT status FROM etl.runs WHERE run_id = ${sqlLiteral(runId)}`,
  ].join(';\n'));
  const row = results[5]?.rows[0] as Record<string, unknown> | undefined;
  const run = results[6]?.rows[0] as { status: RunStatus } | undefined;
  if (row === undefined || run === undefined) return undefined;
  return { step: toStep(row), runStatus: run.status };
}

/** Marks the step done in the open transaction and counts it in its run; the swap step completes the run. Does not commit. */
export async function finishStep(client: PoolClient, step: StepRow, durationMs: number): Promise<void> {
  await client.query(
    `UPDATE etl.run_steps SET status = 'done', finished_at = clock_timestamp(), duration_ms = $3, last_error = NULL WHERE run_id = $1 AND step_no = $2`,
    [step.runId, step.stepNo, Math.round(durationMs)],
  );
  await client.query(
    `UPDATE etl.runs SET steps_done = steps_done + 1, heartbeat_at = clock_timestamp(),
            status = CASE WHEN $2 = 'swap' THEN 'completed' ELSE status END,
            finished_at = CASE WHEN $2 = 'swap' THEN clock_timestamp() ELSE finished_at END
      WHERE run_id = $1`,
    [step.runId, step.kind],
  );
}

/**
 * After a failed attempt (rolled back): keep the error. On the last attempt, or at once for a
 * failure retrying cannot fix (`fatal`: a duplicate key for a unique index), the step and its run
 * are marked failed; the old targets are untouched.
 */
export async function recordStepFailure(client: PoolClient, runId: string, stepNo: number, error: string, options: { lastAttempt: boolean; fatal: boolean }): Promise<void> {
  const final = options.lastAttempt || options.fatal;
  await inTransaction(client, async () => {
    const { rows } = await client.query<{ status: StepStatus; description: string }>(
      `SELECT status, description FROM etl.run_steps WHERE run_id = $1 AND step_no = $2 FOR UPDATE`,
      [runId, stepNo],
    );
    const step = rows[0];
    if (step === undefined || step.status === 'done') return;
    await client.query(
      `UPDATE etl.run_steps SET last_error = $3, status = CASE WHEN $4::boolean THEN 'failed' ELSE status END WHERE run_id = $1 AND step_no = $2`,
      [runId, stepNo, error.slice(0, 4000), final],
    );
    if (final) {
      await client.query(
        `UPDATE etl.runs SET status = 'failed', finished_at = clock_timestamp(), heartbeat_at = clock_timestamp(), last_error = $2
          WHERE run_id = $1 AND status = 'running'`,
        [runId, `${step.description} failed: ${error}`.slice(0, 4000)],
      );
    }
  });
}
