// Pure: what the coordinator was asked to do, from whatever invoked it (an EventBridge schedule
// with a constant input, a raw scheduled event, or a direct Lambda Invoke / the CLI).
import { parseRunMode, type RunMode } from '../shared/config.ts';
import { InvalidMessageError } from '../shared/errors.ts';

export type CoordinatorRequest = { action: 'start'; mode: RunMode; refresh?: 'shadow' | 'in-place' } | { action: 'resume'; runId: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function parseCoordinatorRequest(event: unknown, defaultMode: RunMode = 'incremental'): CoordinatorRequest {
  if (event === undefined || event === null) return { action: 'start', mode: defaultMode };
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidMessageError(`coordinator event ${JSON.stringify(event)} is not an object: send {"mode":"full"}, {"mode":"incremental"}, {"mode":"append"} or {"action":"resume","runId":"…"}.`);
  }
  const e = event as Record<string, unknown>;
  const action = e.action ?? 'start';
  if (action === 'resume') {
    if (typeof e.runId !== 'string' || !UUID.test(e.runId)) {
      throw new InvalidMessageError(`resume needs a runId (uuid), got ${JSON.stringify(e.runId)}: find it with \`pg-fanout status\`.`);
    }
    return { action: 'resume', runId: e.runId };
  }
  if (action !== 'start') throw new InvalidMessageError(`coordinator action ${JSON.stringify(action)} is unknown: use "start" or "resume".`);
  // A bare EventBridge scheduled event carries no mode: schedules run incrementally.
  const mode = e.mode === undefined ? defaultMode : parseRunMode(e.mode, 'coordinator event "mode"');
  if (e.refresh !== undefined && e.refresh !== 'shadow' && e.refresh !== 'in-place') {
    throw new InvalidMessageError(`coordinator event "refresh" is ${JSON.stringify(e.refresh)}: use "shadow" or "in-place".`);
  }
  return e.refresh === undefined ? { action: 'start', mode } : { action: 'start', mode, refresh: e.refresh };
}
