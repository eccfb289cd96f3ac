import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, InvalidMessageError, PgFanoutError } from '../../../lambdas/shared/errors.ts';
import { MAX_KEY, MIN_KEY } from '../../../lambdas/shared/keys.ts';
import { decodeChunkMessage, encodeChunkMessage, type ChunkMessage } from '../../../lambdas/shared/messages.ts';

const RUN_ID = '0b7e6a4c-3f2d-4e1a-9c8b-7a6f5e4d3c2b';
const TWO_53 = 2n ** 53n;

/** A valid body with some fields replaced (undefined deletes the field). */
function body(fields: Record<string, unknown>): string {
  const o: Record<string, unknown> = { v: 1, runId: RUN_ID, chunkNo: 3, lo: '10', hi: '20', ...fields };
  for (const [k, v] of Object.entries(fields)) if (v === undefined) delete o[k];
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
  it('writes version 1 with keys as decimal strings', () => {
    assert.equal(
      encodeChunkMessage({ runId: RUN_ID, chunkNo: 3, lo: 10n, hi: 20n }),
      `{"v":1,"runId":"${RUN_ID}","chunkNo":3,"lo":"10","hi":"20"}`,
    );
  });

  it('writes an unbounded upper end as null', () => {
    assert.equal(
      encodeChunkMessage({ runId: RUN_ID, chunkNo: 0, lo: MIN_KEY, hi: null }),
      `{"v":1,"runId":"${RUN_ID}","chunkNo":0,"lo":"-9223372036854775808","hi":null}`,
    );
  });

  it('writes keys above 2^53 digit for digit', () => {
    const encoded = encodeChunkMessage({ runId: RUN_ID, chunkNo: 1, lo: TWO_53 + 1n, hi: MAX_KEY });
    assert.equal(JSON.parse(encoded).lo, '9007199254740993');
    assert.equal(JSON.parse(encoded).hi, '9223372036854775807');
  });
});

describe('decodeChunkMessage round trip', () => {
  const messages: ChunkMessage[] = [
    { runId: RUN_ID, chunkNo: 0, lo: MIN_KEY, hi: null },
    { runId: RUN_ID, chunkNo: 1, lo: MIN_KEY, hi: MAX_KEY },
    { runId: RUN_ID, chunkNo: 2, lo: MIN_KEY, hi: MIN_KEY + 1n },
    { runId: RUN_ID, chunkNo: 3, lo: MAX_KEY - 1n, hi: MAX_KEY },
    { runId: RUN_ID, chunkNo: 4, lo: MAX_KEY, hi: null },
    { runId: RUN_ID, chunkNo: 5, lo: -1n, hi: 0n },
    { runId: RUN_ID, chunkNo: 6, lo: 0n, hi: 1n },
    { runId: RUN_ID, chunkNo: 7, lo: TWO_53 + 1n, hi: TWO_53 + 3n },
    { runId: RUN_ID, chunkNo: 8, lo: -TWO_53 - 3n, hi: -TWO_53 - 1n },
    { runId: 'ffffffff-ffff-ffff-ffff-ffffffffffff', chunkNo: Number.MAX_SAFE_INTEGER, lo: 123456789012345678n, hi: null },
    { runId: '00000000-0000-0000-0000-000000000000', chunkNo: 9, lo: 5n, hi: 6n },
  ];
  for (const m of messages) {
    it(`returns the same message for chunk ${m.chunkNo} [${m.lo}, ${m.hi ?? '+inf'})`, () => {
      assert.deepEqual(decodeChunkMessage(encodeChunkMessage(m)), m);
    });
  }

  it('keeps keys above 2^53 exact where a JS number would round them', () => {
    const m = decodeChunkMessage(body({ lo: '9007199254740993', hi: '9007199254740995' }));
    assert.equal(m.lo, 9007199254740993n);
    assert.equal(m.hi, 9007199254740995n);
    assert.notEqual(BigInt(Number('9007199254740993')), m.lo);
  });

  it('ignores fields it does not know', () => {
    assert.deepEqual(decodeChunkMessage(body({ extra: 'x', trace: { id: 1 } })), { runId: RUN_ID, chunkNo: 3, lo: 10n, hi: 20n });
  });

  it('reads leading zeros and -0 as the same key', () => {
    assert.deepEqual(decodeChunkMessage(body({ lo: '-0', hi: '0007' })), { runId: RUN_ID, chunkNo: 3, lo: 0n, hi: 7n });
  });
});

