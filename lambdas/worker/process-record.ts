// One SQS record -> one chunk operation. Kept apart from the handler so the local runtime's tests
// and the Lambda share it; the handler only wires middleware around it.
import type { SQSRecord } from 'aws-lambda';
import { decodeChunkMessage } from '../shared/messages.ts';
import { copyChunk, type ChunkContext, type ChunkResult } from './copy-chunk.ts';

/** SQS's own count of deliveries; at maxReceiveCount this is the last before the DLQ. */
export function isLastAttempt(record: Pick<SQSRecord, 'attributes'>, maxReceiveCount: number): boolean {
  const count = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  return Number.isFinite(count) && count >= maxReceiveCount;
}

export async function processChunkRecord(ctx: ChunkContext, record: SQSRecord, maxReceiveCount: number): Promise<ChunkResult> {
  const message = decodeChunkMessage(record.body);
  return copyChunk(ctx, message, { lastAttempt: isLastAttempt(record, maxReceiveCount) });
}
