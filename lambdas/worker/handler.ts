// Worker Lambda: wiring only. Config is parsed at cold start; the two connections (one COPYs out
// while the other COPYs in) are opened once and reused across invocations. The chunks of a batch
// are first copied in one transaction; if that fails they run one after another, so a failed record
// is reported alone (ReportBatchItemFailures) without failing its batch-mates. Either way a worker
// never holds more than CONNECTIONS_PER_WORKER connections.
import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { CONNECTIONS_PER_WORKER, loadConfig } from '../shared/config.ts';
import { openPool } from '../shared/db.ts';
import { createLogger } from '../shared/log.ts';
import { emitChunkMetrics } from '../shared/metrics.ts';
import { preparePipeline } from '../shared/pipeline.ts';
import { splitNameTransform } from '../transform/split-name-transform.ts';
import type { ChunkContext, ChunkResult } from './copy-chunk.ts';
import { processChunkRecord, processChunkRecordsTogether } from './process-record.ts';

const config = loadConfig();
const log = createLogger('pg-fanout-worker', config.logLevel);
const processor = new BatchProcessor(EventType.SQS);
let context: Promise<ChunkContext> | undefined;

function chunkContext(): Promise<ChunkContext> {
  context ??= (async () => {
    const pool = await openPool(config.database, { max: CONNECTIONS_PER_WORKER, applicationName: 'pg-fanout-worker' });
    const tables = await preparePipeline(pool, config, splitNameTransform, { createTarget: true });
    return { pool, tables, transform: splitNameTransform };
  })().catch((error: unknown) => {
    context = undefined; // the next invocation tries again instead of caching the failure
    throw error;
  });
  return context;
}

// Connect and resolve the tables during init, so the first record does not wait for it; a failure
// here is not fatal: the first invocation tries again and reports it.
chunkContext().catch(() => undefined);

/** A batch of several chunks is first tried as one transaction; what it did not complete goes record by record. */
async function copyBatchTogether(records: SQSRecord[], attemptsCounted: Set<string>): Promise<Map<string, ChunkResult>> {
  if (records.length < 2) return new Map();
  try {
    return await processChunkRecordsTogether(await chunkContext(), records, attemptsCounted);
  } catch (error) {
    log.warn('batch transaction failed and rolled back; copying its chunks one by one', { records: records.length, error });
    return new Map();
  }
}

async function recordHandler(record: SQSRecord, copiedWithBatch: ChunkResult | undefined, attemptCounted: boolean): Promise<void> {
  try {
    const result = copiedWithBatch ?? (await processChunkRecord(await chunkContext(), record, config.backpressure.maxReceiveCount, { attemptCounted }));
    log.info(result.skipped ? 'chunk already done' : 'chunk committed', { ...result, messageId: record.messageId });
    if (!result.skipped && config.emitMetrics) emitChunkMetrics(result);
  } catch (error) {
    log.error('chunk failed', { messageId: record.messageId, receiveCount: record.attributes?.ApproximateReceiveCount, error });
    throw error;
  }
}

// A chunk that fails is reported as a batch item failure even when it is the whole batch: the
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
