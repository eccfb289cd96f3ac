// Coordinator Lambda: wiring only. Starts a run (or joins the active one) or resumes one; invoked
// by an EventBridge schedule, by Lambda Invoke, or in-process by the local runtime. The pipeline is
// resolved against the catalogs on every invocation (a few catalog queries): a target created or
// altered since the last one is seen.
import middy from '@middy/core';
import { loadConfig, required } from '../shared/config.ts';
import { openPool, withClient, type Pool } from '../shared/db.ts';
import { migrateLedger } from '../shared/ledger-schema.ts';
import { createLogger } from '../shared/log.ts';
import { createSqsClient } from '../shared/queue.ts';
import { loadPipeline } from '../pipeline/load-pipeline.ts';
import { resolvePipeline } from '../pipeline/resolve-pipeline.ts';
import { parseCoordinatorRequest } from './request.ts';
import { resumeRun, startRun, type CoordinatorDeps, type StartRunResult } from './start-run.ts';

const config = loadConfig();
const queueUrl = required(config.queueUrl, 'WORK_QUEUE_URL', 'set it to the work queue URL (the stack sets it).');
const log = createLogger('pg-fanout-coordinator', config.logLevel);
const sqs = createSqsClient(config);
let pools: Promise<{ source: Pool; target: Pool }> | undefined;

function openPools(): Promise<{ source: Pool; target: Pool }> {
  pools ??= (async () => {
    const target = await openPool(config.database, { max: 1, applicationName: 'pg-fanout-coordinator' });
    const source = await openPool(config.sourceDatabase, { max: 1, applicationName: 'pg-fanout-coordinator-source' });
    await withClient(target, migrateLedger);
    return { source, target };
  })().catch((error: unknown) => {
    pools = undefined;
    throw error;
  });
  return pools;
}

async function coordinatorDeps(): Promise<CoordinatorDeps> {
  const { source, target } = await openPools();
  const spec = await loadPipeline({ module: config.pipelineModule, tables: config });
  const pipeline = await withClient(target, (t) => withClient(source, (s) => resolvePipeline(s, t, spec, { sameDatabase: config.sameDatabase })));
  const { maxReceiveCount, visibilityTimeoutSeconds } = config.backpressure;
  return {
    source, target, sqs, queueUrl, pipeline, chunkRows: config.backpressure.chunkRows, indexBuild: config.indexBuild,
    staleEnqueueMs: config.staleEnqueueSeconds * 1000,
    lostMessagesMs: (maxReceiveCount * visibilityTimeoutSeconds + 60) * 1000,
  };
}

export const handler = middy<unknown, StartRunResult>().handler(async (event: unknown) => {
  const request = parseCoordinatorRequest(event);
  const d = await coordinatorDeps();
  const result = request.action === 'resume'
    ? await resumeRun(d, request.runId)
    : await startRun(d, request.mode, request.refresh === undefined ? {} : { refresh: request.refresh });
  log.info(result.started ? 'run started' : 'run already active or resumed', { ...result, pipeline: d.pipeline.name });
  return result;
});
