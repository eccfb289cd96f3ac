// Operator commands: run, status, verify, resume, redrive. They work against the embedded stack
// and against a deployed one alike: the ledger through DATABASE_URL, the queues through the usual
// AWS credentials and endpoint variables, the coordinator through Lambda Invoke when
// COORDINATOR_FUNCTION is set (in-process otherwise).
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, StartMessageMoveTaskCommand, type SQSClient,
} from '@aws-sdk/client-sqs';
import { environment, loadConfig, required, type PipelineConfig } from '../lambdas/shared/config.ts';
import { openPool, withClient, type Pool } from '../lambdas/shared/db.ts';
import { PgFanoutError } from '../lambdas/shared/errors.ts';
import { cancelRun, getRun, latestRun, listChunks, runProgress, targetRowsOf } from '../lambdas/shared/ledger.ts';
import { listSteps } from '../lambdas/shared/ledger-steps.ts';
import { createSqsClient } from '../lambdas/shared/queue.ts';
import type { StartRunResult } from '../lambdas/coordinator/start-run.ts';
import { openPipeline } from '../lambdas/pipeline/open-pipeline.ts';
import { dropShadowTables } from '../lambdas/shadow/shadow-plan.ts';
import { parseFlags, refreshFlag, runModeFlag, UsageError } from './cli-args.ts';
import { ledgerExists } from '../lambdas/shared/ledger-schema.ts';
import { formatCount, formatDuration, progressLine } from './progress.ts';
import { describeMode } from './run-summary.ts';
import { describeVerdict, verifyRun } from './verify-run.ts';

type Command = (argv: string[]) => Promise<number>;
const out = (line: string) => process.stdout.write(`${line}\n`);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function runIdArg(value: string | undefined, command: string, optional: boolean): string | undefined {
  if (value === undefined) {
    if (optional) return undefined;
    throw new UsageError(`${command} needs a RUN_ID (a uuid): find it with \`pg-fanout status\`.`);
  }
  if (!UUID.test(value)) throw new UsageError(`${command}: RUN_ID ${JSON.stringify(value)} is not a run id (a uuid such as 0b6f…-…); find it with \`pg-fanout status\`.`);
  return value;
}

/** The configuration, with --pipeline FILE (an absolute path) over PIPELINE_MODULE. */
function configWith(pipeline: string | undefined): PipelineConfig {
  const env = environment();
  if (pipeline !== undefined) env.PIPELINE_MODULE = resolve(pipeline);
  return loadConfig(env);
}

const PIPELINE_FLAG = { pipeline: { type: 'string' } } as const;
const PIPELINE_HELP = `  --pipeline FILE   the pipeline module (also PIPELINE_MODULE); default: the built-in name split`;

function ledgerPool(config: PipelineConfig): Promise<Pool> {
  required(config.database.url ?? config.database.secretArn, 'DATABASE_URL', 'point it at the pipeline database (postgres://user:pass@host:port/db) to read the ledger.');
  return openPool(config.database, { max: 1, applicationName: 'pg-fanout-cli' });
}

async function withLedger<T>(pipeline: string | undefined, fn: (pool: Pool, config: PipelineConfig) => Promise<T>): Promise<T> {
  const config = configWith(pipeline);
  const pool = await ledgerPool(config);
  try {
    return await fn(pool, config);
  } finally {
    await pool.end();
  }
}

/** The coordinator, deployed (Lambda Invoke) or in-process. */
async function invokeCoordinator(config: PipelineConfig, payload: Record<string, unknown>, functionName: string | undefined): Promise<StartRunResult> {
  if (functionName !== undefined) {
    const lambda = new LambdaClient({ region: config.region });
    const r = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }));
    const text = Buffer.from(r.Payload ?? new Uint8Array()).toString('utf8');
    if (r.FunctionError) throw new PgFanoutError(`coordinator ${functionName} failed: ${text}`);
    return JSON.parse(text) as StartRunResult;
  }
  required(config.queueUrl, 'WORK_QUEUE_URL', 'set it (or COORDINATOR_FUNCTION to invoke the deployed coordinator) so the coordinator can enqueue chunks.');
  const { handler } = await import('../lambdas/coordinator/handler.ts');
  return (handler as unknown as (e: unknown) => Promise<StartRunResult>)(payload);
}

