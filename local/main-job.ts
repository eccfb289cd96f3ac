// The main job (`npm start`, `pg-fanout local`): the real coordinator and worker handlers on an
// embedded PostgreSQL and an embedded SQS server (or DATABASE_URL / an SQS endpoint). It plays
// only what AWS would: the queue, the event source mapping, the concurrency limits.
import { setTimeout as sleep } from 'node:timers/promises';
import { join, resolve } from 'node:path';
import { environment, loadConfig, backpressureToEnv, DEFAULT_TABLES, type BackpressureConfig, type PipelineConfig, type RunMode } from '../lambdas/shared/config.ts';
import { closeAllPools, openPool, redactDatabaseUrl, withClient, type Pool } from '../lambdas/shared/db.ts';
import { describe } from '../lambdas/shared/errors.ts';
import { getRun, reopenRun, runProgress, type RunRow } from '../lambdas/shared/ledger.ts';
import { preparePipeline } from '../lambdas/shared/pipeline.ts';
import { createSqsClient } from '../lambdas/shared/queue.ts';
import { parseQualifiedName, quoteQualified } from '../lambdas/shared/sql-identifiers.ts';
import type { StartRunResult } from '../lambdas/coordinator/start-run.ts';
import type { ResolvedTables } from '../lambdas/shared/table-schema.ts';
import { splitNameTransform } from '../lambdas/transform/split-name-transform.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.ts';
import { startEmbeddedSqs, type EmbeddedSqs } from './embedded-sqs.ts';
import { LocalEventSource } from './event-source.ts';
import { formatCount, progressLine } from './progress.ts';
import { ensureQueues, queueDepth } from './queues.ts';
import { reconcileRun, reconcileTable } from './reconcile.ts';
import { formatRunSummary, runVerdict } from './run-summary.ts';
import { seedInputTable } from './seed.ts';

