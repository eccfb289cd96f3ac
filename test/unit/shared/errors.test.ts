import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ChunkFailedError,
  ConfigError,
  describe as describeError,
  InvalidMessageError,
  PgFanoutError,
  RunStateError,
  SchemaError,
} from '../../../lambdas/shared/errors.ts';

const RUN_ID = '0b7e6a4c-3f2d-4e1a-9c8b-7a6f5e4d3c2b';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('error hierarchy', () => {
  it('gives every class its own name and makes it a PgFanoutError and an Error', () => {
    const cases: [Error, string][] = [
      [new PgFanoutError('m'), 'PgFanoutError'],
      [new ConfigError('m'), 'ConfigError'],
      [new SchemaError('m'), 'SchemaError'],
      [new InvalidMessageError('m'), 'InvalidMessageError'],
      [new RunStateError('m'), 'RunStateError'],
      [new ChunkFailedError(RUN_ID, 0, '[0, 1)', new Error('x')), 'ChunkFailedError'],
    ];
    for (const [error, name] of cases) {
      assert.equal(error.name, name);
      assert.ok(error instanceof PgFanoutError, name);
      assert.ok(error instanceof Error, name);
    }
    assert.equal(new ConfigError('m') instanceof SchemaError, false);
    assert.equal(String(new ConfigError('CHUNK_ROWS is "x"')), 'ConfigError: CHUNK_ROWS is "x"');
  });
});

describe('describe', () => {
  it('gives the message of an ordinary error', () => {
    assert.equal(describeError(new Error('boom')), 'boom');
    assert.equal(describeError(withCode('duplicate key value violates unique constraint "t_pkey"', '23505')), 'duplicate key value violates unique constraint "t_pkey"');
    assert.equal(describeError(withCode('canceling statement due to statement timeout', '57014')), 'canceling statement due to statement timeout');
  });

  it('gives String() of a thrown non-error', () => {
    assert.equal(describeError('plain text'), 'plain text');
    assert.equal(describeError(42), '42');
    assert.equal(describeError(undefined), 'undefined');
    assert.equal(describeError(null), 'null');
    assert.equal(describeError({ message: 'not an Error' }), '[object Object]');
  });

  for (const code of ['ECONNRESET', 'EPIPE', '57P01', '57P02', '57P03']) {
    it(`says the database connection was lost for code ${code}`, () => {
      assert.equal(describeError(withCode('detail here', code)), 'the database connection was lost (detail here)');
    });
  }

  for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', '3D000']) {
    it(`says the database cannot be reached, and what to check, for code ${code}`, () => {
      assert.equal(
        describeError(withCode('detail here', code)),
        "cannot connect to the database (detail here): check DATABASE_URL (or the secret's host) and that the server is running",
      );
    });
  }

  it('says the login was refused, and what to check, for a bad password', () => {
    assert.equal(describeError(withCode('password authentication failed', '28P01')), 'the database refused the login (password authentication failed): check the user and password in DATABASE_URL (or the secret)');
  });

  it('says the database connection was lost for a "Connection terminated" message without a code, in any case', () => {
    assert.equal(
      describeError(new Error('Connection terminated unexpectedly')),
      'the database connection was lost (Connection terminated unexpectedly)',
    );
    assert.equal(
      describeError(new Error('connection TERMINATED due to connection timeout')),
      'the database connection was lost (connection TERMINATED due to connection timeout)',
    );
  });

  it('does not treat other codes as a lost connection', () => {
    assert.equal(describeError(withCode('out of memory', '53200')), 'out of memory');
    assert.equal(describeError(withCode('no such file', 'ENOENT')), 'no such file');
  });
});

describe('ChunkFailedError', () => {
  it('names the chunk, range and run, says it rolled back, and keeps the cause', () => {
    const cause = new Error('division by zero');
    const error = new ChunkFailedError(RUN_ID, 7, '[100, 200)', cause);
    assert.equal(error.message, `chunk 7 [100, 200) of run ${RUN_ID} failed and was rolled back: division by zero`);
    assert.equal(error.cause, cause);
    assert.equal(error.runId, RUN_ID);
    assert.equal(error.chunkNo, 7);
  });

  it('uses the lost-connection wording when the cause is a dropped connection', () => {
    const error = new ChunkFailedError(RUN_ID, 0, '[-9223372036854775808, +inf)', withCode('terminating connection due to administrator command', '57P01'));
    assert.equal(
      error.message,
      `chunk 0 [-9223372036854775808, +inf) of run ${RUN_ID} failed and was rolled back: ` +
        'the database connection was lost (terminating connection due to administrator command)',
    );
  });

  it('describes a cause that is not an Error', () => {
    const error = new ChunkFailedError(RUN_ID, 1, '[1, 2)', 'string cause');
    assert.equal(error.message, `chunk 1 [1, 2) of run ${RUN_ID} failed and was rolled back: string cause`);
    assert.equal(error.cause, 'string cause');
  });

  it('is itself described by its message', () => {
    const error = new ChunkFailedError(RUN_ID, 2, '[0, 5)', new Error('x'));
    assert.equal(describeError(error), `chunk 2 [0, 5) of run ${RUN_ID} failed and was rolled back: x`);
  });
});