const run: Command = async (argv) => {
  const { values } = parseFlags(argv, { mode: { type: 'string' }, 'in-place': { type: 'boolean' }, function: { type: 'string' }, ...PIPELINE_FLAG }, 'run');
  if (values.help) {
    out(`pg-fanout run [--mode incremental|full|append] [--in-place] [--pipeline FILE] [--function NAME]

Starts a run. With --function (or COORDINATOR_FUNCTION) it invokes the deployed coordinator Lambda
(AWS, or LocalStack when AWS_ENDPOINT_URL is set), which runs the pipeline it was deployed with;
otherwise it runs the coordinator handler here, enqueuing to WORK_QUEUE_URL. A run already active
is joined, not duplicated (one of another definition of the pipeline is cancelled first).

  --mode M          incremental (default): every change committed since the last run — inserts,
                    late commits, updates, deletes; the first run (or one after the definition
                    changed) is a full one. full: everything, into new tables swapped in at the end.
                    append: only keys above the last run's highest key (append-only tables: it
                    misses rows that commit late below that key, updates and deletes).
  --in-place        a full run rewrites each chunk's rows in the live tables instead of building
                    new ones (for targets that views or foreign keys depend on)
${PIPELINE_HELP}`);
    return 0;
  }
  const config = configWith(values.pipeline);
  const mode = runModeFlag(values.mode) ?? 'incremental';
  const payload = { mode, ...(values['in-place'] ? { refresh: refreshFlag('in-place') } : {}) };
  const result = await invokeCoordinator(config, payload, values.function ?? config.coordinatorFunction);
  if (result.note !== undefined) out(`note: ${result.note}`);
  out(result.started ? `run ${result.runId} started (${result.mode}): ${result.chunks} chunks enqueued` : `run ${result.runId} is already active (${result.status}): nothing new started`);
  return 0;
};

const resume: Command = async (argv) => {
  const { values, positionals } = parseFlags(argv, { function: { type: 'string' }, ...PIPELINE_FLAG }, 'resume', 1);
  if (values.help) {
    out(`pg-fanout resume RUN_ID [--pipeline FILE] [--function NAME]

Re-sends every chunk (or step of a full refresh's last phase) of RUN_ID that is not done (a failed
run is reopened first). Chunks already done are skipped by the workers, so resuming twice is
harmless. A run started by another definition of the pipeline is refused: start a new run instead.
${PIPELINE_HELP}`);
    return 0;
  }
  const runId = runIdArg(positionals[0], 'resume', false)!;
  const config = configWith(values.pipeline);
  const result = await invokeCoordinator(config, { action: 'resume', runId }, values.function ?? config.coordinatorFunction);
  out(`run ${runId}: ${result.enqueued} chunk(s) re-sent; status ${result.status}`);
  return 0;
};

const cancel: Command = async (argv) => {
  const { values, positionals } = parseFlags(argv, { ...PIPELINE_FLAG }, 'cancel', 1);
  if (values.help) {
    out(`pg-fanout cancel RUN_ID

Marks a running or failed run cancelled: workers skip its chunks still in the queue, and the new
tables of a full refresh are dropped (the targets are untouched). The next run starts afresh; an
incremental one captures every change since the last completed run, so nothing is lost.`);
    return 0;
  }
  const runId = runIdArg(positionals[0], 'cancel', false)!;
  return withLedger(values.pipeline, async (pool) => {
    const r = await withClient(pool, async (c) => {
      const cancelled = await cancelRun(c, runId, 'cancelled by pg-fanout cancel');
      if (cancelled.refresh === 'shadow') await dropShadowTables(c, cancelled.targets);
      return cancelled;
    });
    out(`run ${runId} (${r.pipeline}) cancelled${r.refresh === 'shadow' ? '; its new tables were dropped, the targets are untouched' : ''}`);
    return 0;
  });
};