export interface LocalJobOptions {
  rows: number;
  mode: RunMode;
  backpressure: Partial<BackpressureConfig>;
  /** Where the embedded PostgreSQL keeps its data between runs. */
  stateDir: string;
  progress: 'tty' | 'plain' | 'off';
  /** Drive this existing run to the end instead of starting one (a failed run is reopened, nothing re-sent). */
  attachRunId?: string;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export interface LocalJobResult {
  exitCode: number;
  runId?: string;
  reason?: string;
}

export async function runLocalJob(options: LocalJobOptions): Promise<LocalJobResult> {
  const env = environment();
  const config = loadConfig(env, options.backpressure, 'local');
  const say = (line: string) => options.out.write(`${line}\n`);
  const started = Date.now();
  const cleanups: (() => Promise<void>)[] = [];
  try {
    let databaseUrl = config.database.url;
    if (databaseUrl === undefined) {
      const db: EmbeddedDatabase = await startEmbeddedPostgres({ dataDir: join(resolve(options.stateDir), 'pgdata'), persistent: true });
      cleanups.push(() => db.stop());
      databaseUrl = db.url;
      say(`database: embedded PostgreSQL on 127.0.0.1:${db.port} (data in ${join(options.stateDir, 'pgdata')}; set DATABASE_URL to use another)`);
    } else {
      say(`database: ${redactDatabaseUrl(databaseUrl)}`);
    }
    let sqsEndpoint = config.sqsEndpoint;
    if (sqsEndpoint === undefined) {
      const sqs: EmbeddedSqs = await startEmbeddedSqs();
      cleanups.push(() => sqs.stop());
      sqsEndpoint = sqs.endpoint;
      say(`queue:    embedded SQS (fauxqs) on ${sqsEndpoint} (set AWS_ENDPOINT_URL_SQS to use another)`);
    } else {
      say(`queue:    SQS at ${sqsEndpoint}`);
    }
    const sqs = createSqsClient({ sqsEndpoint, region: config.region });
    const queues = await ensureQueues(sqs, config.backpressure);

    const pool = await openPool({ ...config.database, url: databaseUrl }, { max: 2, applicationName: 'pg-fanout-local' });
    // Also the in-process coordinator's pool, before the embedded database stops under it.
    cleanups.unshift(closeAllPools);
    const seeded = await seedIfDefaultSourceMissing(pool, config, options.rows, say);

    // The functions' environment, as the stack would set it.
    const functionEnv: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      WORK_QUEUE_URL: queues.queueUrl,
      DEAD_LETTER_QUEUE_URL: queues.deadLetterQueueUrl,
      AWS_ENDPOINT_URL_SQS: sqsEndpoint,
      AWS_REGION: config.region,
      SOURCE_TABLE: config.sourceTable,
      TARGET_TABLE: config.targetTable,
      KEY_COLUMN: config.keyColumn,
      EMIT_METRICS: 'false',
      // Quieter than a function's default: the terminal belongs to the progress bar.
      LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
      ...functionBackpressureEnv(config.backpressure),
    };
    // The coordinator handler runs in this process and reads its configuration at import.
    Object.assign(env, functionEnv);
    delete env.MAX_CONCURRENCY;
    delete env.RESERVED_CONCURRENCY;
    // The event source mapping exists before any run, as in AWS: instances warm up while the
    // coordinator plans and enqueues.
    const eventSource = new LocalEventSource({ sqs, queueUrl: queues.queueUrl, backpressure: config.backpressure, env: { ...env, ...functionEnv } });
    eventSource.start();
    let run: RunRow;
    let planMs = 0;
    // Progress rates count from here, not from start-up and seeding.
    const runClockStart = Date.now();
    let start: StartRunResult;
    let tables: ResolvedTables;
    try {
      const { handler: coordinator } = await import('../lambdas/coordinator/handler.ts');
      const invokeCoordinator = coordinator as unknown as (event: unknown) => Promise<StartRunResult>;
      if (options.attachRunId !== undefined) {
        const runId = options.attachRunId;
        const existing = await withClient(pool, (c) => getRun(c, runId));
        if (existing.status === 'failed') await withClient(pool, (c) => reopenRun(c, runId));
        say(`attached to run ${runId} (${existing.status}): processing what is in the queue`);
        start = { runId, started: false, status: 'running', chunks: existing.chunksTotal, enqueued: 0, mode: existing.mode };
      } else {
        const triggered = performance.now();
        start = await invokeCoordinator({ mode: options.mode });
        planMs = performance.now() - triggered;
        if (!start.started && start.status === 'running') {
          say(`run ${start.runId} was interrupted: resuming it (chunks already done are skipped)`);
          start = await invokeCoordinator({ action: 'resume', runId: start.runId });
        } else {
          say(`run ${start.runId} started (${options.mode}): ${formatCount(start.chunks)} chunks of about ${formatCount(config.backpressure.chunkRows)} rows`);
        }
      }
      tables = await preparePipeline(pool, config, splitNameTransform, { createTarget: true });
      say(`workers:  up to ${config.backpressure.maxConcurrency} isolated instances, batch size ${config.backpressure.batchSize}, 2 connections each`);
      run = await waitForRun(pool, sqs, queues.queueUrl, start.runId, config, options, runClockStart);
      if (run.status === 'failed') await waitForDeadLetters(sqs, queues.queueUrl, config);
    } finally {
      await eventSource.stop();
    }

    const dlq = await queueDepth(sqs, queues.deadLetterQueueUrl);
    const verifyStarted = performance.now();
    const check = await withClient(pool, (c) => reconcileRun(c, tables, run));
    // A full run's chunks cover the whole key domain, so its per-chunk check already is the whole table.
    const whole = run.mode === 'full' ? check : await withClient(pool, (c) => reconcileTable(c, tables));
    const summary = formatRunSummary({
      run, check, whole,
      sourceDisplay: tables.source.display,
      targetDisplay: tables.target.display,
      retries: run.retries ?? eventSource.stats.recordsFailed,
      deadLetterDepth: dlq.visible + dlq.inFlight,
      workerPeakRssBytes: eventSource.peakWorkerRssBytes,
      workerInstances: eventSource.sandboxes.length,
      planMs,
      verifyMs: performance.now() - verifyStarted,
      jobMs: Date.now() - started,
      seeded,
    });
    for (const line of summary) say(line);
    const verdict = runVerdict(run, check, whole);
    if (verdict.exitCode !== 0) {
      options.err.write(`${verdict.reason}\n`);
      return { exitCode: 1, runId: run.runId, reason: verdict.reason };
    }
    return { exitCode: 0, runId: run.runId };
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((e: unknown) => options.err.write(`cleanup: ${describe(e)}\n`));
  }
}

