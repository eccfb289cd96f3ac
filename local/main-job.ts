// The main job (`npm start`, `pg-fanout local`): the real coordinator and worker handlers on an
// embedded PostgreSQL and an embedded SQS server (or DATABASE_URL / an SQS endpoint). It plays
// only what AWS would: the queue, the event source mapping, the concurrency limits.
import { setTimeout as sleep } from 'node:timers/promises';
import { join, resolve } from 'node:path';
import { environment, loadConfig, backpressureToEnv, DEFAULT_TABLES, type BackpressureConfig, type PipelineConfig, type RunMode } from '../lambdas/shared/config.ts';
import { closeAllPools, openPool, redactDatabaseUrl, withClient, type Pool } from '../lambdas/shared/db.ts';
import { describe } from '../lambdas/shared/errors.ts';
import { getRun, reopenRun, runProgress, targetRowsOf, type Refresh, type RunRow } from '../lambdas/shared/ledger.ts';
import { parseQualifiedName, quoteIdent, quoteQualified } from '../lambdas/shared/sql-identifiers.ts';
import type { StartRunResult } from '../lambdas/coordinator/start-run.ts';
import { importPipelineModule } from '../lambdas/pipeline/load-pipeline.ts';
import { openPipeline, type OpenedPipeline } from '../lambdas/pipeline/open-pipeline.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.ts';
import { startEmbeddedSqs, type EmbeddedSqs } from './embedded-sqs.ts';
import { LocalEventSource } from './event-source.ts';
import { formatCount, progressLine } from './progress.ts';
import { ensureQueues, queueDepth } from './queues.ts';
import { describeMode, formatRunSummary, runVerdict } from './run-summary.ts';
import { seedInputTable } from './seed.ts';
import { verifyRun, type RunVerification } from './verify-run.ts';
import { createSqsClient } from '../lambdas/shared/queue.ts';

export interface LocalJobOptions {
  rows: number;
  mode: RunMode;
  /** A full run's way of replacing the targets, instead of the pipeline's. */
  refresh?: Refresh;
  /** A pipeline module instead of the built-in name split (also PIPELINE_MODULE). */
  pipelineModule?: string;
  /** After the run, read every chunk again and compare row for row (`pg-fanout verify`). */
  verify?: boolean;
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

/**
 * What a pipeline module may export for the main job, beside its pipeline: how to make demo data
 * when the source table does not exist, and the two databases of the embedded server it wants.
 */
interface ModuleDemo {
  seed?: (db: { query: Pool['query'] }, rows: number) => Promise<void>;
  databases?: { source: string; target: string };
}

export async function runLocalJob(options: LocalJobOptions): Promise<LocalJobResult> {
  const env = environment();
  const moduleFlag = options.pipelineModule ?? env.PIPELINE_MODULE;
  const pipelineModule = moduleFlag === undefined || moduleFlag.trim() === '' ? undefined : resolve(moduleFlag);
  const config = loadConfig({ ...env, ...(pipelineModule ? { PIPELINE_MODULE: pipelineModule } : {}) }, options.backpressure, 'local');
  const say = (line: string) => options.out.write(`${line}\n`);
  const started = Date.now();
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const demo = pipelineModule === undefined ? undefined : ((await importPipelineModule(pipelineModule)).module.demo as ModuleDemo | undefined);
    let databaseUrl = config.database.url;
    let sourceUrl = config.sameDatabase ? undefined : config.sourceDatabase.url;
    if (databaseUrl === undefined) {
      const db: EmbeddedDatabase = await startEmbeddedPostgres({ dataDir: join(resolve(options.stateDir), 'pgdata'), persistent: true });
      cleanups.push(() => db.stop());
      databaseUrl = db.url;
      say(`database: embedded PostgreSQL on 127.0.0.1:${db.port} (data in ${join(options.stateDir, 'pgdata')}; set DATABASE_URL to use another)`);
      if (demo?.databases !== undefined && sourceUrl === undefined) {
        ({ source: sourceUrl, target: databaseUrl } = await demoDatabases(db.url, demo.databases));
        say(`          source database ${demo.databases.source}, target database ${demo.databases.target} (the pipeline module's demo; set SOURCE_DATABASE_URL / TARGET_DATABASE_URL to use others)`);
      }
    } else {
      say(`database: ${redactDatabaseUrl(databaseUrl)}${sourceUrl ? `, source ${redactDatabaseUrl(sourceUrl)}` : ''}`);
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

    const sourcePool = await openPool({ ...config.sourceDatabase, url: sourceUrl ?? databaseUrl }, { max: 1, applicationName: 'pg-fanout-local' });
    // Also the in-process coordinator's pools, before the embedded database stops under them.
    cleanups.unshift(closeAllPools);
    const seeded = pipelineModule === undefined
      ? await seedIfDefaultSourceMissing(sourcePool, config, options.rows, say)
      : await seedWithModule(sourcePool, config, demo, options.rows, say);

    // The functions' environment, as the stack would set it.
    const functionEnv: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      ...(sourceUrl !== undefined ? { SOURCE_DATABASE_URL: sourceUrl } : {}),
      ...(pipelineModule !== undefined ? { PIPELINE_MODULE: pipelineModule } : {}),
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
    delete env.TARGET_DATABASE_URL;
    // The coordinator handler runs in this process and reads its configuration at import.
    Object.assign(env, functionEnv);
    delete env.MAX_CONCURRENCY;
    delete env.RESERVED_CONCURRENCY;
    const opened: OpenedPipeline = await openPipeline(loadConfig(env, options.backpressure, 'local'), { applicationName: 'pg-fanout-local', sourceConnections: 1, targetConnections: 2 });
    const pool = opened.target;
    // The event source mapping exists before any run, as in AWS: instances warm up while the
    // coordinator plans and enqueues.
    const eventSource = new LocalEventSource({ sqs, queueUrl: queues.queueUrl, backpressure: config.backpressure, env: { ...env, ...functionEnv } });
    eventSource.start();
    let run: RunRow;
    let planMs = 0;
    // Progress rates count from here, not from start-up and seeding.
    const runClockStart = Date.now();
    let start: StartRunResult;
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
        start = await invokeCoordinator({ mode: options.mode, ...(options.refresh ? { refresh: options.refresh } : {}) });
        planMs = performance.now() - triggered;
        if (start.note !== undefined) say(`note:     ${start.note}`);
        if (!start.started && start.status === 'running') {
          say(`run ${start.runId} was interrupted: resuming it (chunks already done are skipped)`);
          start = await invokeCoordinator({ action: 'resume', runId: start.runId });
        } else {
          say(`run ${start.runId} started (${describeMode({ mode: start.mode, refresh: start.refresh ?? null })}): ${formatCount(start.chunks)} chunks of about ${formatCount(config.backpressure.chunkRows)} rows`);
        }
      }
      say(`pipeline: ${opened.pipeline.name}${pipelineModule ? ` (${moduleFlag})` : ''}`);
      say(`workers:  up to ${config.backpressure.maxConcurrency} isolated instances, batch size ${config.backpressure.batchSize}, 2 connections each`);
      run = await waitForRun(pool, sqs, queues.queueUrl, start.runId, config, options, runClockStart);
      if (run.status === 'failed') await waitForDeadLetters(sqs, queues.queueUrl, config);
    } finally {
      await eventSource.stop();
    }