const status: Command = async (argv) => {
  const { values, positionals } = parseFlags(argv, { watch: { type: 'boolean' }, interval: { type: 'string' }, json: { type: 'boolean' }, ...PIPELINE_FLAG }, 'status', 1);
  if (values.help) {
    out(`pg-fanout status [RUN_ID] [--pipeline FILE] [--watch] [--interval SECONDS] [--json]

Progress of RUN_ID (default: the latest run, of the pipeline when --pipeline is given) from the
ledger: chunks and rows done / total, rows/s, ETA, the steps of a full refresh's last phase, and
failed chunks or steps with their last error. --watch refreshes until the run settles.`);
    return 0;
  }
  const wanted = runIdArg(positionals[0], 'status', true);
  const interval = Number(values.interval ?? '2');
  if (!(interval > 0)) throw new UsageError(`status: --interval ${JSON.stringify(values.interval)} must be a positive number of seconds.`);
  return withLedger(values.pipeline, async (pool, config) => {
    const pipelineName = values.pipeline === undefined ? undefined : await openPipelineName(config);
    for (;;) {
      const r = !(await withClient(pool, (c) => ledgerExists(c)))
        ? undefined
        : wanted === undefined
          ? await withClient(pool, (c) => latestRun(c, pipelineName))
          : await withClient(pool, (c) => getRun(c, wanted));
      if (r === undefined) {
        out('no runs yet: start one with `pg-fanout run` (or `npm start` locally).');
        return 0;
      }
      const p = await withClient(pool, (c) => runProgress(c, r.runId));
      const failed = await withClient(pool, (c) => listChunks(c, r.runId, { status: 'failed' }));
      const steps = await withClient(pool, (c) => listSteps(c, r.runId));
      const elapsed = (r.finishedAt ?? new Date()).getTime() - r.createdAt.getTime();
      if (values.json) {
        out(JSON.stringify({ runId: r.runId, status: r.status, mode: r.mode, refresh: r.refresh, phase: r.phase, pipeline: r.pipeline, ...p, rowsDone: p.rowsDone.toString(), rowsPlanned: p.rowsPlanned.toString(),
          elapsedMs: elapsed, failedChunks: failed.map((c) => ({ chunkNo: c.chunkNo, attempts: c.attempts, lastError: c.lastError })),
          steps: steps.map((s) => ({ stepNo: s.stepNo, kind: s.kind, description: s.description, status: s.status, lastError: s.lastError })) }));
      } else {
        out(`run ${r.runId} (${describeMode(r)}, ${r.pipeline}): ${r.status}${r.status === 'running' && r.phase !== 'copy' ? ` (${r.phase === 'build' ? 'building indexes' : 'swapping in'})` : ''}, started ${r.createdAt.toISOString()}, ${formatDuration(elapsed)}`);
        out(`  ${progressLine({ chunksDone: p.chunksDone, chunksFailed: p.chunksFailed, chunksTotal: p.chunksTotal, rowsDone: p.rowsDone, rowsTotal: p.rowsPlanned, elapsedMs: elapsed })}`);
        if (steps.length > 0) out(`  steps ${p.stepsDone}/${p.stepsTotal} done`);
        if (r.status !== 'running' && r.rowsRead !== null) {
          const targets = await withClient(pool, (c) => targetRowsOf(c, r.runId));
          out(`  rows read ${formatCount(r.rowsRead)}, written ${formatCount(r.rowsWritten ?? 0n)}, rejected ${formatCount(r.rowsRejected ?? 0n)}, filtered ${formatCount(r.rowsFiltered ?? 0n)}` +
            `${r.mode === 'incremental' ? `, deleted ${formatCount(r.rowsDeleted ?? 0n)}` : ''}, retries ${r.retries ?? 0}`);
          if (targets.size > 1) out(`  per target: ${[...targets].map(([name, n]) => `${name} ${formatCount(n)}`).join(', ')}`);
        }
        for (const c of failed) out(`  failed chunk ${c.chunkNo} [${c.lo?.join(', ') ?? '-inf'}, ${c.hi?.join(', ') ?? '+inf'}) after ${c.attempts} attempt(s): ${c.lastError ?? 'no error recorded'}`);
        for (const s of steps.filter((x) => x.status === 'failed')) out(`  failed step ${s.stepNo} (${s.description}) after ${s.attempts} attempt(s): ${s.lastError ?? 'no error recorded'}`);
        if (r.status === 'failed' && r.lastError !== null && failed.length === 0) out(`  ${r.lastError}`);
      }
      if (!values.watch || r.status !== 'running') return r.status === 'failed' ? 1 : 0;
      await sleep(interval * 1000);
    }
  });
};

async function openPipelineName(config: PipelineConfig): Promise<string> {
  const opened = await openPipeline(config, { applicationName: 'pg-fanout-cli', sourceConnections: 1, targetConnections: 1 });
  try {
    return opened.pipeline.name;
  } finally {
    await Promise.all([opened.source.end(), opened.target.end()]);
  }
}