/** The functions do not use the concurrency settings (the event source does), and locally they may be 1. */
function functionBackpressureEnv(c: BackpressureConfig): Record<string, string> {
  const { MAX_CONCURRENCY: _m, RESERVED_CONCURRENCY: _r, ...rest } = backpressureToEnv(c);
  return rest;
}

async function seedIfDefaultSourceMissing(pool: Pool, config: PipelineConfig, rows: number, say: (l: string) => void): Promise<boolean> {
  // Only the default source is ever seeded; a configured SOURCE_TABLE that is missing is an error
  // the coordinator reports, and an existing table (even an empty one) is processed as it is.
  if (config.sourceTable !== DEFAULT_TABLES.sourceTable) return false;
  const name = parseQualifiedName(config.sourceTable, 'SOURCE_TABLE');
  const exists = await pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [quoteQualified({ schema: name.schema ?? 'public', name: name.name })]);
  if (exists.rows[0]?.t !== null) return false;
  say(`seeding ${config.sourceTable} with ${formatCount(rows)} synthetic rows (it did not exist)`);
  await withClient(pool, (c) => seedInputTable(c, quoteQualified({ schema: name.schema ?? 'public', name: name.name }), rows));
  return true;
}

/** Polls the ledger until the run settles; draws progress; notices a run that can no longer move. */
async function waitForRun(pool: Pool, sqs: ReturnType<typeof createSqsClient>, queueUrl: string, runId: string, config: PipelineConfig, options: LocalJobOptions, started: number): Promise<RunRow> {
  const tty = options.progress === 'tty';
  let lastPlain = 0;
  let idleSince: number | undefined;
  const stallMs = Math.max(10_000, 2 * config.backpressure.visibilityTimeoutSeconds * 1000);
  let unreachableSince: number | undefined;
  for (;;) {
    let p: Awaited<ReturnType<typeof runProgress>>;
    let run: RunRow;
    try {
      p = await withClient(pool, (c) => runProgress(c, runId));
      run = await withClient(pool, (c) => getRun(c, runId));
      unreachableSince = undefined;
    } catch (error) {
      // The database restarting mid-run is a fault the pipeline rides out: the workers' chunks
      // roll back and are retried; here we only wait for the ledger to answer again.
      unreachableSince ??= Date.now();
      if (Date.now() - unreachableSince > 5 * 60_000) throw error;
      options.err.write(`${tty ? '\n' : ''}ledger unreachable (${describe(error)}): retrying\n`);
      await sleep(1000);
      continue;
    }
    const line = progressLine({ chunksDone: p.chunksDone, chunksFailed: p.chunksFailed, chunksTotal: p.chunksTotal, rowsDone: p.rowsDone, rowsTotal: p.rowsPlanned, elapsedMs: Date.now() - started });
    const settled = run.status !== 'running';
    if (tty) options.err.write(`\r${line}\x1b[K`);
    else if (options.progress === 'plain' && (settled || Date.now() - lastPlain >= 5000)) {
      options.err.write(`${line}\n`);
      lastPlain = Date.now();
    }
    if (run.status !== 'running') {
      if (tty) options.err.write('\n');
      return run;
    }
    const depth = await queueDepth(sqs, queueUrl);
    if (depth.visible === 0 && depth.inFlight === 0) {
      idleSince ??= Date.now();
      if (Date.now() - idleSince > stallMs) {
        if (tty) options.err.write('\n');
        return { ...run, status: 'running', lastError: `${p.chunksTotal - p.chunksDone - p.chunksFailed} chunk(s) pending with no message in the queue (lost or dead-lettered without a ledger record): run \`pg-fanout resume ${runId}\`` };
      }
    } else {
      idleSince = undefined;
    }
    await sleep(tty ? 250 : 500);
  }
}

/**
 * A chunk fails for good on its last delivery, but SQS moves the message to the DLQ only when it
 * would be received once more. Keep polling until the work queue is empty so the DLQ depth we
 * report is the one an operator will find (bounded by one visibility timeout and a margin).
 */
async function waitForDeadLetters(sqs: ReturnType<typeof createSqsClient>, queueUrl: string, config: PipelineConfig): Promise<void> {
  const deadline = Date.now() + (config.backpressure.visibilityTimeoutSeconds + 10) * 1000;
  while (Date.now() < deadline) {
    const d = await queueDepth(sqs, queueUrl);
    if (d.visible === 0 && d.inFlight === 0) return;
    await sleep(500);
  }
}
