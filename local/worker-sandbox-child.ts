// Runs inside one worker sandbox (a child process): loads the real worker Lambda handler once, as
// a Lambda execution environment would, and invokes it for each event the parent sends.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

interface Invoke {
  id: number;
  event: SQSEvent;
  timeoutMs: number;
}

const { handler } = await import('../lambdas/worker/handler.ts');
let invocation = 0;

/** Peak resident set, and CPU time so far with init included (Lambda bills that too), in ms. */
function usage(): { maxRssKb: number; cpuMs: number } {
  const u = process.resourceUsage();
  return { maxRssKb: u.maxRSS, cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000 };
}

process.on('message', async (message: Invoke) => {
  invocation += 1;
  const context = {
    functionName: 'pg-fanout-worker-local',
    awsRequestId: `local-${process.pid}-${invocation}`,
    getRemainingTimeInMillis: () => message.timeoutMs,
  };
  try {
    const response = (await (handler as unknown as (e: SQSEvent, c: unknown) => Promise<SQSBatchResponse>)(message.event, context)) ?? { batchItemFailures: [] };
    process.send?.({ id: message.id, ok: true, response, ...usage() });
  } catch (error) {
    process.send?.({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error), ...usage() });
  }
});
// The runtime that owns this sandbox is gone (killed with -9): end too, as Lambda would. Any open
// transaction dies with the connection and rolls back.
process.on('disconnect', () => process.exit(1));
process.send?.({ ready: true });
