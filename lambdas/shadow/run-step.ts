// A step of a shadow full refresh, as a worker runs it: under the step's ledger row lock, build one
// index or constraint on a shadow table (several steps run at once on several workers), or swap the
// shadow tables in. Done exactly once; a step that fails for a reason retrying cannot fix (a
// duplicate key for a unique index, an object that came to depend on a target) fails its run at
// once and leaves the old targets untouched. After it commits, the next phase's steps are sent.
import { setTimeout as sleep } from 'node:timers/promises';
import { guardClient, type Pool } from '../shared/db.ts';
import { ChunkFailedError, describe, InvalidMessageError, SchemaError } from '../shared/errors.ts';
import { beginStep, finishStep, recordStepFailure, type StepRow } from '../shared/ledger-steps.ts';
import type { StepMessage } from '../shared/messages.ts';
import type { OutgoingMessage } from '../shared/queue.ts';
import type { SwapTarget } from './shadow-plan.ts';
import { swapShadows } from './swap.ts';

export interface StepContext {
  /** The target database (ledger and tables). */
  target: Pool;
  pipelineName: string;
  send?: (messages: OutgoingMessage[]) => Promise<void>;
  /** Sends the steps now due (see sendDueSteps). */
  sendDue?: (runId: string) => Promise<unknown>;
}

export interface StepResult {
  runId: string;
  stepNo: number;
  skipped: boolean;
  description: string;
  durationMs: number;
}

const SWAP_ATTEMPTS = 6;

export async function runStep(ctx: StepContext, message: StepMessage, options: { lastAttempt?: boolean } = {}): Promise<StepResult> {
  const started = performance.now();
  let step: StepRow | undefined;
  try {
    const done = await attempt(ctx, message, started, (s) => (step = s));
    if (!done.skipped) await ctx.sendDue?.(message.runId);
    return done;
  } catch (error) {
    if (error instanceof InvalidMessageError) throw error;
    const fatal = isFatal(error);
    await withRecord(ctx, message, `${describe(error)}`, { lastAttempt: options.lastAttempt ?? false, fatal });
    throw new ChunkFailedError(message.runId, message.stepNo, '', error, step === undefined ? 'step' : `step (${step.description})`);
  }
}

async function attempt(ctx: StepContext, message: StepMessage, started: number, seen: (s: StepRow) => void): Promise<StepResult> {
  for (let tries = 1; ; tries++) {
    const client = await ctx.target.connect();
    const errors = guardClient(client);
    let committed = false;
    let retry = false;
    try {
      const begun = await beginStep(client, message.runId, message.stepNo);
      if (begun === undefined) throw new InvalidMessageError(`step ${message.stepNo} of run ${message.runId} is not in the ledger: the message is stale or forged.`);
      const { step, runStatus } = begun;
      seen(step);
      if (step.status === 'done' || runStatus !== 'running') {
        return { runId: step.runId, stepNo: step.stepNo, skipped: true, description: step.description, durationMs: performance.now() - started };
      }
      if (step.kind === 'build') {
        for (const statement of step.statements) await client.query(statement);
      } else {
        await swapShadows(client, ctx.pipelineName, step.runId, JSON.parse(step.statements[0] ?? '[]') as SwapTarget[]);
      }
      const durationMs = performance.now() - started;
      await finishStep(client, step, durationMs);
      await client.query('COMMIT');
      committed = true;
      return { runId: step.runId, stepNo: step.stepNo, skipped: false, description: step.description, durationMs };
    } catch (error) {
      // Readers holding the targets longer than the lock timeout: wait and try the swap again.
      retry = (error as { code?: string }).code === '55P03' && tries < SWAP_ATTEMPTS && errors.length === 0;
      if (!retry) throw errors[0] ?? error;
    } finally {
      if (!committed) await client.query('ROLLBACK').catch(() => undefined);
      client.release(errors.length > 0 ? true : undefined);
    }
    if (retry) await sleep(1000 * tries);
  }
}

/** A unique index over duplicate keys, a violated foreign key, an object in the way: retrying cannot help. */
function isFatal(error: unknown): boolean {
  if (error instanceof SchemaError) return true;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('23') || code === '42P07');
}

async function withRecord(ctx: StepContext, m: StepMessage, error: string, options: { lastAttempt: boolean; fatal: boolean }): Promise<void> {
  const client = await ctx.target.connect().catch(() => undefined);
  if (client === undefined) return;
  try {
    await recordStepFailure(client, m.runId, m.stepNo, error, options);
    client.release();
  } catch (e) {
    client.release(true);
    console.error(JSON.stringify({ level: 'error', message: 'could not record step failure in the ledger', runId: m.runId, stepNo: m.stepNo, error: describe(e) }));
  }
}
