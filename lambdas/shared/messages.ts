// The SQS message that carries one chunk from the coordinator to a worker: its encoder and a strict
// decoder. Keys travel as decimal strings so no bigint ever passes through a JS number.
import { InvalidMessageError } from './errors.ts';
import { parseKey } from './keys.ts';

export interface ChunkMessage {
  readonly runId: string;
  readonly chunkNo: number;
  /** Inclusive lower bound. */
  readonly lo: bigint;
  /** Exclusive upper bound; null = unbounded (2^63 does not fit a bigint). */
  readonly hi: bigint | null;
}

/** Identifies a chunk across runs: for sets and maps of chunks. */
export function chunkKey(chunk: { runId: string; chunkNo: number }): string {
  return `${chunk.runId}/${chunk.chunkNo}`;
}

const VERSION = 1;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeChunkMessage(m: ChunkMessage): string {
  return JSON.stringify({ v: VERSION, runId: m.runId, chunkNo: m.chunkNo, lo: m.lo.toString(), hi: m.hi === null ? null : m.hi.toString() });
}

export function decodeChunkMessage(body: string): ChunkMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new InvalidMessageError(`message body is not JSON (${preview(body)}): chunk messages are sent by the coordinator; move this one out of the queue.`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidMessageError(`message body ${preview(body)} is not a chunk message object.`);
  const o = raw as Record<string, unknown>;
  if (o.v !== VERSION) throw new InvalidMessageError(`message version ${JSON.stringify(o.v)} is not ${VERSION}: it was sent by another pg-fanout version; redeploy matching versions.`);
  if (typeof o.runId !== 'string' || !UUID.test(o.runId)) throw new InvalidMessageError(`message runId ${JSON.stringify(o.runId)} is not a run id (uuid).`);
  if (typeof o.chunkNo !== 'number' || !Number.isSafeInteger(o.chunkNo) || o.chunkNo < 0) {
    throw new InvalidMessageError(`message chunkNo ${JSON.stringify(o.chunkNo)} is not a chunk number.`);
  }
  const lo = keyField(o.lo, 'lo');
  const hi = o.hi === null ? null : keyField(o.hi, 'hi');
  if (hi !== null && hi <= lo) throw new InvalidMessageError(`message range [${lo}, ${hi}) is empty.`);
  return { runId: o.runId, chunkNo: o.chunkNo, lo, hi };
}

function keyField(value: unknown, name: string): bigint {
  if (typeof value !== 'string') throw new InvalidMessageError(`message ${name} ${JSON.stringify(value)} must be a bigint as a decimal string.`);
  try {
    return parseKey(value, `message ${name}`);
  } catch (error) {
    throw new InvalidMessageError((error as Error).message);
  }
}

function preview(body: string): string {
  return JSON.stringify(body.length > 80 ? `${body.slice(0, 80)}…` : body);
}
