// The work messages: chunk messages of version 2 (keys as arrays of each key column's text, null
// for unbounded) and step messages, encoded and strictly decoded; version 1 chunk messages (bigint
// keys as decimal strings), which a queue may still hold after an upgrade, decoded as strictly as
// version 1 did.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, InvalidMessageError, PgFanoutError } from '../../../lambdas/shared/errors.ts';
import type { KeyValue } from '../../../lambdas/shared/keys.ts';
import { decodeChunkMessage, decodeWorkMessage, encodeChunkMessage, encodeStepMessage, type ChunkMessage } from '../../../lambdas/shared/messages.ts';

const RUN_ID = '0b7e6a4c-3f2d-4e1a-9c8b-7a6f5e4d3c2b';
const TWO_53 = 2n ** 53n;
const MIN_BIGINT = -(2n ** 63n);
const MAX_BIGINT = 2n ** 63n - 1n;
const k = (n: bigint): KeyValue => [n.toString()];

/** A valid version 1 body with some fields replaced (undefined deletes the field). */
function body(fields: Record<string, unknown>): string {
  const o: Record<string, unknown> = { v: 1, runId: RUN_ID, chunkNo: 3, lo: '10', hi: '20', ...fields };
  for (const [key, v] of Object.entries(fields)) if (v === undefined) delete o[key];
  return JSON.stringify(o);
}

/** A valid version 2 chunk body with some fields replaced (undefined deletes the field). */
function body2(fields: Record<string, unknown>): string {
  const o: Record<string, unknown> = { v: 2, kind: 'chunk', runId: RUN_ID, chunkNo: 3, lo: ['10'], hi: ['20'], ...fields };
  for (const [key, v] of Object.entries(fields)) if (v === undefined) delete o[key];
  return JSON.stringify(o);
}

function rejects(text: string, message: string | RegExp): void {
  let caught: unknown;
  try {
    decodeChunkMessage(text);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof InvalidMessageError, `${text} should throw InvalidMessageError, got ${String(caught)}`);
  assert.ok(caught instanceof PgFanoutError);
  assert.equal(caught instanceof ConfigError, false);
  assert.equal(caught.name, 'InvalidMessageError');
  if (typeof message === 'string') assert.equal(caught.message, message);
  else assert.match(caught.message, message);
}

describe('encodeChunkMessage', () => {
  it('writes version 2 with each key as an array of its columns\' text', () => {
    assert.equal(
      encodeChunkMessage({ runId: RUN_ID, chunkNo: 3, lo: k(10n), hi: k(20n) }),
      `{"v":2,"kind":"chunk","runId":"${RUN_ID}","chunkNo":3,"lo":["10"],"hi":["20"]}`,
    );
  });

  it('writes an unbounded end as null', () => {
    assert.equal(
      encodeChunkMessage({ runId: RUN_ID, chunkNo: 0, lo: null, hi: null }),
      `{"v":2,"kind":"chunk","runId":"${RUN_ID}","chunkNo":0,"lo":null,"hi":null}`,
    );
  });

  it('writes keys above 2^53 digit for digit', () => {
    const encoded = encodeChunkMessage({ runId: RUN_ID, chunkNo: 1, lo: k(TWO_53 + 1n), hi: k(MAX_BIGINT) });
    assert.deepEqual(JSON.parse(encoded).lo, ['9007199254740993']);
    assert.deepEqual(JSON.parse(encoded).hi, ['9223372036854775807']);
  });
});

describe('encodeStepMessage', () => {
  it('writes version 2 with kind step, and decodes back', () => {
    const text = encodeStepMessage({ runId: RUN_ID, stepNo: 4 });
    assert.equal(text, `{"v":2,"kind":"step","runId":"${RUN_ID}","stepNo":4}`);
    assert.deepEqual(decodeWorkMessage(text), { kind: 'step', runId: RUN_ID, stepNo: 4 });
    assert.throws(() => decodeChunkMessage(text), { name: 'InvalidMessageError', message: /is a step message, not a chunk/ });
  });
});

