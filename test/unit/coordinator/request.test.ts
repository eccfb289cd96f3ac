import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCoordinatorRequest } from '../../../lambdas/coordinator/request.ts';
import { ConfigError, InvalidMessageError, PgFanoutError } from '../../../lambdas/shared/errors.ts';

const RUN_ID = '0b7e6a4c-3f2d-4e1a-9c8b-7a6f5e4d3c2b';
const NOT_OBJECT_FIX = 'send {"mode":"full"}, {"mode":"incremental"}, {"mode":"append"} or {"action":"resume","runId":"…"}.';

/** The event an EventBridge schedule rule delivers when no constant input is set. */
const SCHEDULED_EVENT = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2015-10-08T16:53:06Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule'],
  detail: {},
};

describe('parseCoordinatorRequest', () => {
  it('starts an incremental run for a raw EventBridge scheduled event', () => {
    assert.deepEqual(parseCoordinatorRequest(SCHEDULED_EVENT), { action: 'start', mode: 'incremental' });
  });

  it('starts a run in the given default mode for a scheduled event without a mode', () => {
    assert.deepEqual(parseCoordinatorRequest(SCHEDULED_EVENT, 'full'), { action: 'start', mode: 'full' });
  });

  it('starts a run in the default mode for no event, null and {}', () => {
    assert.deepEqual(parseCoordinatorRequest(undefined), { action: 'start', mode: 'incremental' });
    assert.deepEqual(parseCoordinatorRequest(null), { action: 'start', mode: 'incremental' });
    assert.deepEqual(parseCoordinatorRequest({}), { action: 'start', mode: 'incremental' });
    assert.deepEqual(parseCoordinatorRequest(undefined, 'full'), { action: 'start', mode: 'full' });
  });

  it('starts a run in the mode asked for, over the default', () => {
    assert.deepEqual(parseCoordinatorRequest({ mode: 'full' }), { action: 'start', mode: 'full' });
    assert.deepEqual(parseCoordinatorRequest({ mode: 'incremental' }, 'full'), { action: 'start', mode: 'incremental' });
    assert.deepEqual(parseCoordinatorRequest({ action: 'start', mode: 'full' }), { action: 'start', mode: 'full' });
    assert.deepEqual(parseCoordinatorRequest({ ...SCHEDULED_EVENT, mode: 'full' }), { action: 'start', mode: 'full' });
    assert.deepEqual(parseCoordinatorRequest({ mode: 'append' }), { action: 'start', mode: 'append' });
  });

  it('resumes the run named by a lower-case uuid, ignoring any mode', () => {
    assert.deepEqual(parseCoordinatorRequest({ action: 'resume', runId: RUN_ID }), { action: 'resume', runId: RUN_ID });
    assert.deepEqual(parseCoordinatorRequest({ action: 'resume', runId: RUN_ID, mode: 'full' }), { action: 'resume', runId: RUN_ID });
  });

  it('rejects resume without a valid runId, pointing at pg-fanout status', () => {
    for (const runId of [undefined, '', 'abc', RUN_ID.toUpperCase(), `${RUN_ID}x`, 42, null]) {
      assert.throws(() => parseCoordinatorRequest({ action: 'resume', runId }), {
        name: 'InvalidMessageError',
        message: `resume needs a runId (uuid), got ${JSON.stringify(runId)}: find it with \`pg-fanout status\`.`,
      });
    }
  });

  it('rejects an unknown action, naming it and the choices', () => {
    for (const action of ['stop', 'Resume', 'START', 1]) {
      assert.throws(() => parseCoordinatorRequest({ action }), {
        name: 'InvalidMessageError',
        message: `coordinator action ${JSON.stringify(action)} is unknown: use "start" or "resume".`,
      });
    }
  });

  it('rejects an event that is not an object, naming it and the accepted shapes', () => {
    for (const event of ['full', '{"mode":"full"}', 42, true, [], [{ mode: 'full' }]]) {
      let caught: unknown;
      try {
        parseCoordinatorRequest(event);
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof InvalidMessageError, JSON.stringify(event));
      assert.equal(caught.message, `coordinator event ${JSON.stringify(event)} is not an object: ${NOT_OBJECT_FIX}`);
    }
  });

  it('rejects a mode other than incremental, full or append, naming the field and value', () => {
    for (const mode of ['FULL', 'fast', '', null, 1]) {
      let caught: unknown;
      try {
        parseCoordinatorRequest({ mode });
      } catch (error) {
        caught = error;
      }
      // parseRunMode raises ConfigError here, unlike the other bad inputs (InvalidMessageError).
      assert.ok(caught instanceof ConfigError, JSON.stringify(mode));
      assert.ok(caught instanceof PgFanoutError);
      assert.equal(caught.message, `coordinator event "mode" is ${JSON.stringify(mode)}: use "incremental", "full" or "append".`);
    }
  });
});
