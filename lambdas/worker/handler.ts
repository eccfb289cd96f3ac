// Worker Lambda: wiring only. Config and the pipeline are loaded at cold start; the connections
// (one to the source, one to the target: one COPYs out while the other COPYs in) are opened once
// and reused across invocations. The chunks of a batch are first copied in one transaction; if
// that fails they run one after another, so a failed record is reported alone
// (ReportBatchItemFailures) without failing its batch-mates. Steps of a shadow refresh run alone.
import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { loadConfig, SOURCE_CONNECTIONS_PER_WORKER, TARGET_CONNECTIONS_PER_WORKER } from '../shared/config.ts';
import { createLogger } from '../shared/log.ts';
import { emitChunkMetrics } from '../shared/metrics.ts';
import { createSqsClient, sendAll } from '../shared/queue.ts';
import { openPipeline } from '../pipeline/open-pipeline.ts';
import type { ChunkContext, ChunkResult } from './copy-chunk.ts';
import { sendDueSteps } from '../shadow/send-steps.ts';
import type { StepContext } from '../shadow/run-step.ts';
import { processChunkRecordsTogether, processRecord } from './process-record.ts';

const config = loadConfig();
const log = createLogger('pg-fanout-worker', config.logLevel);
const processor = new BatchProcessor(EventType.SQS);
const sqs = config.queueUrl === undefined ? undefined : createSqsClient(config);
let context: Promise<ChunkContext & StepContext> | undefined;

function workContext(): Promise<ChunkContext & StepContext> {
  context ??= (async () => {
    const opened = await openPipeline(config, {
      applicationName: 'pg-fanout-worker', sourceConnections: SOURCE_CONNECTIONS_PER_WORKER, targetConnections: TARGET_CONNECTIONS_PER_WORKER,
    });
    const send = sqs === undefined ? undefined : (messages: { id: string; body: string }[]) => sendAll(sqs, config.queueUrl!, messages);
    return {
      source: opened.source,
      target: opened.target,
      pipeline: opened.pipeline,
      engine: opened.engine,
      sameDatabase: opened.sameDatabase,
      maxChunkRows: 2 * config.backpressure.chunkRows,
      send,
      pipelineName: opened.pipeline.name,
      sendDue: send === undefined ? undefined : (runId: string) => sendDueSteps(opened.target, send, runId),
      runs: new Map(),
    };
  })().catch((error: unknown) => {
    context = undefined; // the next invocation tries again instead of caching the failure
    throw error;
  });
  return context;
}

// Connect and resolve the pipeline during init, so the first record does not wait for it; a failure
// here is not fatal: the first invocation tries again and reports it.
workContext().catch(() => undefined);

/** A batch of several chunks is first tried as one transaction; what it did not complete goes record by record. */
async function copyBatchTogether(records: SQSRecord[], attemptsCounted: Set<string>): Promise<Map<string, ChunkResult>> {
  if (records.length < 2) return new Map();
  try {
    return await processChunkRecordsTogether(await workContext(), records, attemptsCounted);
  } catch (error) {
    log.warn('batch transaction failed and rolled back; copying its chunks one by one', { records: records.length, error });
    return new Map();
  }
}

async function recordHandler(record: SQSRecord, copiedWithBatch: ChunkResult | undefined, attemptCounted: boolean): Promise<void> {
  try {
    const ctx = await workContext();
    const result = copiedWithBatch === undefined
      ? await processRecord(ctx, record, config.backpressure.maxReceiveCount, { attemptCounted })
      : { kind: 'chunk' as const, ...copiedWithBatch };
    if (result.kind === 'step') {
      log.info(result.skipped ? 'step already done' : 'step done', { ...result, pipeline: ctx.pipelineName, messageId: record.messageId });
      return;
    }
    log.info(result.skipped ? 'chunk already done' : 'chunk committed', { ...result, pipeline: ctx.pipelineName, messageId: record.messageId });
    if (!result.skipped && config.emitMetrics) emitChunkMetrics({ ...result, pipeline: ctx.pipelineName }, config.metricsNamespace);
  } catch (error) {
    log.error('record failed', { messageId: record.messageId, receiveCount: record.attributes?.ApproximateReceiveCount, error });
    throw error;
  }
}

// A record that fails is reported as a batch item failure even when it is the whole batch: the
// invocation itself succeeds, so the Errors metric (and its alarm) means crashes and timeouts only.
export const handler = middy<SQSEvent, SQSBatchResponse>().handler(async (event: SQSEvent, lambdaContext: Context) => {
  const attemptsCounted = new Set<string>();
  const copied = await copyBatchTogether(event.Records, attemptsCounted);
  return processPartialResponse(event, (record: SQSRecord) => recordHandler(record, copied.get(record.messageId), attemptsCounted.has(record.messageId)), processor, {
    context: lambdaContext,
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
});