describe('decodeChunkMessage round trip', () => {
  const messages: ChunkMessage[] = [
    { runId: RUN_ID, chunkNo: 0, lo: null, hi: null },
    { runId: RUN_ID, chunkNo: 1, lo: k(MIN_BIGINT), hi: k(MAX_BIGINT) },
    { runId: RUN_ID, chunkNo: 2, lo: k(MIN_BIGINT), hi: k(MIN_BIGINT + 1n) },
    { runId: RUN_ID, chunkNo: 3, lo: k(MAX_BIGINT - 1n), hi: k(MAX_BIGINT) },
    { runId: RUN_ID, chunkNo: 4, lo: k(MAX_BIGINT), hi: null },
    { runId: RUN_ID, chunkNo: 5, lo: k(-1n), hi: k(0n) },
    { runId: RUN_ID, chunkNo: 6, lo: null, hi: k(1n) },
    { runId: RUN_ID, chunkNo: 7, lo: k(TWO_53 + 1n), hi: k(TWO_53 + 3n) },
    { runId: RUN_ID, chunkNo: 8, lo: k(-TWO_53 - 3n), hi: k(-TWO_53 - 1n) },
    { runId: 'ffffffff-ffff-ffff-ffff-ffffffffffff', chunkNo: Number.MAX_SAFE_INTEGER, lo: k(123456789012345678n), hi: null },
    { runId: '00000000-0000-0000-0000-000000000000', chunkNo: 9, lo: k(5n), hi: k(6n) },
    { runId: RUN_ID, chunkNo: 10, lo: ['t1', '7'], hi: ['t1', '8'] },
    { runId: RUN_ID, chunkNo: 11, lo: ['a "quoted", {braced} \\ text', 'NULL'], hi: null },
  ];
  for (const m of messages) {
    it(`returns the same message for chunk ${m.chunkNo} [${m.lo ?? '-inf'}, ${m.hi ?? '+inf'})`, () => {
      assert.deepEqual(decodeChunkMessage(encodeChunkMessage(m)), { kind: 'chunk', ...m });
    });
  }

  it('keeps version 1 keys above 2^53 exact where a JS number would round them', () => {
    const m = decodeChunkMessage(body({ lo: '9007199254740993', hi: '9007199254740995' }));
    assert.deepEqual(m.lo, ['9007199254740993']);
    assert.deepEqual(m.hi, ['9007199254740995']);
    assert.notEqual(BigInt(Number('9007199254740993')).toString(), m.lo![0]);
  });

  it('ignores fields it does not know', () => {
    assert.deepEqual(decodeChunkMessage(body({ extra: 'x', trace: { id: 1 } })), { kind: 'chunk', runId: RUN_ID, chunkNo: 3, lo: k(10n), hi: k(20n) });
    assert.deepEqual(decodeChunkMessage(body2({ extra: 'x', trace: { id: 1 } })), { kind: 'chunk', runId: RUN_ID, chunkNo: 3, lo: k(10n), hi: k(20n) });
  });

  it('reads version 1 leading zeros and -0 as the same key', () => {
    assert.deepEqual(decodeChunkMessage(body({ lo: '-0', hi: '0007' })), { kind: 'chunk', runId: RUN_ID, chunkNo: 3, lo: k(0n), hi: k(7n) });
  });

  it('reads a version 1 full run\'s first chunk, which starts at the smallest bigint, as unbounded below', () => {
    assert.deepEqual(decodeChunkMessage(body({ lo: MIN_BIGINT.toString(), hi: null })), { kind: 'chunk', runId: RUN_ID, chunkNo: 3, lo: null, hi: null });
  });
});

