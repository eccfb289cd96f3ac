// request.ts with the append mode and the refresh choice. request.test.ts still expects the error
// texts from before the append mode and is being ported on another branch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCoordinatorRequest } from '../../../lambdas/coordinator/request.ts';

const RUN = '0b9d8c52-6f1e-4f55-9c3a-2a4e7f1d3b6a';

describe('parseCoordinatorRequest', () => {
  it('starts a run in the default mode for no event, null, a bare scheduled event or an empty object', () => {
    assert.deepEqual(parseCoordinatorRequest(undefined), { action: 'start', mode: 'incremental' });
    assert.deepEqual(parseCoordinatorRequest(null, 'full'), { action: 'start', mode: 'full' });
    assert.deepEqual(parseCoordinatorRequest({ 'detail-type': 'Scheduled Event', source: 'aws.events' }, 'append'), { action: 'start', mode: 'append' });
    assert.deepEqual(parseCoordinatorRequest({}), { action: 'start', mode: 'incremental' });
  });

  it('takes every mode, and the refresh when given', () => {
    assert.deepEqual(parseCoordinatorRequest({ mode: 'append' }), { action: 'start', mode: 'append' });
    assert.deepEqual(parseCoordinatorRequest({ action: 'start', mode: 'full', refresh: 'in-place' }), { action: 'start', mode: 'full', refresh: 'in-place' });
    assert.deepEqual(parseCoordinatorRequest({ mode: 'full', refresh: 'shadow' }), { action: 'start', mode: 'full', refresh: 'shadow' });
    assert.ok(!('refresh' in parseCoordinatorRequest({ mode: 'full' })));
  });

  it('resumes a run by its id', () => {
    assert.deepEqual(parseCoordinatorRequest({ action: 'resume', runId: RUN, mode: 'bogus' }), { action: 'resume', runId: RUN });
  });

  it('refuses a resume without a run id (uuid), naming how to find it', () => {
    for (const bad of [undefined, 42, RUN.toUpperCase(), `${RUN} `, ` ${RUN}`]) {
      assert.throws(() => parseCoordinatorRequest({ action: 'resume', runId: bad }), {
        name: 'InvalidMessageError',
        message: `resume needs a runId (uuid), got ${JSON.stringify(bad)}: find it with \`pg-fanout status\`.`,
      });
    }
  });

  it('refuses an event that is not an object, naming the accepted shapes', () => {
    for (const bad of ['full', 42, ['full']]) {
      assert.throws(() => parseCoordinatorRequest(bad), {
        name: 'InvalidMessageError',
        message: `coordinator event ${JSON.stringify(bad)} is not an object: send {"mode":"full"}, {"mode":"incremental"}, {"mode":"append"} or {"action":"resume","runId":"…"}.`,
      });
    }
  });

  it('refuses an unknown action', () => {
    assert.throws(() => parseCoordinatorRequest({ action: 'stop' }), { name: 'InvalidMessageError', message: 'coordinator action "stop" is unknown: use "start" or "resume".' });
  });

  it('refuses an unknown mode through parseRunMode', () => {
    assert.throws(() => parseCoordinatorRequest({ mode: 'FULL' }), { name: 'ConfigError', message: 'coordinator event "mode" is "FULL": use "incremental", "full" or "append".' });
  });

  it('refuses an unknown refresh', () => {
    for (const bad of ['inplace', null, 1]) {
      assert.throws(() => parseCoordinatorRequest({ mode: 'full', refresh: bad }), {
        name: 'InvalidMessageError',
        message: `coordinator event "refresh" is ${JSON.stringify(bad)}: use "shadow" or "in-place".`,
      });
    }
  });
});
