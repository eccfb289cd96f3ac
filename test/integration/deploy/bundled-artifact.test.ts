// The deployed artifact is the tested artifact: `cdk synth -c pipeline=…` as a user runs it, then
// the worker and coordinator packages from the cloud assembly, copied out of the project (so they
// cannot resolve anything from its node_modules; a resolve hook in each sandbox records anything
// they load from outside their folder, which must be nothing), run a full refresh end to end
// against PostgreSQL and a real SQS-compatible server. The coordinator runs in a child process as a cold start does
// (its config is read at import); this test plays the event source, handing the queue's messages to
// the copied worker in another child process, until the ledger says the run completed. The target
// is then compared row for row with what SQL computes from the source on its own.
import assert from 'node:assert/strict';
import { execFile, fork, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { toSqsEvent } from '../../../local/event-source.ts';
import { openPipeline } from '../../../lambdas/pipeline/open-pipeline.ts';
import { loadConfig, resolveBackpressure } from '../../../lambdas/shared/config.ts';
import { createSqsClient } from '../../../lambdas/shared/queue.ts';
import { ensureQueues, type LocalQueues } from '../../../local/queues.ts';
import { ORDERS_PIPELINE_NAME, ORDERS_SEED_SQL } from '../../fixtures/pipelines/orders.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startTestSqs, type TestSqs } from '../../support/sqs.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const ROWS = 3000;
/** Small chunks, so the run has several chunks, batches of them, and a build and swap phase after. */
const CONTEXT = { pipeline: 'test/fixtures/pipelines/orders.ts', chunkRows: '400', workerTimeoutSeconds: '30' };

interface CfnFunction {
  Type: string;
  Properties: { Description?: string; Code: { S3Key: string }; Environment: { Variables: Record<string, unknown> } };
}
interface CfnTemplate {
  Resources: Record<string, CfnFunction & { Properties: Record<string, unknown> }>;
}

let work: string;
let template: CfnTemplate;
let db: TestDatabase;
let server: TestSqs;
let sqs: SQSClient;
let queues: LocalQueues;
/** The copied packages, outside the project: <work>/lambda/{worker,coordinator}/index.mjs. */
let packages: { worker: string; coordinator: string };

/** A temp folder with no node_modules on the way up to / (some machines link one into /tmp). */
function tempBase(): string {
  const clean = (dir: string) => {
    for (let d = dir; ; d = dirname(d)) {
      if (existsSync(join(d, 'node_modules'))) return false;
      if (dirname(d) === d) return true;
    }
  };
  return [tmpdir(), '/var/tmp', '/dev/shm'].find((d) => existsSync(d) && clean(d)) ?? tmpdir();
}

before(async () => {
  work = mkdtempSync(join(tempBase(), 'pg-fanout-artifact-'));
  assert.ok(relative(repoRoot, work).startsWith('..'), `${work} is inside the project`);
  template = synthesize(join(work, 'cdk.out'));
  packages = {
    worker: copyPackage(functionOf('worker'), join(work, 'lambda', 'worker')),
    coordinator: copyPackage(functionOf('coordinator'), join(work, 'lambda', 'coordinator')),
  };
  // Imported first by both sandboxes: every module resolved outside <work>/lambda is recorded.
  writeFileSync(
    join(work, 'lambda', 'resolve-guard.mjs'),
    [
      "import { registerHooks } from 'node:module';",
      "const root = new URL('./', import.meta.url).href;",
      'export const outside = [];',
      'registerHooks({',
      '  resolve(specifier, context, next) {',
      '    const resolved = next(specifier, context);',
      "    if (!resolved.url.startsWith('node:') && !resolved.url.startsWith(root)) outside.push(resolved.url);",
      '    return resolved;',
      '  },',
      '});',
    ].join('\n'),
  );
  db = await createTestDatabase();
  for (const sql of ORDERS_SEED_SQL) await db.query(sql, sql.includes('$1') ? [ROWS] : []);
  // A trap: the built-in pipeline's source exists too. A package that ran it (the module missing,
  // or registered after the worker's init had already loaded the pipeline) would resolve it here
  // instead of failing and retrying, and the run below would not complete as the fixture's.
  await db.query('CREATE TABLE public.input_table (id bigint PRIMARY KEY, name text, age int)');
  await db.query(`INSERT INTO public.input_table SELECT g, 'First' || g || ' Last' || g, g % 90 FROM generate_series(1, 100) g`);
  server = await startTestSqs();
  sqs = createSqsClient({ sqsEndpoint: server.endpoint, region: 'us-east-1' });
  queues = await ensureQueues(sqs, resolveBackpressure({ chunkRows: 400, workerTimeoutSeconds: 30 }));
});

after(async () => {
  sqs?.destroy();
  await server?.stop();
  await db?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The real CLI, offline: no AWS credentials or config, no Docker. */
function synthesize(out: string): CfnTemplate {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_') && !key.startsWith('CDK_')) env[key] = value;
  const args = [join(repoRoot, 'node_modules/aws-cdk/bin/cdk'), 'synth', '--quiet', '--no-notices', '-o', out];
  for (const [key, value] of Object.entries(CONTEXT)) args.push('-c', `${key}=${value}`);
  const result = spawnSync(process.execPath, args, {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...env, HOME: work, AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true' },
  });
  assert.equal(result.status, 0, `cdk synth failed:\n${result.stderr}`);
  return JSON.parse(readFileSync(join(out, 'PgFanout.template.json'), 'utf8')) as CfnTemplate;
}

function functionOf(kind: 'worker' | 'coordinator'): CfnFunction {
  const found = Object.values(template.Resources).filter(
    (r): r is CfnFunction => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description).startsWith(`pg-fanout ${kind}`),
  );
  assert.equal(found.length, 1, `one ${kind} function`);
  return found[0]!;
}

/** The asset directory of a function, copied as Lambda receives it (the zip's contents). */
function copyPackage(fn: CfnFunction, to: string): string {
  const asset = join(work, 'cdk.out', `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
  assert.ok(existsSync(join(asset, 'index.mjs')), `${asset}/index.mjs missing`);
  cpSync(asset, to, { recursive: true });
  assert.deepEqual(readdirSync(to).sort(), ['index.mjs', 'index.mjs.map', 'rds-ca-bundle.pem']);
  return to;
}

/**
 * What the stack gives the function, with the database and queue of this test: the template's
 * literal settings (chunk rows, batch size, log level, metrics namespace, …), never the test's own
 * environment, which could lend the package a NODE_PATH or an AWS profile.
 */
function functionEnv(kind: 'worker' | 'coordinator'): NodeJS.ProcessEnv {
  const literal = Object.entries(functionOf(kind).Properties.Environment.Variables).filter((e): e is [string, string] => typeof e[1] === 'string');
  const env: NodeJS.ProcessEnv = Object.fromEntries(literal);
  delete env.DATABASE_SECRET_ARN; // the placeholder secret; this test gives a URL
  delete env.DATABASE_CA_FILE;
  return {
    ...env,
    PATH: process.env.PATH,
    DATABASE_URL: db.url,
    DATABASE_TLS: 'disable',
    WORK_QUEUE_URL: queues.queueUrl,
    DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl,
    AWS_ENDPOINT_URL_SQS: server.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/**
 * The coordinator's cold start and one invocation, in its own process; resolves with its result.
 * Asynchronous: the SQS server it sends to runs in this process's event loop.
 */
async function invokeCoordinator(event: unknown): Promise<{ runId: string; started: boolean; mode: string; refresh?: string | null; chunks: number; outside: string[] }> {
  const driver = join(work, 'lambda', 'invoke-coordinator.mjs');
  writeFileSync(
    driver,
    [
      "const { outside } = await import('./resolve-guard.mjs');",
      "const { handler } = await import('./coordinator/index.mjs');",
      'const result = await handler(JSON.parse(process.argv[2]), { functionName: "pg-fanout-coordinator", awsRequestId: "artifact-test", getRemainingTimeInMillis: () => 300000 });',
      "process.stdout.write(`RESULT ${JSON.stringify({ ...result, outside })}\\n`);",
      'process.exit(0); // its connection pool would keep a Lambda sandbox (and this process) alive',
    ].join('\n'),
  );
  const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [driver, JSON.stringify(event)], { cwd: dirname(driver), env: functionEnv('coordinator'), encoding: 'utf8', timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr }),
    );
  });
  assert.equal(result.status, 0, `coordinator failed:\n${result.stderr}\n${result.stdout}`);
  const line = result.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `no result from the coordinator:\n${result.stdout}`);
  return JSON.parse(line.slice('RESULT '.length));
}

/** One warm worker sandbox: the copied package imported once, invoked per SQS event over IPC. */
class WorkerSandbox {
  /** Its output lines: EMF and info logs on stdout, warnings and errors on stderr. */
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly #child: ChildProcess;
  readonly #ready: Promise<void>;
  readonly #pending = new Map<number, (r: { ok: boolean; response?: SQSBatchResponse; error?: string }) => void>();
  /** Modules the package resolved outside its folder, as of the last invocation. */
  outside: string[] = [];
  #next = 1;

  constructor() {
    const driver = join(work, 'lambda', 'worker-sandbox.mjs');
    writeFileSync(
      driver,
      [
        "const { outside } = await import('./resolve-guard.mjs');",
        "const { handler } = await import('./worker/index.mjs');",
        'let n = 0;',
        'process.on("message", async ({ id, event }) => {',
        '  try {',
        '    const response = await handler(event, { functionName: "pg-fanout-worker", awsRequestId: `artifact-${++n}`, getRemainingTimeInMillis: () => 30000 });',
        '    process.send({ id, ok: true, response, outside });',
        '  } catch (error) {',
        '    process.send({ id, ok: false, error: String(error?.stack ?? error), outside });',
        '  }',
        '});',
        'process.on("disconnect", () => process.exit(0));',
        'process.send({ ready: true });',
      ].join('\n'),
    );
    this.#child = fork(driver, [], { cwd: dirname(driver), env: functionEnv('worker'), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    collectLines(this.#child.stdout!, this.stdout);
    collectLines(this.#child.stderr!, this.stderr);
    this.#ready = new Promise((resolve, reject) => {
      this.#child.on('message', (m: { ready?: boolean; id?: number; ok?: boolean; response?: SQSBatchResponse; error?: string; outside?: string[] }) => {
        if (m.ready) return resolve();
        this.outside = m.outside ?? [];
        const settle = this.#pending.get(m.id!);
        this.#pending.delete(m.id!);
        settle?.({ ok: m.ok === true, response: m.response, error: m.error });
      });
      this.#child.once('exit', (code) => reject(new Error(`the worker package exited during its cold start (code ${code})`)));
    });
  }

  async invoke(event: SQSEvent): Promise<{ ok: boolean; response?: SQSBatchResponse; error?: string }> {
    await this.#ready;
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#child.send({ id, event });
    });
  }

  stop(): void {
    this.#child.disconnect();
  }
}

function collectLines(stream: NodeJS.ReadableStream, into: string[]): void {
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    into.push(...lines);
  });
}

interface RunRow {
  pipeline: string;
  status: string;
  mode: string;
  refresh: string | null;
  chunks_total: number;
  chunks_done: number;
  steps_total: number;
  steps_done: number;
  rows_read: string;
  rows_written: string;
  rows_rejected: string;
  rows_filtered: string;
}

/** Plays the event source with one worker until the run leaves `running`; returns what it saw. */
async function drive(runId: string, worker: WorkerSandbox, deadline: number): Promise<{ run: RunRow; invocations: number; failures: string[] }> {
  const batchSize = Number(functionEnv('worker').BATCH_SIZE);
  let invocations = 0;
  const failures: string[] = [];
  for (;;) {
    const run = (await db.query<RunRow>('SELECT * FROM etl.runs WHERE run_id = $1', [runId])).rows[0];
    assert.ok(run, `run ${runId} is not in the ledger`);
    if (run.status !== 'running') return { run, invocations, failures };
    assert.ok(Date.now() < deadline, `run ${runId} still running at the deadline: ${JSON.stringify(run)}; failures: ${failures.join('; ')}`);
    // A healthy run fails nothing, and a failed record would only come back after the visibility timeout.
    assert.equal(failures.length, 0, `the worker package failed (run of ${run.pipeline}, ${run.status}): ${failures.join('; ')}`);
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: Math.min(10, batchSize), WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) {
      await sleep(100);
      continue;
    }
    const outcome = await worker.invoke(toSqsEvent(messages, 'arn:aws:sqs:us-east-1:000000000000:pg-fanout-work'));
    invocations += 1;
    if (!outcome.ok) {
      failures.push(`${outcome.error ?? 'invocation failed'} ${worker.stderr.slice(-2).join(' | ')}`);
      continue; // Lambda would leave the whole batch to come back after the visibility timeout
    }
    const failed = new Set((outcome.response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    if (failed.size > 0) {
      const errors = worker.stderr.filter((l) => l.includes('"level":"ERROR"')).slice(-2);
      failures.push(`${failed.size} record(s) reported failed: ${errors.join(' | ')}`);
    }
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    if (done.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queues.queueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
  }
}

/** What the fixture's transform must produce, computed by PostgreSQL from the source on its own. */
const EXPECTED_FACTS = `
  SELECT o.id AS order_id,
         upper(btrim(o.customer)) AS customer,
         (o.amount * 100)::bigint AS amount_cents,
         CASE WHEN jsonb_typeof(o.items) = 'array'
              THEN (SELECT coalesce(sum((e -> 'qty')::int), 0) FROM jsonb_array_elements(o.items) e
                     WHERE jsonb_typeof(e) = 'object' AND jsonb_typeof(e -> 'qty') = 'number')::int
              ELSE 0 END AS item_count,
         CASE WHEN jsonb_typeof(o.items) = 'array'
              THEN (SELECT coalesce(jsonb_agg(e -> 'sku' ORDER BY n), '[]'::jsonb) FROM jsonb_array_elements(o.items) WITH ORDINALITY AS x(e, n)
                     WHERE jsonb_typeof(e) = 'object' AND jsonb_typeof(e -> 'sku') = 'string')
              ELSE '[]'::jsonb END AS skus
    FROM public.fixture_orders o
   WHERE o.status <> 'cancelled' AND (o.amount IS NULL OR o.amount >= 0)`;

describe('the synthesized Lambda packages, copied out of the project', () => {
  test('run a full refresh of the bundled pipeline end to end: coordinator, worker, queue, ledger', async () => {
    const deadline = Date.now() + 120_000;
    const started = await invokeCoordinator({ mode: 'full' });
    assert.equal(started.started, true);
    assert.equal(started.mode, 'full');
    assert.ok(started.chunks >= 5, `only ${started.chunks} chunks for ${ROWS} rows of 400`);

    const worker = new WorkerSandbox();
    let result: Awaited<ReturnType<typeof drive>>;
    try {
      result = await drive(started.runId, worker, deadline);
    } finally {
      worker.stop();
    }
    const { run, failures } = result;

    // Self-contained: neither package loaded a module from outside its folder (the project's
    // node_modules included), though Node would have found one.
    for (const p of [packages.worker, packages.coordinator]) assert.equal(relative(repoRoot, p).split(sep)[0], '..');
    assert.deepEqual(started.outside, [], 'the coordinator package resolved modules outside itself');
    assert.deepEqual(worker.outside, [], 'the worker package resolved modules outside itself');

    // The ledger names the fixture's pipeline: had the bundle run the built-in name split instead
    // (the module missing, or registered after the handler's init), this would be
    // "public.input_table -> public.output_table", or the run would have failed.
    assert.equal(run.pipeline, ORDERS_PIPELINE_NAME);
    assert.equal(run.status, 'completed', `run ended ${run.status}; failures: ${failures.join('; ')}`);
    assert.deepEqual(failures, []);
    assert.equal(run.refresh, 'shadow');
    assert.equal(run.chunks_done, run.chunks_total);
    // The build and swap steps after the last chunk are enqueued by the worker itself (WORK_QUEUE_URL, sqs:SendMessage).
    assert.ok(run.steps_total >= 2, `steps_total ${run.steps_total}`);
    assert.equal(run.steps_done, run.steps_total);

    const counts = (
      await db.query<{ cancelled: string; negative: string; rest: string }>(
        `SELECT count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
                count(*) FILTER (WHERE status <> 'cancelled' AND amount < 0) AS negative,
                count(*) FILTER (WHERE status <> 'cancelled' AND (amount IS NULL OR amount >= 0)) AS rest
           FROM public.fixture_orders`,
      )
    ).rows[0]!;
    assert.ok(Number(counts.cancelled) > 0 && Number(counts.negative) > 0, 'the fixture data exercises filter and reject');
    assert.equal(Number(run.rows_read), ROWS);
    assert.equal(Number(run.rows_filtered), Number(counts.cancelled));
    assert.equal(Number(run.rows_rejected), Number(counts.negative));
    assert.equal(Number(run.rows_written), Number(counts.rest));

    // Every row, both ways: the target holds exactly what SQL derives from the source.
    const missing = await db.query(`${EXPECTED_FACTS} EXCEPT SELECT order_id, customer, amount_cents, item_count, skus FROM public.fixture_order_facts`);
    const extra = await db.query(`SELECT order_id, customer, amount_cents, item_count, skus FROM public.fixture_order_facts EXCEPT ${EXPECTED_FACTS}`);
    assert.deepEqual(missing.rows.slice(0, 5), [], `${missing.rowCount} expected row(s) missing or different`);
    assert.deepEqual(extra.rows.slice(0, 5), [], `${extra.rowCount} unexpected row(s)`);
    const facts = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM public.fixture_order_facts')).rows[0]!.n);
    assert.equal(facts, Number(counts.rest));

    const rejects = await db.query<{ reason: string }>('SELECT reason FROM etl.rejects WHERE run_id = $1 AND pipeline = $2', [started.runId, ORDERS_PIPELINE_NAME]);
    assert.equal(rejects.rowCount, Number(counts.negative));
    for (const r of rejects.rows) assert.match(r.reason, /^negative amount -\d+\.\d\d$/);

    // The packages fingerprint the definition as the CLI does from the module's file, so the run
    // can be checked, verified or resumed from a laptop with --pipeline.
    const local = await openPipeline(loadConfig({ DATABASE_URL: db.url, PIPELINE_MODULE: join(repoRoot, CONTEXT.pipeline) }), {
      applicationName: 'pg-fanout-artifact-test', sourceConnections: 1, targetConnections: 1,
    });
    try {
      const fingerprint = (await db.query<{ fingerprint: string }>('SELECT fingerprint FROM etl.runs WHERE run_id = $1', [started.runId])).rows[0]?.fingerprint;
      assert.equal(fingerprint, local.pipeline.fingerprint);
    } finally {
      await Promise.all([local.source.end(), local.target.end()]);
    }

    // The metrics the bundle writes carry the dimension the stack's alarm reads.
    const alarm = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::CloudWatch::Alarm' && (r.Properties as { MetricName?: string }).MetricName === 'RowsRejected',
    );
    const alarmProps = alarm?.Properties as { Namespace: string; Dimensions: { Name: string; Value: string }[] } | undefined;
    assert.deepEqual(alarmProps?.Dimensions, [{ Name: 'Pipeline', Value: ORDERS_PIPELINE_NAME }]);
    const emf = worker.stdout.filter((l) => l.startsWith('{"_aws"')).map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] } });
    assert.ok(emf.length >= started.chunks, `${emf.length} EMF lines for ${started.chunks} chunks`);
    for (const doc of emf) {
      assert.equal(doc.Pipeline, ORDERS_PIPELINE_NAME);
      assert.deepEqual(doc._aws.CloudWatchMetrics[0]?.Dimensions, [['Pipeline']]);
      assert.equal(doc._aws.CloudWatchMetrics[0]?.Namespace, alarmProps?.Namespace);
    }
  });
});
