// Coordinator Lambda: wiring only. Starts a run (or joins the active one) or resumes one; invoked
// by an EventBridge schedule, by Lambda Invoke, or in-process by the local runtime.
import middy from '@middy/core';
import { loadConfig, required } from '../shared/config.ts';
import { openPool } from '../shared/db.ts';
import { createLogger } from '../shared/log.ts';
import { preparePipeline } from '../shared/pipeline.ts';
import { createSqsClient } from '../shared/queue.ts';
import { splitNameTransform } from '../transform/split-name-transform.ts';
import { parseCoordinatorRequest } from './request.ts';
import { resumeRun, startRun, type CoordinatorDeps, type StartRunResult } from './start-run.ts';

const config = loadConfig();
const queueUrl = required(config.queueUrl, 'WORK_QUEUE_URL', 'set it to the work queue URL (the stack sets it).');
const log = createLogger('pg-fanout-coordinator', config.logLevel);
let deps: Promise<CoordinatorDeps> | undefined;

function coordinatorDeps(): Promise<CoordinatorDeps> {
  deps ??= (async () => {
    const pool = await openPool(config.database, { max: 1, applicationName: 'pg-fanout-coordinator' });
    const tables = await preparePipeline(pool, config, splitNameTransform, { createTarget: true });
    const { maxReceiveCount, visibilityTimeoutSeconds } = config.backpressure;
    return {
      pool, sqs: createSqsClient(config), queueUrl, tables, chunkRows: config.backpressure.chunkRows,
      staleEnqueueMs: config.staleEnqueueSeconds * 1000,
      lostMessagesMs: (maxReceiveCount * visibilityTimeoutSeconds + 60) * 1000,
    };
  })().catch((error: unknown) => {
    deps = undefined;
    throw error;
  });
  return deps;
}

export const handler = middy<unknown, StartRunResult>().handler(async (event: unknown) => {
  const request = parseCoordinatorRequest(event);
  const d = await coordinatorDeps();
  const result = request.action === 'resume' ? await resumeRun(d, request.runId) : await startRun(d, request.mode);
  log.info(result.started ? 'run started' : 'run already active or resumed', { ...result });
  return result;
});