    const dlq = await queueDepth(sqs, queues.deadLetterQueueUrl);
    const verifyStarted = performance.now();
    let verification: RunVerification | undefined;
    if (options.verify && run.status === 'completed') verification = await verifyRun(opened, run);
    const summary = formatRunSummary({
      run,
      targetRows: new Map([...(await withClient(pool, (c) => targetRowsOf(c, run.runId)))].map(([name, n]) => [opened.pipeline.targets.find((t) => t.name === name)?.table.display ?? name, n])),
      verification,
      retries: run.retries ?? eventSource.stats.recordsFailed,
      deadLetterDepth: dlq.visible + dlq.inFlight,
      workerPeakRssBytes: eventSource.peakWorkerRssBytes,
      workerCpuMs: eventSource.workerCpuMs,
      workerInstances: eventSource.sandboxes.length,
      planMs,
      verifyMs: performance.now() - verifyStarted,
      jobMs: Date.now() - started,
      seeded,
    });
    for (const line of summary) say(line);
    const verdict = runVerdict(run, verification);
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

/** The two databases a module's demo asks for, created on the embedded server when missing. */
async function demoDatabases(serverUrl: string, names: { source: string; target: string }): Promise<{ source: string; target: string }> {
  const admin = await openPool({ url: serverUrl, tls: 'disable' }, { max: 1, applicationName: 'pg-fanout-local' });
  try {
    for (const name of [names.source, names.target]) {
      const exists = await admin.query('SELECT FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${quoteIdent(name)} ENCODING 'UTF8' TEMPLATE template0`);
    }
  } finally {
    await admin.end();
  }
  const at = (name: string) => Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString();
  return { source: at(names.source), target: at(names.target) };
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

/** A module's own demo data, when its source table does not exist yet. */
async function seedWithModule(pool: Pool, config: PipelineConfig, demo: ModuleDemo | undefined, rows: number, say: (l: string) => void): Promise<boolean> {
  if (demo?.seed === undefined) return false;
  const { importPipelineModule: load } = await import('../lambdas/pipeline/load-pipeline.ts');
  const table = (await load(config.pipelineModule!)).spec.source.table;
  const exists = await pool.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [table]);
  if (exists.rows[0]?.t !== null) return false;
  say(`seeding ${table} with ${formatCount(rows)} rows of the pipeline module's demo data (it did not exist)`);
  await demo.seed({ query: pool.query.bind(pool) as Pool['query'] }, rows);
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
    const phase = run.phase === 'copy' ? '' : `  ${run.phase === 'build' ? 'building indexes' : 'swapping'} (steps ${p.stepsDone}/${p.stepsTotal})`;
    const line = progressLine({ chunksDone: p.chunksDone, chunksFailed: p.chunksFailed, chunksTotal: p.chunksTotal, rowsDone: p.rowsDone, rowsTotal: p.rowsPlanned, elapsedMs: Date.now() - started }) + phase;
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
        return { ...run, status: 'running', lastError: `${p.chunksTotal - p.chunksDone - p.chunksFailed} chunk(s) (or steps) pending with no message in the queue (lost or dead-lettered without a ledger record): run \`pg-fanout resume ${runId}\`` };
      }
    } else {
      idleSince = undefined;
    }
    await sleep(tty ? 250 : 100);
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
