// `pg-fanout run` and `pg-fanout status` as an operator uses them against a deployed pipeline:
// the CLI process gets only COORDINATOR_FUNCTION, the usual AWS variables (AWS_ENDPOINT_URL pointing
// at the embedded LocalStack-shaped endpoint) and DATABASE_URL for the ledger. `run` goes through
// Lambda Invoke of the real coordinator; the workers are the real worker handler behind the queue.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { withClient } from '../../../lambdas/shared/db.ts';
import { beginChunks, recordChunkFailure } from '../../../lambdas/shared/ledger.ts';
import { COORDINATOR_HANDLER } from '../../../local/lambda-endpoint.ts';
import { runCli, startCli } from '../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { assertExactOutput, createTestRun, openTestPool, preparedPipeline, range, seedGenerated } from '../../support/pipeline.ts';
import { COORDINATOR_FUNCTION, startEmbeddedLocalStack, type EmbeddedLocalStack } from '../localstack/embedded-stack.ts';

const RUN_ID = /^run ([0-9a-f-]{36}) started \(full\): 5 chunks enqueued$/m;

describe('pg-fanout run / status against a deployed (embedded LocalStack-shaped) pipeline', () => {
  let db: TestDatabase;
  let stack: EmbeddedLocalStack;
  let env: Record<string, string>;
  let runId: string;

  before(async () => {
    db = await createTestDatabase();
    await seedGenerated(db, 20_000);
    stack = await startEmbeddedLocalStack({
      databaseUrl: db.url,
      backpressure: { chunkRows: 4000 },
      // A deployed coordinator whose configuration is broken, to see how `run` reports it.
      extraFunctions: { 'broken-coordinator': { handlerModule: COORDINATOR_HANDLER, env: { DATABASE_URL: db.url } } },
    });
    env = { ...stack.clientEnv, COORDINATOR_FUNCTION, DATABASE_URL: db.url };
  });
  after(async () => {
    await stack?.stop();
    await db?.drop();
  });

  test('status before any run says how to start one', async () => {
    const r = await runCli(['status'], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'no runs yet: start one with `pg-fanout run` (or `npm start` locally).\n');
  });

  test('run invokes the deployed coordinator through Lambda Invoke and starts a run', async () => {
    const r = await runCli(['run', '--mode', 'full'], env);
    assert.equal(r.code, 0, r.stderr);
    const m = RUN_ID.exec(r.stdout);
    assert.ok(m, r.stdout);
    runId = m[1]!;
    assert.equal(stack.lambda.invocations[COORDINATOR_FUNCTION], 1);
    const runs = await db.query<{ run_id: string; status: string; mode: string; chunks_total: number; chunks_enqueued: number }>(
      'SELECT run_id, status, mode, chunks_total, chunks_enqueued FROM etl.runs');
    assert.deepEqual(runs.rows, [{ run_id: runId, status: 'running', mode: 'full', chunks_total: 5, chunks_enqueued: 5 }]);
  });

  test('a second run while one is active joins it: same run id, "already active", nothing new', async () => {
    const r = await runCli(['run'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `run ${runId} is already active (running): nothing new started\n`);
    assert.equal((await db.query('SELECT count(*)::int AS n FROM etl.runs')).rows[0]?.n, 1);
  });

  test('status shows the run, its chunks and rows from the ledger; --json parses', async () => {
    const r = await runCli(['status'], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    const [head, progress] = r.stdout.split('\n');
    assert.match(head!, new RegExp(`^run ${runId} \\(full refresh: built beside the targets, indexed, swapped in, public\\.input_table -> public\\.output_table\\): running, started \\d{4}-\\d\\d-\\d\\dT`));
    assert.match(progress!, /chunks 0\/5 {2}rows 0\/20,000/);
    const j = await runCli(['status', runId, '--json'], { DATABASE_URL: db.url });
    assert.equal(j.code, 0, j.stderr);
    const parsed = JSON.parse(j.stdout) as Record<string, unknown>;
    assert.equal(parsed.runId, runId);
    assert.equal(parsed.status, 'running');
    assert.equal(parsed.mode, 'full');
    assert.equal(parsed.chunksTotal, 5);
    assert.equal(parsed.chunksDone, 0);
    assert.equal(parsed.rowsPlanned, '20000');
    assert.deepEqual(parsed.failedChunks, []);
  });

  test('status --watch follows the run while the workers drain the queue and returns when it settles', async () => {
    const watch = startCli(['status', '--watch', '--interval', '0.2'], { DATABASE_URL: db.url });
    // The first frame shows the run still waiting for workers; then the workers start.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('status --watch printed nothing within 10s')), 10_000);
      watch.child.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes(`run ${runId}`)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const workers = stack.startWorkers();
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([watch.done, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('status --watch did not return within 40s')), 40_000)))]);
    clearTimeout(timer);
    assert.equal(r.code, 0, r.stderr);
    const frames = r.stdout.split('\n').filter((l) => l.startsWith(`run ${runId}`));
    assert.ok(frames.length >= 2, `several frames while watching:\n${r.stdout}`);
    assert.match(frames[0]!, /: running, /);
    assert.match(frames.at(-1)!, /: completed, /);
    assert.match(r.stdout, /chunks 5\/5 {2}rows 20,000\/20,000/);
    assert.match(r.stdout, /rows read 20,000, written [\d,]+, rejected [\d,]+, filtered 0, retries 0\n$/);
    assert.ok(workers.stats.recordsSucceeded >= 5);
    await assertExactOutput(db);
  });

  test('status shows a failed chunk with its range, attempts and last error, and exits 1 for a failed run', async () => {
    const pool = await openTestPool(db, 2);
    let failedRun: string;
    try {
      failedRun = await createTestRun(pool, await preparedPipeline(pool), [{ ...range(1, 101), rowsPlanned: 100n }]);
      await withClient(pool, async (c) => {
        await beginChunks(c, [{ runId: failedRun, chunkNo: 0, ...range(1, 101) }]); // counts an attempt, as a worker does
        await c.query('ROLLBACK');
        await recordChunkFailure(c, failedRun, 0, 'chunk 0 [1, 101) failed: the database connection was lost', true);
      });
    } finally {
      await pool.end();
    }
    const r = await runCli(['status', failedRun], { DATABASE_URL: db.url });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, new RegExp(`^run ${failedRun} \\(full refresh in place, .*\\): failed,`));
    assert.match(r.stdout, /chunks 0\/1, 1 failed/);
    assert.match(r.stdout, /\n {2}failed chunk 0 \[1, 101\) after 1 attempt\(s\): chunk 0 \[1, 101\) failed: the database connection was lost\n/);
    const j = await runCli(['status', failedRun, '--json'], { DATABASE_URL: db.url });
    assert.deepEqual((JSON.parse(j.stdout) as { failedChunks: unknown }).failedChunks, [{ chunkNo: 0, attempts: 1, lastError: 'chunk 0 [1, 101) failed: the database connection was lost' }]);
  });

  test('a coordinator that fails in Lambda is reported in one line with exit 1', async () => {
    const r = await runCli(['run', '--function', 'broken-coordinator'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^pg-fanout: coordinator broken-coordinator failed: \{"errorType":"ConfigError","errorMessage":"WORK_QUEUE_URL is not set: [^\n]*\n$/);
    const missing = await runCli(['run', '--function', 'not-deployed'], env);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.split('\n').length, 2, missing.stderr);
    assert.match(missing.stderr, /Function not found: arn:aws:lambda:us-east-1:000000000000:function:not-deployed\n$/);
  });

  test('bad arguments give a one-line error and exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['run', '--mode', 'sideways'], /--mode is "sideways": use "incremental", "full" or "append"/],
      [['run', '--bogus'], /^pg-fanout: run: Unknown option '--bogus'.*; see `pg-fanout run --help`\.\n$/],
      [['run', 'extra'], /^pg-fanout: run: Unexpected argument 'extra'|^pg-fanout: run: .*extra/],
      [['status', 'not-a-run-id'], /^pg-fanout: status: RUN_ID "not-a-run-id" is not a run id/],
      [['status', '--interval', '0'], /^pg-fanout: status: --interval "0" must be a positive number of seconds\.\n$/],
      [['status', runId, 'another'], /^pg-fanout: status: unexpected argument "another"; see `pg-fanout status --help`\.\n$/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, env);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.equal(r.stderr.split('\n').length, 2, `one line for ${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
    }
  });
});
