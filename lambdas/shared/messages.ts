// The SQS messages that carry work from the coordinator to workers: a chunk (one key range to
// copy) or a step of a run's finishing phase (build an index on a shadow table, swap the shadow
// tables in). Their encoder and a strict decoder. Keys travel as text (see keys.ts).
import { InvalidMessageError } from './errors.ts';
import { rangeText, sameKey, type KeyValue } from './keys.ts';

export interface ChunkMessage {
  readonly kind?: 'chunk';
  readonly runId: string;
  readonly chunkNo: number;
  /** Inclusive lower bound; null = unbounded below. */
  readonly lo: KeyValue | null;
  /** Exclusive upper bound; null = unbounded above. */
  readonly hi: KeyValue | null;
}

export interface StepMessage {
  readonly kind: 'step';
  readonly runId: string;
  readonly stepNo: number;
}

export type WorkMessage = (ChunkMessage & { readonly kind: 'chunk' }) | StepMessage;

/** Identifies a chunk across runs: for sets and maps of chunks. */
export function chunkKey(chunk: { runId: string; chunkNo: number }): string {
  return `${chunk.runId}/${chunk.chunkNo}`;
}

const VERSION = 2;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_KEY_PARTS = 32;

export function encodeChunkMessage(m: ChunkMessage): string {
  return JSON.stringify({ v: VERSION, kind: 'chunk', runId: m.runId, chunkNo: m.chunkNo, lo: m.lo, hi: m.hi });
}

export function encodeStepMessage(m: Omit<StepMessage, 'kind'>): string {
  return JSON.stringify({ v: VERSION, kind: 'step', runId: m.runId, stepNo: m.stepNo });
}

/** A chunk message, or an InvalidMessageError naming what is wrong. */
export function decodeChunkMessage(body: string): ChunkMessage & { readonly kind: 'chunk' } {
  const m = decodeWorkMessage(body);
  if (m.kind !== 'chunk') throw new InvalidMessageError(`message ${preview(body)} is a ${m.kind} message, not a chunk.`);
  return m;
}

export function decodeWorkMessage(body: string): WorkMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new InvalidMessageError(`message body is not JSON (${preview(body)}): work messages are sent by the coordinator; move this one out of the queue.`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidMessageError(`message body ${preview(body)} is not a work message object.`);
  const o = raw as Record<string, unknown>;
  if (o.v !== VERSION && o.v !== 1) throw new InvalidMessageError(`message version ${JSON.stringify(o.v)} is not ${VERSION}: it was sent by another pg-fanout version; redeploy matching versions.`);
  if (typeof o.runId !== 'string' || !UUID.test(o.runId)) throw new InvalidMessageError(`message runId ${JSON.stringify(o.runId)} is not a run id (uuid).`);
  const kind = o.v === 1 ? 'chunk' : o.kind;
  if (kind === 'step') {
    if (typeof o.stepNo !== 'number' || !Number.isSafeInteger(o.stepNo) || o.stepNo < 0) throw new InvalidMessageError(`message stepNo ${JSON.stringify(o.stepNo)} is not a step number.`);
    return { kind: 'step', runId: o.runId, stepNo: o.stepNo };
  }
  if (kind !== 'chunk') throw new InvalidMessageError(`message kind ${JSON.stringify(o.kind)} is unknown: expected "chunk" or "step".`);
  if (typeof o.chunkNo !== 'number' || !Number.isSafeInteger(o.chunkNo) || o.chunkNo < 0) {
    throw new InvalidMessageError(`message chunkNo ${JSON.stringify(o.chunkNo)} is not a chunk number.`);
  }
  if (o.v === 1) return { kind: 'chunk', runId: o.runId, chunkNo: o.chunkNo, ...legacyRange(o.lo, o.hi) };
  const lo = keyField(o.lo, 'lo');
  const hi = keyField(o.hi, 'hi');
  if (lo !== null && hi !== null && sameKey(lo, hi)) throw new InvalidMessageError(`message range ${rangeText(lo, hi)} is empty.`);
  return { kind: 'chunk', runId: o.runId, chunkNo: o.chunkNo, lo, hi };
}

function keyField(value: unknown, name: string): KeyValue | null {
  if (value === null) return null;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_KEY_PARTS || value.some((v) => typeof v !== 'string')) {
    throw new InvalidMessageError(`message ${name} ${JSON.stringify(value)} must be null or a key: an array of the key columns' values as text.`);
  }
  return Object.freeze([...value] as string[]);
}

const MIN_BIGINT = -(2n ** 63n);
const MAX_BIGINT = 2n ** 63n - 1n;

/**
 * Version 1 carried a bigint range as decimal strings: lo always, hi or null (unbounded above).
 * Checked as strictly as version 1 was (bigint range, hi above lo: bigints can be compared), then
 * held as one-element keys; a full run's lo, the smallest bigint, is the ledger's unbounded bound.
 */
function legacyRange(lo: unknown, hi: unknown): { lo: KeyValue | null; hi: KeyValue | null } {
  const l = legacyBigint(lo, 'lo');
  const h = hi === null ? null : legacyBigint(hi, 'hi');
  if (h !== null && h <= l) throw new InvalidMessageError(`message range [${l}, ${h}) is empty.`);
  return { lo: l === MIN_BIGINT ? null : Object.freeze([l.toString()]), hi: h === null ? null : Object.freeze([h.toString()]) };
}

function legacyBigint(value: unknown, name: string): bigint {
  if (typeof value !== 'string' || !/^-?\d{1,19}$/.test(value)) throw new InvalidMessageError(`message ${name} ${JSON.stringify(value)} must be a bigint as a decimal string.`);
  const key = BigInt(value);
  if (key < MIN_BIGINT || key > MAX_BIGINT) throw new InvalidMessageError(`message ${name} is ${value}: it is outside the bigint range.`);
  return key;
}

function preview(body: string): string {
  return JSON.stringify(body.length > 80 ? `${body.slice(0, 80)}…` : body);
}