const verify: Command = async (argv) => {
  const { values, positionals } = parseFlags(argv, { ...PIPELINE_FLAG }, 'verify', 1);
  if (values.help) {
    out(`pg-fanout verify RUN_ID [--pipeline FILE]

The deep check of RUN_ID, across the source and target databases: each of its chunks is read from
the source again, put through the pipeline once more (into temporary tables, nothing is written),
and compared row for row with the targets and etl.rejects. Exit 1 on any difference, naming the
chunks. The source must not have changed since the run for it to pass.
${PIPELINE_HELP}`);
    return 0;
  }
  const runId = runIdArg(positionals[0], 'verify', false)!;
  const config = configWith(values.pipeline);
  required(config.database.url ?? config.database.secretArn, 'DATABASE_URL', 'point it at the pipeline database (postgres://user:pass@host:port/db) to read the ledger.');
  const opened = await openPipeline(config, { applicationName: 'pg-fanout-cli', sourceConnections: 1, targetConnections: 1 });
  try {
    const r = await withClient(opened.target, (c) => getRun(c, runId));
    if (r.pipeline !== opened.pipeline.name) {
      throw new UsageError(`run ${runId} belongs to ${r.pipeline}; run verify with that pipeline (--pipeline, or SOURCE_TABLE/TARGET_TABLE for the built-in one; now ${opened.pipeline.name}).`);
    }
    const check = await verifyRun(opened, r);
    const landed = check.chunks.reduce((n, c) => n + c.sides.filter((s) => s.name !== 'etl.rejects').reduce((m, s) => m + s.actual, 0), 0);
    const rejected = check.chunks.reduce((n, c) => n + (c.sides.find((s) => s.name === 'etl.rejects')?.actual ?? 0), 0);
    out(`run ${runId} (${r.status}): ${formatCount(check.rowsRead)} source rows read again, ${formatCount(landed)} target rows and ${formatCount(rejected)} rejects compared, ${check.chunks.length} chunks`);
    if (check.ok) {
      out('verified: the targets and etl.rejects hold exactly what the pipeline makes of the source, row for row');
      return 0;
    }
    const bad = check.chunks.filter((c) => !c.ok);
    for (const c of bad) out(`  DIFFERS ${describeVerdict(c)}`);
    process.stderr.write(`verify: ${bad.length} chunk(s) differ: ${bad.slice(0, 5).map((c) => c.chunkNo).join(', ')}${bad.length > 5 ? ', …' : ''}; resume the run to redo them, or start a new run\n`);
    return 1;
  } finally {
    await Promise.all([opened.source.end(), opened.target.end()]);
  }
};

const redrive: Command = async (argv) => {
  const { values } = parseFlags(argv, { 'dead-letter-queue': { type: 'string' }, queue: { type: 'string' } }, 'redrive');
  if (values.help) {
    out(`pg-fanout redrive [--dead-letter-queue URL] [--queue URL]

Moves every message from the DLQ (DEAD_LETTER_QUEUE_URL) back to the work queue (WORK_QUEUE_URL):
with StartMessageMoveTask where the endpoint supports it, otherwise by receive / send / delete, a
message deleted from the DLQ only after the work queue accepted it. Fix the cause first.`);
    return 0;
  }
  const config = configWith(undefined);
  const dlq = required(values['dead-letter-queue'] ?? config.deadLetterQueueUrl, 'DEAD_LETTER_QUEUE_URL', 'set it or pass --dead-letter-queue URL.');
  const queue = required(values.queue ?? config.queueUrl, 'WORK_QUEUE_URL', 'set it or pass --queue URL.');
  const moved = await redriveMessages(createSqsClient(config), dlq, queue);
  out(moved.method === 'move-task' ? `redrive started (StartMessageMoveTask ${moved.taskHandle})` : `redrive: moved ${moved.moved} message(s) back to the work queue`);
  return 0;
};

export async function redriveMessages(sqs: SQSClient, dlqUrl: string, queueUrl: string): Promise<{ method: 'move-task'; taskHandle: string } | { method: 'copy'; moved: number }> {
  try {
    const arn = async (url: string) => (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    const r = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: await arn(dlqUrl), DestinationArn: await arn(queueUrl) }));
    return { method: 'move-task', taskHandle: r.TaskHandle ?? '' };
  } catch (error) {
    const name = (error as { name?: string }).name ?? '';
    if (!/UnsupportedOperation|InvalidAction|NotImplemented|UnknownOperation|InvalidParameterValue/i.test(name + (error as Error).message)) throw error;
  }
  let moved = 0;
  for (;;) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }));
    const messages = r.Messages ?? [];
    if (messages.length === 0) return { method: 'copy', moved };
    const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), MessageBody: m.Body ?? '' })) }));
    const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
    const accepted = messages.filter((_, i) => ok.has(String(i)));
    if (accepted.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: dlqUrl, Entries: accepted.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
    moved += accepted.length;
    if (accepted.length < messages.length) throw new PgFanoutError(`redrive: the work queue refused ${messages.length - accepted.length} message(s); they stay in the DLQ. Retry redrive.`);
  }
}

export const COMMANDS: Record<string, Command> = { run, status, verify, resume, redrive, cancel };