describe('decodeChunkMessage rejects', () => {
  it('a body that is not JSON, quoting it', () => {
    rejects('not json', 'message body is not JSON ("not json"): work messages are sent by the coordinator; move this one out of the queue.');
    rejects('', 'message body is not JSON (""): work messages are sent by the coordinator; move this one out of the queue.');
    rejects('{"v":1,', /^message body is not JSON \("\{\\"v\\":1,"\)/);
  });

  it('a long non-JSON body, quoting only its first 80 characters', () => {
    const long = `x${'y'.repeat(200)}`;
    rejects(long, `message body is not JSON (${JSON.stringify(`${long.slice(0, 80)}…`)}): work messages are sent by the coordinator; move this one out of the queue.`);
  });

  it('JSON that is not an object', () => {
    for (const text of ['null', '42', '"str"', 'true']) {
      rejects(text, `message body ${JSON.stringify(text)} is not a work message object.`);
    }
  });

  it('a JSON array, as not a work message object', () => {
    rejects('[]', /^message body "\[\]" is not a work message object/);
  });

  it('a wrong or missing version (1 and 2 are read)', () => {
    const fix = 'it was sent by another pg-fanout version; redeploy matching versions.';
    rejects(body({ v: 3 }), `message version 3 is not 2: ${fix}`);
    rejects(body({ v: '1' }), `message version "1" is not 2: ${fix}`);
    rejects(body2({ v: '2' }), `message version "2" is not 2: ${fix}`);
    rejects(body({ v: 0 }), `message version 0 is not 2: ${fix}`);
    rejects(body({ v: null }), `message version null is not 2: ${fix}`);
    rejects(body({ v: undefined }), `message version undefined is not 2: ${fix}`);
  });

  it('a version 2 message of an unknown kind, or with no kind', () => {
    rejects(body2({ kind: 'swap' }), 'message kind "swap" is unknown: expected "chunk" or "step".');
    rejects(body2({ kind: undefined }), 'message kind undefined is unknown: expected "chunk" or "step".');
  });

  it('a runId that is not a lower-case uuid', () => {
    for (const runId of ['abc', RUN_ID.toUpperCase(), `{${RUN_ID}}`, RUN_ID.replaceAll('-', ''), `${RUN_ID} `, `${RUN_ID}0`, '', 42, null]) {
      rejects(body({ runId }), `message runId ${JSON.stringify(runId)} is not a run id (uuid).`);
      rejects(body2({ runId }), `message runId ${JSON.stringify(runId)} is not a run id (uuid).`);
    }
    rejects(body({ runId: undefined }), 'message runId undefined is not a run id (uuid).');
  });

  it('a chunkNo that is negative, fractional, too large or not a number', () => {
    for (const chunkNo of [-1, 1.5, 2 ** 53, '3', null, true]) {
      rejects(body({ chunkNo }), `message chunkNo ${JSON.stringify(chunkNo)} is not a chunk number.`);
      rejects(body2({ chunkNo }), `message chunkNo ${JSON.stringify(chunkNo)} is not a chunk number.`);
    }
    rejects(body({ chunkNo: undefined }), 'message chunkNo undefined is not a chunk number.');
    rejects(body({}).replace('"chunkNo":3', '"chunkNo":1e400'), 'message chunkNo null is not a chunk number.');
  });

  it('a key sent as a number instead of a string (version 1) or instead of an array of text (version 2)', () => {
    rejects(body({ lo: 5 }), 'message lo 5 must be a bigint as a decimal string.');
    rejects(body({ hi: 20 }), 'message hi 20 must be a bigint as a decimal string.');
    rejects(body({ lo: 9007199254740993 }), 'message lo 9007199254740992 must be a bigint as a decimal string.');
    const v2 = (name: string, value: string) => `message ${name} ${value} must be null or a key: an array of the key columns' values as text.`;
    rejects(body2({ lo: 5 }), v2('lo', '5'));
    rejects(body2({ hi: '20' }), v2('hi', '"20"'));
    rejects(body2({ lo: [5] }), v2('lo', '[5]'));
    rejects(body2({ lo: ['5', null] }), v2('lo', '["5",null]'));
    rejects(body2({ lo: [] }), v2('lo', '[]'));
    rejects(body2({ lo: Array(33).fill('1') }), v2('lo', JSON.stringify(Array(33).fill('1'))));
  });

  it('a missing or null version 1 lower key, and a missing upper key', () => {
    rejects(body({ lo: undefined }), 'message lo undefined must be a bigint as a decimal string.');
    rejects(body({ lo: null }), 'message lo null must be a bigint as a decimal string.');
    rejects(body({ hi: undefined }), 'message hi undefined must be a bigint as a decimal string.');
    rejects(body2({ lo: undefined }), "message lo undefined must be null or a key: an array of the key columns' values as text.");
    rejects(body2({ hi: undefined }), "message hi undefined must be null or a key: an array of the key columns' values as text.");
  });

  it('version 1 key text that is not decimal digits', () => {
    for (const lo of ['1.5', '', ' 1', '1 ', '+1', '0x10', '1e3', '-', '--1', '12345678901234567890', '١٢']) {
      rejects(body({ lo }), `message lo ${JSON.stringify(lo)} must be a bigint as a decimal string.`);
    }
    rejects(body({ hi: 'inf' }), 'message hi "inf" must be a bigint as a decimal string.');
  });

  it('version 1 keys outside the bigint range', () => {
    rejects(body({ lo: '9223372036854775808', hi: null }), 'message lo is 9223372036854775808: it is outside the bigint range.');
    rejects(body({ lo: '-9223372036854775809' }), 'message lo is -9223372036854775809: it is outside the bigint range.');
    rejects(body({ lo: '0', hi: '9223372036854775808' }), 'message hi is 9223372036854775808: it is outside the bigint range.');
    rejects(body({ lo: '0', hi: '9999999999999999999' }), 'message hi is 9999999999999999999: it is outside the bigint range.');
  });

  it('an empty range: hi not above lo (version 1, bigints), hi equal to lo (version 2, keys of any order)', () => {
    rejects(body({ lo: '5', hi: '5' }), 'message range [5, 5) is empty.');
    rejects(body({ lo: '5', hi: '4' }), 'message range [5, 4) is empty.');
    rejects(body({ lo: MAX_BIGINT.toString(), hi: MIN_BIGINT.toString() }), `message range [${MAX_BIGINT}, ${MIN_BIGINT}) is empty.`);
    // The smallest bigint as hi is empty too, not unbounded (unbounded is a lo of the smallest bigint).
    rejects(body({ lo: MIN_BIGINT.toString(), hi: MIN_BIGINT.toString() }), `message range [${MIN_BIGINT}, ${MIN_BIGINT}) is empty.`);
    rejects(body2({ lo: ['5'], hi: ['5'] }), 'message range [5, 5) is empty.');
    rejects(body2({ lo: ['t1', '7'], hi: ['t1', '7'] }), 'message range [(t1, 7), (t1, 7)) is empty.');
  });
});
