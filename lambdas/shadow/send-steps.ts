// Sending the steps a shadow refresh is due for: by the worker that ended its copy phase or finished
// a step, and by the coordinator's repair and `resume`.
import { withClient, type Pool } from '../shared/db.ts';
import { markStepsEnqueued, stepsDue } from '../shared/ledger-steps.ts';
import { encodeStepMessage } from '../shared/messages.ts';
import type { OutgoingMessage } from '../shared/queue.ts';

/** Sends the steps a run is due for and marks them enqueued; returns how many. */
export async function sendDueSteps(target: Pool, send: (m: OutgoingMessage[]) => Promise<void>, runId: string, onlyNeverEnqueued = true): Promise<number> {
  const steps = await withClient(target, (c) => stepsDue(c, runId, { onlyNeverEnqueued }));
  if (steps.length === 0) return 0;
  await send(steps.map((s) => ({ id: `s${s.stepNo}`, body: encodeStepMessage({ runId, stepNo: s.stepNo }) })));
  await withClient(target, (c) => markStepsEnqueued(c, runId, steps.map((s) => s.stepNo)));
  return steps.length;
}
