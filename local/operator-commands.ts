// Operator commands: run, status, verify, resume, redrive. They work against the embedded stack
// and against a deployed one alike: the ledger through DATABASE_URL, the queues through the usual
// AWS credentials and endpoint variables, the coordinator through Lambda Invoke when
// COORDINATOR_FUNCTION is set (in-process otherwise).
import { setTimeout as sleep } from 'node:timers/promises';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, StartMessageMoveTaskCommand, type SQSClient,
} from '@aws-sdk/client-sqs';
import { loadConfig, required, type PipelineConfig } from '../lambdas/shared/config.ts';
import { openPool, withClient, type Pool } from '../lambdas/shared/db.ts';
import { PgFanoutError } from '../lambdas/shared/errors.ts';
import { getRun, latestRun, listChunks, runProgress } from '../lambdas/shared/ledger.ts';
import { preparePipeline } from '../lambdas/shared/pipeline.ts';
import { createSqsClient } from '../lambdas/shared/queue.ts';
import type { StartRunResult } from '../lambdas/coordinator/start-run.ts';
import { splitNameTransform } from '../lambdas/transform/split-name-transform.ts';
import { parseFlags, runModeFlag, UsageError } from './cli-args.ts';
import { ledgerExists } from '../lambdas/shared/ledger-schema.ts';
import { formatCount, formatDuration, progressLine } from './progress.ts';
import { describeMismatch, reconcileRun } from './reconcile.ts';

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

function ledgerPool(config: PipelineConfig): Promise<Pool> {
  required(config.database.url ?? config.database.secretArn, 'DATABASE_URL', 'point it at the pipeline database (postgres://user:pass@host:port/db) to read the ledger.');
  return openPool(config.database, { max: 1, applicationName: 'pg-fanout-cli' });
}

async function withLedger<T>(fn: (pool: Pool, config: PipelineConfig) => Promise<T>): Promise<T> {
  const config = loadConfig();
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
  const { values } = parseFlags(argv, { mode: { type: 'string' }, function: { type: 'string' } }, 'run');
  if (values.help) {
    out(`pg-fanout run [--mode full|incremental] [--function NAME]

Starts a run. With --function (or COORDINATOR_FUNCTION) it invokes the deployed coordinator Lambda
(AWS, or LocalStack when AWS_ENDPOINT_URL is set); otherwise it runs the coordinator handler here,
enqueuing to WORK_QUEUE_URL. A run already active is joined, not duplicated. Default mode: incremental.`);
    return 0;
  }
  const config = loadConfig();
  const mode = runModeFlag(values.mode) ?? 'incremental';
  const result = await invokeCoordinator(config, { mode }, values.function ?? config.coordinatorFunction);
  out(result.started ? `run ${result.runId} started (${result.mode}): ${result.chunks} chunks enqueued` : `run ${result.runId} is already active (${result.status}): nothing new started`);
  return 0;
};

const resume: Command = async (argv) => {
  const { values, positionals } = parseFlags(argv, { function: { type: 'string' } }, 'resume', 1);
  if (values.help) {
    out(`pg-fanout resume RUN_ID [--function NAME]

Re-sends every chunk of RUN_ID that is not done (a failed run is reopened first). Chunks already
done are skipped by the workers, so resuming twice is harmless.`);
    return 0;
  }
  const runId = runIdArg(positionals[0], 'resume', false)!;
  const config = loadConfig();
  const result = await invokeCoordinator(config, { action: 'resume', runId }, values.function ?? config.coordinatorFunction);
  out(`run ${runId}: ${result.enqueued} chunk(s) re-sent; status ${result.status}`);
  return 0;
};

