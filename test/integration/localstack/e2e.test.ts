// The `npm run localstack:e2e` check, run here against the embedded stand-in that speaks
// LocalStack's endpoint conventions: the same runEndToEnd (and the same script, as a process) that
// a user with Docker runs against LocalStack, invoking the coordinator through the Lambda API and
// verifying every row. Also proves the check is not vacuous: a corrupted row is caught.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { withClient } from '../../../lambdas/shared/db.ts';
import { getRun } from '../../../lambdas/shared/ledger.ts';
import { runEndToEnd, verifyRun, type EndToEndResult } from '../../../localstack/e2e.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { assertExactOutput, openTestPool } from '../../support/pipeline.ts';
import { COORDINATOR_FUNCTION, REGION, startEmbeddedLocalStack, type EmbeddedLocalStack } from './embedded-stack.ts';

const E2E_SCRIPT = fileURLToPath(new URL('../../../localstack/e2e.ts', import.meta.url));

function runScript(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', E2E_SCRIPT, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('localstack:e2e against the embedded stack (LocalStack endpoint conventions)', () => {
  let db: TestDatabase;
  let stack: EmbeddedLocalStack;
  let first: EndToEndResult;

  before(async () => {
    db = await createTestDatabase();
    stack = await startEmbeddedLocalStack({ databaseUrl: db.url, backpressure: { chunkRows: 4000, batchSize: 2 } });
    stack.startWorkers();
  });
  after(async () => {
    await stack.stop();
    await db.drop();
  });

  test('runEndToEnd seeds rows, invokes the coordinator through Lambda Invoke and verifies every row', async () => {
    const lines: string[] = [];
    first = await runEndToEnd({
      databaseUrl: db.url,
      coordinatorFunction: COORDINATOR_FUNCTION,
      rows: 20_000,
      timeoutMs: 45_000,
      mode: 'full',
      endpoint: stack.endpoint,
      region: REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      pollMs: 100,
      log: (l) => lines.push(l),
    });
    assert.equal(first.ok, true, first.problems.join('\n'));
    assert.equal(first.status, 'completed');
    assert.deepEqual(first.seeded, { first: 1n, last: 20_000n, rows: 20_000 });
    assert.equal(first.rowsRead, 20_000n);
    assert.equal(first.rowsWritten + first.rowsRejected, 20_000n);
    assert.equal(first.chunks, 5);
    assert.equal(first.rowCheck.checked, 20_000);
    assert.equal(first.rowCheck.differences, 0);
    assert.ok(first.rowCheck.rejected > 0 && first.rowCheck.written > 0, 'the seed has rows the spec splits and rows it rejects');
    // What the run and whole-table reconciliations said, from the deep verification of the full run.
    assert.equal(first.verification.ok, true);
    assert.equal(first.verification.rowsRead, 20_000);
    assert.equal(first.verification.chunks.length, 5);
    assert.equal(stack.lambda.invocations[COORDINATOR_FUNCTION], 1, 'the coordinator ran once, through the Lambda endpoint');
    assert.match(lines[0] ?? '', /^seeded 20,000 rows, keys 1\.\.20000$/);
    // The independent row-by-row helper of the test suite agrees.
    const exact = await assertExactOutput(db);
    assert.equal(exact.written + exact.rejected, 20_000);
  });

  test('the e2e script (npm run localstack:e2e) passes as a process, with only the usual AWS variables', async () => {
    const r = await runScript(['--rows', '3000', '--timeout', '45'], {
      ...stack.clientEnv,
      DATABASE_URL: db.url,
      COORDINATOR_FUNCTION,
    });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`lambda: +${stack.endpoint.replaceAll('.', '\\.')} \\(coordinator ${COORDINATOR_FUNCTION}\\)`));
    assert.match(r.stdout, /seeded 3,000 rows, keys 20001\.\.23000/);
    // Incremental by default: the run reads only what changed since the last completed run, the new
    // rows; its chunks span the whole key space (a change can be anywhere), and that is what is checked.
    assert.match(r.stdout, /run [0-9a-f-]{36} started \(incremental\)/);
    assert.match(r.stdout, /rows read 3,000, written [\d,]+, rejected [\d,]+/);
    assert.match(r.stdout, /verification of the run: exact over \d+ chunk\(s\) \(23,000 source rows read again and compared row for row\)/);
    assert.match(r.stdout, /row by row: 23,000 rows checked/);
    assert.match(r.stdout, /verified: every one of the 23,000 rows in the run's key ranges \(including the 3,000 seeded\)/);
    assert.equal(r.stderr, '');
  });

  test('the check is not vacuous: a wrong output row and a missing reject are each reported by key', async () => {
    await db.query(`UPDATE output_table SET last_name = 'Tampered' WHERE id = 20004`);
    const rejectedKey = (await db.query<{ k: string }>(`SELECT source_key[1] AS k FROM etl.rejects ORDER BY source_key[1]::bigint LIMIT 1`)).rows[0]!.k;
    await db.query(`DELETE FROM etl.rejects WHERE source_key = ARRAY[$1]`, [rejectedKey]);
    const pool = await openTestPool(db, 2);
    try {
      const latest = await db.query<{ run_id: string }>(`SELECT run_id FROM etl.runs WHERE created_at = (SELECT max(created_at) FROM etl.runs)`);
      const run = await withClient(pool, (c) => getRun(c, latest.rows[0]!.run_id));
      assert.equal(rejectedKey, '1');
      const both = [
        'key 1 (name "") should be in etl.rejects (name is empty) but is not',
        'key 20004: output ("Ada", "Tampered", 4), the spec says ("Ada", "Lovelace 4", 4)',
      ];
      // The latest run is incremental: its chunks span the whole key space (a change can be
      // anywhere), so, like the full run's, its check covers both changes, in key order.
      const verdict = await verifyRun(pool, run, undefined, db.url);
      assert.equal(verdict.ok, false);
      assert.equal(verdict.rowCheck.differences, 2, verdict.rowCheck.problems.join('\n'));
      assert.deepEqual(verdict.rowCheck.problems, both);
      assert.equal(verdict.verification.ok, false, 'the deep verification sees them too');
      const earlier = await withClient(pool, (c) => getRun(c, first.runId));
      const firstVerdict = await verifyRun(pool, earlier, undefined, db.url);
      assert.deepEqual(firstVerdict.rowCheck.problems, both);
      // The deep verification names the target for the tampered row and etl.rejects for the missing reject.
      const differing = firstVerdict.verification.chunks.filter((c) => !c.ok).flatMap((c) => c.sides.filter((x) => x.missing + x.unexpected > 0).map((x) => [c.chunkNo, x.name, x.missing, x.unexpected]));
      assert.deepEqual(differing, [[0, 'etl.rejects', 1, 0], [4, 'public.output_table', 1, 1]]);
      assert.equal(firstVerdict.ok, false);
    } finally {
      await pool.end();
    }
  });

  test('an unknown coordinator is refused by the Lambda API before any row is seeded, named in one line', async () => {
    const r = await runScript(['--rows', '1', '--function', 'no-such-coordinator'], { ...stack.clientEnv, DATABASE_URL: db.url });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^e2e: coordinator no-such-coordinator could not be invoked \(ResourceNotFoundException\): Function not found: arn:aws:lambda:us-east-1:000000000000:function:no-such-coordinator\n$/);
    const seeded = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM input_table WHERE id > 23000`);
    assert.equal(seeded.rows[0]?.n, 0, 'nothing was seeded for a coordinator that does not exist');
  });

  test('bad flags are a one-line usage error with exit 2', async () => {
    const r = await runScript(['--rows', 'many'], { ...stack.clientEnv, DATABASE_URL: db.url });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^e2e: --rows is "many": give a whole number, e\.g\. --rows 100000\.\n$/);
  });
});
