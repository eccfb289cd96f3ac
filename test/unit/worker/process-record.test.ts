import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SQSRecord } from 'aws-lambda';
import { isLastAttempt } from '../../../lambdas/worker/process-record.ts';

function record(receiveCount: string | undefined): Pick<SQSRecord, 'attributes'> {
  const attributes = {
    ApproximateFirstReceiveTimestamp: '1700000000000',
    SenderId: 'AIDAEXAMPLE',
    SentTimestamp: '1700000000000',
    ...(receiveCount === undefined ? {} : { ApproximateReceiveCount: receiveCount }),
  } as SQSRecord['attributes'];
  return { attributes };
}

describe('isLastAttempt', () => {
  it('is false before the receive count reaches maxReceiveCount', () => {
    for (const count of ['1', '2', '3', '4']) assert.equal(isLastAttempt(record(count), 5), false, count);
  });

  it('is true when the receive count equals maxReceiveCount', () => {
    assert.equal(isLastAttempt(record('5'), 5), true);
    assert.equal(isLastAttempt(record('1'), 1), true);
  });

  it('is true when the receive count is above maxReceiveCount (maxReceiveCount lowered mid-run)', () => {
    assert.equal(isLastAttempt(record('6'), 5), true);
    assert.equal(isLastAttempt(record('1000'), 5), true);
  });

  it('counts a record without ApproximateReceiveCount as its first delivery', () => {
    assert.equal(isLastAttempt(record(undefined), 5), false);
    assert.equal(isLastAttempt(record(undefined), 1), true);
    assert.equal(isLastAttempt({} as Pick<SQSRecord, 'attributes'>, 2), false);
  });

  it('is false for a receive count that is not a number', () => {
    assert.equal(isLastAttempt(record('many'), 5), false);
    assert.equal(isLastAttempt(record(''), 5), false);
  });
});
