// The local runtime's worker instance is a real child process; a fault test SIGKILLs it at any moment,
// including between its start-up and the next invocation. That must read as a crashed invocation
// (redelivered by the queue), never as an unhandled EPIPE that ends the whole local run.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerSandbox } from '../../../local/worker-sandbox.ts';

const EMPTY_EVENT = { Records: [] };

describe('WorkerSandbox', () => {
  it('reports an instance killed just before an invocation as crashed, and starts a new one for the next', async () => {
    const sandbox = new WorkerSandbox({ ...process.env });
    try {
      for (let round = 0; round < 20; round += 1) {
        await sandbox.warm();
        const pid = sandbox.pid;
        assert.ok(pid !== undefined, 'the sandbox started a child process');
        process.kill(pid, 'SIGKILL');
        const outcome = await sandbox.invoke(EMPTY_EVENT, 30_000);
        assert.equal(outcome.kind, 'crashed', `round ${round}: ${JSON.stringify(outcome)}`);
      }
      const after = await sandbox.invoke(EMPTY_EVENT, 30_000);
      assert.notEqual(after.kind, 'crashed', `a fresh instance serves the next invocation: ${JSON.stringify(after)}`);
    } finally {
      await sandbox.stop();
    }
  });
});