const status: Command = async (argv) => {
  const { values, positionals } = parseFlags(argv, { watch: { type: 'boolean' }, interval: { type: 'string' }, json: { type: 'boolean' } }, 'status', 1);
  if (values.help) {
    out(`pg-fanout status [RUN_ID] [--watch] [--interval SECONDS] [--json]

Progress of RUN_ID (default: the latest run) from the ledger: chunks and rows done / total,
rows/s, ETA, and failed chunks with their last error. --watch refreshes until the run settles.`);
    return 0;
  }
  const wanted = runIdArg(positionals[0], 'status', true);
  const interval = Number(values.interval ?? '2');
  if (!(interval > 0)) throw new UsageError(`status: --interval ${JSON.stringify(values.interval)} must be a positive number of seconds.`);
  return withLedger(async (pool) => {
    for (;;) {
      const r = !(await withClient(pool, (c) => ledgerExists(c)))
        ? undefined
        : wanted === undefined
          ? await withClient(pool, (c) => latestRun(c))
          : await withClient(pool, (c) => getRun(c, wanted));
      if (r === undefined) {
        out('no runs yet: start one with `pg-fanout run` (or `npm start` locally).');
        return 0;
      }
      const p = await withClient(pool, (c) => runProgress(c, r.runId));
      const failed = await withClient(pool, (c) => listChunks(c, r.runId, { status: 'failed' }));
      const elapsed = (r.finishedAt ?? new Date()).getTime() - r.createdAt.getTime();
      if (values.json) {
        out(JSON.stringify({ runId: r.runId, status: r.status, mode: r.mode, pipeline: r.pipeline, ...p, rowsDone: p.rowsDone.toString(), rowsPlanned: p.rowsPlanned.toString(),
          elapsedMs: elapsed, failedChunks: failed.map((c) => ({ chunkNo: c.chunkNo, attempts: c.attempts, lastError: c.lastError })) }));
      } else {
        out(`run ${r.runId} (${r.mode}, ${r.pipeline}): ${r.status}, started ${r.createdAt.toISOString()}, ${formatDuration(elapsed)}`);
        out(`  ${progressLine({ chunksDone: p.chunksDone, chunksFailed: p.chunksFailed, chunksTotal: p.chunksTotal, rowsDone: p.rowsDone, rowsTotal: p.rowsPlanned, elapsedMs: elapsed })}`);
        if (r.status !== 'running' && r.rowsRead !== null) {
          out(`  rows read ${formatCount(r.rowsRead)}, written ${formatCount(r.rowsWritten ?? 0n)}, rejected ${formatCount(r.rowsRejected ?? 0n)}, retries ${r.retries ?? 0}`);
        }
        for (const c of failed) out(`  failed chunk ${c.chunkNo} [${c.lo}, ${c.hi ?? '+inf'}) after ${c.attempts} attempt(s): ${c.lastError ?? 'no error recorded'}`);
      }
      if (!values.watch || r.status !== 'running') return r.status === 'failed' ? 1 : 0;
      await sleep(interval * 1000);
    }
  });
};

const verify: Command = async (argv) => {
  const { values, positionals } = parseFlags(argv, {}, 'verify', 1);
  if (values.help) {
    out(`pg-fanout verify RUN_ID

Reconciles RUN_ID: for each of its chunks, row count, XOR of key hashes and sum of ages of the
input are compared with output ∪ etl.rejects. Exit 1 on any difference, naming the chunks.`);
    return 0;
  }
  const runId = runIdArg(positionals[0], 'verify', false)!;
  return withLedger(async (pool, config) => {
    const r = await withClient(pool, (c) => getRun(c, runId));
    const tables = await preparePipeline(pool, config, splitNameTransform, { createTarget: false });
    if (tables.pipeline !== r.pipeline) throw new UsageError(`run ${runId} belongs to ${r.pipeline}; set SOURCE_TABLE/TARGET_TABLE to match (now ${tables.pipeline}).`);
    const check = await withClient(pool, (c) => reconcileRun(c, tables, r));
    out(`run ${runId} (${r.status}): ${formatCount(check.inputRows)} input rows, ${formatCount(check.outputRows)} in ${tables.target.display}, ${formatCount(check.rejectedRows)} in etl.rejects, ${check.chunks} chunks`);
    if (check.ok) {
      out('reconciled: every input row is in the output or etl.rejects exactly once');
      return 0;
    }
    for (const m of check.mismatched) out(`  DIFFERS ${describeMismatch(m)}`);
    process.stderr.write(`verify: ${check.mismatched.length} chunk(s) differ: ${check.mismatched.slice(0, 5).map((m) => m.chunkNo).join(', ')}${check.mismatched.length > 5 ? ', …' : ''}; resume the run to redo them\n`);
    return 1;
  });
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
  const config = loadConfig();
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

export const COMMANDS: Record<string, Command> = { run, status, verify, resume, redrive };
