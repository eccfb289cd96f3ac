// messages.ts on the current core (version 2: keys as text arrays, step messages). messages.test.ts
// still tests the bigint messages of before and is being ported on another branch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkKey, decodeChunkMessage, decodeWorkMessage, encodeChunkMessage, encodeStepMessage } from '../../../lambdas/shared/messages.ts';

const RUN = '0b9d8c52-6f1e-4f55-9c3a-2a4e7f1d3b6a';
const body = (o: Record<string, unknown>) => JSON.stringify(o);
const rejects = (text: string, message: string) => assert.throws(() => decodeWorkMessage(text), { name: 'InvalidMessageError', message });

describe('chunkKey', () => {
  it('joins the run id and the chunk number', () => {
    assert.equal(chunkKey({ runId: RUN, chunkNo: 7 }), `${RUN}/7`);
  });
});

describe('encodeChunkMessage and encodeStepMessage', () => {
  it('write version 2 with the kind, in a fixed field order', () => {
    assert.equal(encodeChunkMessage({ runId: RUN, chunkNo: 3, lo: ['1', 'a'], hi: null }), `{"v":2,"kind":"chunk","runId":"${RUN}","chunkNo":3,"lo":["1","a"],"hi":null}`);
    assert.equal(encodeStepMessage({ runId: RUN, stepNo: 2 }), `{"v":2,"kind":"step","runId":"${RUN}","stepNo":2}`);
  });

  it('round-trip through decodeWorkMessage', () => {
    assert.deepEqual(decodeWorkMessage(encodeChunkMessage({ runId: RUN, chunkNo: 0, lo: null, hi: ['9'] })), { kind: 'chunk', runId: RUN, chunkNo: 0, lo: null, hi: ['9'] });
    assert.deepEqual(decodeWorkMessage(encodeChunkMessage({ runId: RUN, chunkNo: 0, lo: null, hi: null })), { kind: 'chunk', runId: RUN, chunkNo: 0, lo: null, hi: null });
    assert.deepEqual(decodeWorkMessage(encodeStepMessage({ runId: RUN, stepNo: 0 })), { kind: 'step', runId: RUN, stepNo: 0 });
  });
});

