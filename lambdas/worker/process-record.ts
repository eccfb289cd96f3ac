// SQS records -> work: a chunk (one by one, or a batch of chunks together) or a step of a shadow
// refresh. Kept apart from the handler so the local runtime's tests and the Lambda share it; the
// handler only wires middleware around it.
import type { SQSRecord } from 'aws-lambda';
import { chunkKey, decodeWorkMessage, type ChunkMessage } from '../shared/messages.ts';
import { runStep, type StepContext, type StepResult } from '../shadow/run-step.ts';
import { copyChunk, copyChunksTogether, type ChunkContext, type ChunkResult } from './copy-chunk.ts';

/** SQS's own count of deliveries; at maxReceiveCount this is the last before the DLQ. */
export function isLastAttempt(record: Pick<SQSRecord, 'attributes'>, maxReceiveCount: number): boolean {
  const count = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  return Number.isFinite(count) && count >= maxReceiveCount;
}

export type RecordResult = ({ kind: 'chunk' } & ChunkResult) | ({ kind: 'step' } & StepResult);

export async function processRecord(
  ctx: ChunkContext & StepContext,
  record: SQSRecord,
  maxReceiveCount: number,
  options: { attemptCounted?: boolean } = {},
): Promise<RecordResult> {
  const message = decodeWorkMessage(record.body);
  const lastAttempt = isLastAttempt(record, maxReceiveCount);
  if (message.kind === 'step') return { kind: 'step', ...(await runStep(ctx, message, { lastAttempt })) };
  return { kind: 'chunk', ...(await copyChunk(ctx, message, { lastAttempt, attemptCounted: options.attemptCounted })) };
}

/** One chunk record (kept for callers that only deal in chunks). */
export async function processChunkRecord(ctx: ChunkContext & StepContext, record: SQSRecord, maxReceiveCount: number, options: { attemptCounted?: boolean } = {}): Promise<ChunkResult> {
  const result = await processRecord(ctx, record, maxReceiveCount, options);
  if (result.kind !== 'chunk') throw new TypeError('processChunkRecord got a step message');
  const { kind: _kind, ...chunk } = result;
  return chunk;
}

/**
 * The chunk records of one batch copied together — one transaction, one COPY per target — when
 * there are several. Returns, by messageId, the results of the records it completed. The ones it
 * leaves out (steps, undecodable, a second record of the same chunk, not in the ledger) go through
 * processRecord one by one; so do all of them if it throws (nothing was written then), which
 * isolates and records a failing chunk.
 */
export async function processChunkRecordsTogether(
  ctx: ChunkContext,
  records: readonly SQSRecord[],
  /** Filled with the messageIds whose attempt was counted, before any throw: the fallback must not count them again. */
  attemptsCounted: Set<string>,
): Promise<Map<string, ChunkResult>> {
  const chosen: { messageId: string; chunk: ChunkMessage }[] = [];
  const seen = new Set<string>();
  for (const record of records) {
    let message: ReturnType<typeof decodeWorkMessage>;
    try {
      message = decodeWorkMessage(record.body);
    } catch {
      continue;
    }
    if (message.kind !== 'chunk') continue;
    const key = chunkKey(message);
    if (seen.has(key)) continue;
    seen.add(key);
    chosen.push({ messageId: record.messageId, chunk: message });
  }
  const results = new Map<string, ChunkResult>();
  if (chosen.length < 2) return results;
  const outcomes = await copyChunksTogether(
    ctx,
    chosen.map((c) => c.chunk),
    { onAttemptsCounted: () => chosen.forEach((c) => attemptsCounted.add(c.messageId)) },
  );
  outcomes.forEach((outcome, i) => {
    if (outcome.kind === 'done') results.set(chosen[i]!.messageId, outcome.result);
  });
  return results;
}
