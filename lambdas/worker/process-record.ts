// SQS records -> chunk operations (one by one, or a batch together). Kept apart from the handler so the local runtime's tests
// and the Lambda share it; the handler only wires middleware around it.
import type { SQSRecord } from 'aws-lambda';
import { chunkKey, decodeChunkMessage, type ChunkMessage } from '../shared/messages.ts';
import { copyChunk, copyChunksTogether, type ChunkContext, type ChunkResult } from './copy-chunk.ts';

/** SQS's own count of deliveries; at maxReceiveCount this is the last before the DLQ. */
export function isLastAttempt(record: Pick<SQSRecord, 'attributes'>, maxReceiveCount: number): boolean {
  const count = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  return Number.isFinite(count) && count >= maxReceiveCount;
}

export async function processChunkRecord(ctx: ChunkContext, record: SQSRecord, maxReceiveCount: number, options: { attemptCounted?: boolean } = {}): Promise<ChunkResult> {
  const message = decodeChunkMessage(record.body);
  return copyChunk(ctx, message, { lastAttempt: isLastAttempt(record, maxReceiveCount), attemptCounted: options.attemptCounted });
}

/**
 * The records of one batch copied together — one transaction, one COPY FROM — when there are
 * several. Returns, by messageId, the results of the records it completed. The ones it leaves out
 * (undecodable, a second record of the same chunk, not in the ledger) go through
 * processChunkRecord one by one; so do all of them if it throws (nothing was written then), which
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
    let chunk: ChunkMessage;
    try {
      chunk = decodeChunkMessage(record.body);
    } catch {
      continue;
    }
    const key = chunkKey(chunk);
    if (seen.has(key)) continue;
    seen.add(key);
    chosen.push({ messageId: record.messageId, chunk });
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