describe('decodeChunkMessage rejects', () => {
  it('a body that is not JSON, quoting it', () => {
    rejects('not json', 'message body is not JSON ("not json"): chunk messages are sent by the coordinator; move this one out of the queue.');
    rejects('', 'message body is not JSON (""): chunk messages are sent by the coordinator; move this one out of the queue.');
    rejects('{"v":1,', /^message body is not JSON \("\{\\"v\\":1,"\)/);
  });

  it('a long non-JSON body, quoting only its first 80 characters', () => {
    const long = `x${'y'.repeat(200)}`;
    rejects(long, `message body is not JSON (${JSON.stringify(`${long.slice(0, 80)}…`)}): chunk messages are sent by the coordinator; move this one out of the queue.`);
  });

  it('JSON that is not an object', () => {
    for (const text of ['null', '42', '"str"', 'true']) {
      rejects(text, `message body ${JSON.stringify(text)} is not a chunk message object.`);
    }
  });

  it('a JSON array, as not a chunk message object', () => {
    rejects('[]', /^message body "\[\]" is not a chunk message object/);
  });

  it('a wrong or missing version', () => {
    const fix = 'it was sent by another pg-fanout version; redeploy matching versions.';
    rejects(body({ v: 2 }), `message version 2 is not 1: ${fix}`);
    rejects(body({ v: '1' }), `message version "1" is not 1: ${fix}`);
    rejects(body({ v: 0 }), `message version 0 is not 1: ${fix}`);
    rejects(body({ v: null }), `message version null is not 1: ${fix}`);
    rejects(body({ v: undefined }), `message version undefined is not 1: ${fix}`);
  });

  it('a runId that is not a lower-case uuid', () => {
    for (const runId of ['abc', RUN_ID.toUpperCase(), `{${RUN_ID}}`, RUN_ID.replaceAll('-', ''), `${RUN_ID} `, `${RUN_ID}0`, '', 42, null]) {
      rejects(body({ runId }), `message runId ${JSON.stringify(runId)} is not a run id (uuid).`);
    }
    rejects(body({ runId: undefined }), 'message runId undefined is not a run id (uuid).');
  });

  it('a chunkNo that is negative, fractional, too large or not a number', () => {
    for (const chunkNo of [-1, 1.5, 2 ** 53, '3', null, true]) {
      rejects(body({ chunkNo }), `message chunkNo ${JSON.stringify(chunkNo)} is not a chunk number.`);
    }
    rejects(body({ chunkNo: undefined }), 'message chunkNo undefined is not a chunk number.');
    rejects(body({}).replace('"chunkNo":3', '"chunkNo":1e400'), 'message chunkNo null is not a chunk number.');
  });

  it('a key sent as a number instead of a string', () => {
    rejects(body({ lo: 5 }), 'message lo 5 must be a bigint as a decimal string.');
    rejects(body({ hi: 20 }), 'message hi 20 must be a bigint as a decimal string.');
    rejects(body({ lo: 9007199254740993 }), 'message lo 9007199254740992 must be a bigint as a decimal string.');
  });

  it('a missing or null lower key, and a missing upper key', () => {
    rejects(body({ lo: undefined }), 'message lo undefined must be a bigint as a decimal string.');
    rejects(body({ lo: null }), 'message lo null must be a bigint as a decimal string.');
    rejects(body({ hi: undefined }), 'message hi undefined must be a bigint as a decimal string.');
  });

  it('key text that is not decimal digits', () => {
    for (const lo of ['1.5', '', ' 1', '1 ', '+1', '0x10', '1e3', '-', '--1', '12345678901234567890', '١٢']) {
      rejects(body({ lo }), `message lo is ${JSON.stringify(lo)}: it must be a bigint (decimal digits).`);
    }
    rejects(body({ hi: 'inf' }), 'message hi is "inf": it must be a bigint (decimal digits).');
  });

  it('keys outside the bigint range', () => {
    rejects(body({ lo: '9223372036854775808', hi: null }), 'message lo is 9223372036854775808: it is outside the bigint range.');
    rejects(body({ lo: '-9223372036854775809' }), 'message lo is -9223372036854775809: it is outside the bigint range.');
    rejects(body({ lo: '0', hi: '9223372036854775808' }), 'message hi is 9223372036854775808: it is outside the bigint range.');
    rejects(body({ lo: '0', hi: '9999999999999999999' }), 'message hi is 9999999999999999999: it is outside the bigint range.');
  });

  it('an empty range where hi is not above lo', () => {
    rejects(body({ lo: '5', hi: '5' }), 'message range [5, 5) is empty.');
    rejects(body({ lo: '5', hi: '4' }), 'message range [5, 4) is empty.');
    rejects(body({ lo: MAX_KEY.toString(), hi: MIN_KEY.toString() }), `message range [${MAX_KEY}, ${MIN_KEY}) is empty.`);
  });
});