describe('decodeWorkMessage', () => {
  it('decodes a version 2 chunk with composite keys, frozen', () => {
    const m = decodeWorkMessage(body({ v: 2, kind: 'chunk', runId: RUN, chunkNo: 12, lo: ['t', '1'], hi: ['t', '2'] }));
    assert.deepEqual(m, { kind: 'chunk', runId: RUN, chunkNo: 12, lo: ['t', '1'], hi: ['t', '2'] });
    assert.ok(m.kind === 'chunk' && Object.isFrozen(m.lo) && Object.isFrozen(m.hi));
  });

  it('accepts keys of up to 32 parts and refuses 33', () => {
    const k32 = Array.from({ length: 32 }, (_, i) => String(i));
    assert.deepEqual(decodeWorkMessage(body({ v: 2, kind: 'chunk', runId: RUN, chunkNo: 0, lo: k32, hi: null })), { kind: 'chunk', runId: RUN, chunkNo: 0, lo: k32, hi: null });
    const k33 = [...k32, '32'];
    rejects(body({ v: 2, kind: 'chunk', runId: RUN, chunkNo: 0, lo: k33, hi: null }), `message lo ${JSON.stringify(k33)} must be null or a key: an array of the key columns' values as text.`);
  });

  it('refuses a key that is not a non-empty array of strings, naming the field', () => {
    for (const bad of [[], [1], ['1', 2], '1', 1, {}, undefined]) {
      rejects(body({ v: 2, kind: 'chunk', runId: RUN, chunkNo: 0, lo: null, hi: bad }), `message hi ${JSON.stringify(bad)} must be null or a key: an array of the key columns' values as text.`);
    }
  });

  it('refuses an empty range', () => {
    rejects(body({ v: 2, kind: 'chunk', runId: RUN, chunkNo: 0, lo: ['a', '1'], hi: ['a', '1'] }), 'message range [(a, 1), (a, 1)) is empty.');
  });

  it('decodes version 1 bigint bounds as one-element keys, the smallest bigint as unbounded', () => {
    assert.deepEqual(decodeWorkMessage(body({ v: 1, runId: RUN, chunkNo: 4, lo: '-9223372036854775808', hi: '100' })), { kind: 'chunk', runId: RUN, chunkNo: 4, lo: null, hi: ['100'] });
    assert.deepEqual(decodeWorkMessage(body({ v: 1, runId: RUN, chunkNo: 4, lo: '-9223372036854775807', hi: null })), { kind: 'chunk', runId: RUN, chunkNo: 4, lo: ['-9223372036854775807'], hi: null });
    assert.deepEqual(decodeWorkMessage(body({ v: 1, kind: 'step', runId: RUN, chunkNo: 1, lo: '0010', hi: '9223372036854775807' })), { kind: 'chunk', runId: RUN, chunkNo: 1, lo: ['10'], hi: ['9223372036854775807'] });
  });

  it('refuses a version 1 bound that is not a bigint as decimal text', () => {
    for (const bad of ['1.5', '12345678901234567890', '', ' 1', '1 ', 'x1', ['1'], 1]) {
      rejects(body({ v: 1, runId: RUN, chunkNo: 0, lo: bad, hi: null }), `message lo ${JSON.stringify(bad)} must be a bigint as a decimal string.`);
      rejects(body({ v: 1, runId: RUN, chunkNo: 0, lo: '0', hi: bad }), `message hi ${JSON.stringify(bad)} must be a bigint as a decimal string.`);
    }
  });

  it('decodes a step message', () => {
    assert.deepEqual(decodeWorkMessage(body({ v: 2, kind: 'step', runId: RUN, stepNo: 5 })), { kind: 'step', runId: RUN, stepNo: 5 });
  });

  it('refuses a step number that is not a whole number from 0', () => {
    for (const bad of [-1, 1.5, '1', null, 2 ** 53]) {
      rejects(body({ v: 2, kind: 'step', runId: RUN, stepNo: bad }), `message stepNo ${JSON.stringify(bad)} is not a step number.`);
    }
  });

  it('refuses a chunk number that is not a whole number from 0', () => {
    for (const bad of [-1, 1.5, '1', null, 2 ** 53]) {
      rejects(body({ v: 2, kind: 'chunk', runId: RUN, chunkNo: bad, lo: null, hi: null }), `message chunkNo ${JSON.stringify(bad)} is not a chunk number.`);
    }
  });

  it('refuses an unknown kind', () => {
    rejects(body({ v: 2, kind: 'index', runId: RUN }), 'message kind "index" is unknown: expected "chunk" or "step".');
    rejects(body({ v: 2, runId: RUN, chunkNo: 0, lo: null, hi: null }), 'message kind undefined is unknown: expected "chunk" or "step".');
  });

  it('refuses a run id that is not a lower-case uuid', () => {
    for (const bad of [RUN.toUpperCase(), `${RUN}x`, `x${RUN}`, 42]) {
      rejects(body({ v: 2, kind: 'step', runId: bad, stepNo: 0 }), `message runId ${JSON.stringify(bad)} is not a run id (uuid).`);
    }
  });

  it('refuses another version, naming it and the fix', () => {
    for (const bad of [3, 0, '2', null]) {
      rejects(body({ v: bad, kind: 'step', runId: RUN, stepNo: 0 }), `message version ${JSON.stringify(bad)} is not 2: it was sent by another pg-fanout version; redeploy matching versions.`);
    }
  });

  it('refuses JSON that is not an object', () => {
    for (const bad of ['[]', 'null', '42', '"chunk"']) rejects(bad, `message body ${JSON.stringify(bad)} is not a work message object.`);
  });

  it('refuses a body that is not JSON, previewing at most 80 characters', () => {
    rejects('not json', 'message body is not JSON ("not json"): work messages are sent by the coordinator; move this one out of the queue.');
    const long = 'x'.repeat(81);
    rejects(long, `message body is not JSON ("${'x'.repeat(80)}…"): work messages are sent by the coordinator; move this one out of the queue.`);
    const eighty = 'y'.repeat(80);
    rejects(eighty, `message body is not JSON ("${eighty}"): work messages are sent by the coordinator; move this one out of the queue.`);
  });
});

describe('decodeChunkMessage', () => {
  it('returns a chunk message', () => {
    assert.deepEqual(decodeChunkMessage(encodeChunkMessage({ runId: RUN, chunkNo: 1, lo: ['5'], hi: ['6'] })), { kind: 'chunk', runId: RUN, chunkNo: 1, lo: ['5'], hi: ['6'] });
  });

  it('refuses a step message, naming it', () => {
    const step = encodeStepMessage({ runId: RUN, stepNo: 1 });
    assert.throws(() => decodeChunkMessage(step), { name: 'InvalidMessageError', message: `message ${JSON.stringify(step)} is a step message, not a chunk.` });
  });
});
