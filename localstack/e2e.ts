#!/usr/bin/env -S node --disable-warning=ExperimentalWarning
// The end-to-end check of a deployed pipeline (`npm run localstack:e2e`): seed new input rows,
// invoke the deployed coordinator through the Lambda API, wait for the run in the ledger, then prove
// the output exact — the deep verification of the run (each chunk read again, put through the
// pipeline, compared row for row) and a row-by-row comparison of every row in the run's key ranges
// against the transform's specification.
// `runEndToEnd` is the reusable part; the same function runs in `npm test` against the embedded
// stand-in (local/lambda-endpoint.ts), which speaks LocalStack's endpoint conventions.
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DEFAULT_TABLES, environment, loadConfig, parseRunMode, type DatabaseTls, type RunMode } from '../lambdas/shared/config.ts';
import { openPool, redactDatabaseUrl, withClient, type Pool, type PoolClient } from '../lambdas/shared/db.ts';
import { describe, PgFanoutError } from '../lambdas/shared/errors.ts';
import { checkRows, type RowCheck } from '../local/row-check.ts';
import { getRun, listChunks, runProgress, type RunRow, type RunStatus } from '../lambdas/shared/ledger.ts';
import { openPipeline } from '../lambdas/pipeline/open-pipeline.ts';
import { parseColumnName, parseQualifiedName, quoteIdent, quoteQualified } from '../lambdas/shared/sql-identifiers.ts';
import type { StartRunResult } from '../lambdas/coordinator/start-run.ts';
import { parseFlags, UsageError, wholeNumberFlag } from '../local/cli-args.ts';
import { formatCount, formatDuration, progressLine } from '../local/progress.ts';
import { describeVerdict, verifyRun as verifyChunks, type RunVerification } from '../local/verify-run.ts';
import { COMPOSE_DATABASE_URL, DEFAULT_LOCALSTACK_ENDPOINT, readStackOutputs } from './environment.ts';

/** The check failed: the message says what differs or what did not happen. */
export class EndToEndError extends PgFanoutError {
  override name = 'EndToEndError';
}

export interface EndToEndOptions {
  /** The pipeline database, as this machine reaches it (the ledger, the source and the target). */
  databaseUrl: string;
  /** @default 'disable' */
  databaseTls?: DatabaseTls;
  /** Name or ARN of the deployed coordinator function. */
  coordinatorFunction: string;
  /** New input rows to seed (keys above the current largest). */
  rows: number;
  /** How long the run may take, from the invocation to a settled run. */
  timeoutMs: number;
  /** @default 'incremental': the run reads what the last completed run did not (at least the new rows) */
  mode?: RunMode;
  /** Must be the deployed functions' SOURCE_TABLE / KEY_COLUMN. @default public.input_table, id */
  sourceTable?: string;
  keyColumn?: string;
  /** Lambda endpoint; unset means the SDK's own choice (AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL, or AWS). */
  endpoint?: string;
  /** @default 'us-east-1' */
  region?: string;
  /** Unset means the SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** @default 500 */
  pollMs?: number;
  /** Progress lines. @default silent */
  log?: (line: string) => void;
}


export interface EndToEndResult {
  ok: boolean;
  runId: string;
  status: RunStatus;
  /** The keys seeded, inclusive. */
  seeded: { first: bigint; last: bigint; rows: number };
  rowsRead: bigint;
  rowsWritten: bigint;
  rowsRejected: bigint;
  chunks: number;
  /** From the invocation to the settled run. */
  runMs: number;
  /** Every chunk of the run read again, put through the pipeline and compared row for row. */
  verification: RunVerification;
  rowCheck: RowCheck;
  /** Why `ok` is false; empty when it is true. */
  problems: string[];
}

export async function runEndToEnd(options: EndToEndOptions): Promise<EndToEndResult> {
  const log = options.log ?? (() => {});
  if (!Number.isSafeInteger(options.rows) || options.rows < 1) throw new EndToEndError(`rows is ${options.rows}: seed at least 1 row.`);
  const database = { ...loadConfig({ DATABASE_URL: options.databaseUrl }).database, tls: options.databaseTls ?? 'disable' };
  const lambda = new LambdaClient({
    region: options.region ?? 'us-east-1',
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
  });
  let pool: Pool | undefined;
  try {
    // A dry run first: a wrong name or endpoint fails here, before any row is seeded.
    await invokeCoordinator(lambda, options.coordinatorFunction, {}, 'DryRun');
    pool = await openPool(database, { max: 2, applicationName: 'pg-fanout-e2e' });
    const db = pool;
    const seeded = await withClient(db, (c) => seedRows(c, options.sourceTable ?? DEFAULT_TABLES.sourceTable, options.keyColumn ?? DEFAULT_TABLES.keyColumn, options.rows));
    log(`seeded ${formatCount(options.rows)} rows, keys ${seeded.first}..${seeded.last}`);

    const started = Date.now();
    const start = await invokeCoordinator(lambda, options.coordinatorFunction, { mode: options.mode ?? 'incremental' });
    if (!start.started) {
      throw new EndToEndError(
        `run ${start.runId} is already ${start.status} on this pipeline, so the coordinator started nothing: wait for it (\`pg-fanout status --watch\`) or resume it (\`pg-fanout resume ${start.runId}\`), then run the check again.`,
      );
    }
    log(`run ${start.runId} started (${start.mode}): ${formatCount(start.chunks)} chunk(s) enqueued`);
    const run = await waitForRun(db, start.runId, started, options, log);
    const verdict = await verifyRun(db, run, seeded, options.databaseUrl);
    return { ...verdict, runMs: Date.now() - started, seeded: { ...seeded, rows: options.rows } };
  } finally {
    await pool?.end();
    lambda.destroy();
  }
}

/** Invoke the coordinator through the Lambda API, as the CLI's `run` does. */
async function invokeCoordinator(lambda: LambdaClient, functionName: string, payload: Record<string, unknown>, type: 'RequestResponse' | 'DryRun' = 'RequestResponse'): Promise<StartRunResult> {
  let r;
  try {
    r = await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: type, Payload: Buffer.from(JSON.stringify(payload)) }));
  } catch (error) {
    throw new EndToEndError(`coordinator ${functionName} could not be invoked (${(error as Error).name}): ${describe(error)}`);
  }
  const text = Buffer.from(r.Payload ?? new Uint8Array()).toString('utf8');
  if (r.FunctionError) throw new EndToEndError(`coordinator ${functionName} failed (${r.FunctionError}): ${text}`);
  return type === 'DryRun' ? ({} as StartRunResult) : (JSON.parse(text) as StartRunResult);
}

async function waitForRun(pool: Pool, runId: string, started: number, options: EndToEndOptions, log: (line: string) => void): Promise<RunRow> {
  const pollMs = options.pollMs ?? 500;
  let lastLog = 0;
  for (;;) {
    const run = await withClient(pool, (c) => getRun(c, runId));
    if (run.status !== 'running') return run;
    const p = await withClient(pool, (c) => runProgress(c, runId));
    const elapsed = Date.now() - started;
    if (elapsed > options.timeoutMs) {
      throw new EndToEndError(
        `run ${runId} did not settle within ${formatDuration(options.timeoutMs)} (chunks ${p.chunksDone}/${p.chunksTotal} done, ${p.chunksFailed} failed): ` +
          'are the workers running? On LocalStack, `docker compose -f localstack/docker-compose.yml logs localstack` shows the worker invocations and their errors.',
      );
    }
    if (Date.now() - lastLog >= 5000) {
      log(progressLine({ chunksDone: p.chunksDone, chunksFailed: p.chunksFailed, chunksTotal: p.chunksTotal, rowsDone: p.rowsDone, rowsTotal: p.rowsPlanned, elapsedMs: elapsed }));
      lastLog = Date.now();
    }
    await sleep(pollMs);
  }
}

/**
 * Everything the check proves about a settled run: it completed, it read the seeded keys, each of
 * its chunks and the whole table reconcile, and every row it read landed exactly as specified.
 */
export async function verifyRun(pool: Pool, run: RunRow, seeded: { first: bigint; last: bigint } | undefined, databaseUrl: string): Promise<Omit<EndToEndResult, 'runMs' | 'seeded'>> {
  const problems: string[] = [];
  if (run.status !== 'completed') problems.push(`run ${run.runId} ended ${run.status}: ${run.lastError ?? 'no error recorded'} (see \`pg-fanout status ${run.runId}\`)`);
  const opened = await openPipeline(
    loadConfig({ DATABASE_URL: databaseUrl, SOURCE_TABLE: run.sourceTable, TARGET_TABLE: run.targetTable, KEY_COLUMN: run.keyColumn }),
    { applicationName: 'pg-fanout-e2e', sourceConnections: 1, targetConnections: 1 },
  );
  try {
    const tables = opened.pipeline;
    const chunks = await withClient(pool, (c) => listChunks(c, run.runId));
    const lo = chunks.length === 0 ? undefined : BigInt(chunks[0]!.lo?.[0] ?? MIN_BIGINT);
    const hiKey = chunks.length === 0 ? null : chunks[chunks.length - 1]!.hi;
    const hi = hiKey === null ? null : BigInt(hiKey[0]!);
    if (seeded !== undefined && (lo === undefined || seeded.first < lo || (hi !== null && seeded.last >= hi))) {
      problems.push(`run ${run.runId} read keys ${lo === undefined ? '(none)' : `[${lo}, ${hi ?? '+inf'})`}, which do not cover the seeded keys ${seeded.first}..${seeded.last}`);
    }
    const verification = await verifyChunks(opened, run);
    for (const c of verification.chunks.filter((x) => !x.ok).slice(0, 10)) problems.push(`verification of the run: ${describeVerdict(c)}`);
    const rowCheck: RowCheck = lo === undefined ? { checked: 0, written: 0, rejected: 0, problems: [], differences: 0 } : await withClient(pool, (c) => checkRows(c, tables, lo, hi));
    if (rowCheck.differences > 0) problems.push(`${rowCheck.differences} row(s) differ from the specification: ${rowCheck.problems.slice(0, 3).join('; ')}`);
    return {
      ok: problems.length === 0,
      runId: run.runId,
      status: run.status,
      rowsRead: run.rowsRead ?? 0n,
      rowsWritten: run.rowsWritten ?? 0n,
      rowsRejected: run.rowsRejected ?? 0n,
      chunks: chunks.length,
      verification,
      rowCheck,
      problems,
    };
  } finally {
    await Promise.all([opened.source.end(), opened.target.end()]);
  }
}

const MIN_BIGINT = (-(2n ** 63n)).toString();
const MAX_KEY = 2n ** 63n - 1n;

/**
 * Appends `rows` rows above the current largest key (creating the table when it is missing): a mix
 * the spec splits (one word, several, extra, tab and no-break spaces, quotes, backslashes, non-ASCII)
 * and rejects (NULL, empty, whitespace only), some ages NULL.
 */
export async function seedRows(client: PoolClient, sourceTable: string, keyColumn: string, rows: number): Promise<{ first: bigint; last: bigint }> {
  const name = parseQualifiedName(sourceTable, 'sourceTable');
  const table = quoteQualified({ schema: name.schema ?? 'public', name: name.name });
  const key = quoteIdent(parseColumnName(keyColumn, 'keyColumn'));
  await client.query(`CREATE TABLE IF NOT EXISTS ${table} (${key} bigint PRIMARY KEY, name text, age int)`);
  const { rows: [max] } = await client.query<{ max: string | null }>(`SELECT max(${key})::text AS max FROM ${table}`);
  const base = BigInt(max?.max ?? '0');
  if (base > MAX_KEY - BigInt(rows)) throw new EndToEndError(`${sourceTable} already holds key ${base}: no room above it for ${rows} more rows.`);
  await client.query(
    `INSERT INTO ${table} (${key}, name, age)
     SELECT $1::bigint + g,
            CASE g % 13
              WHEN 0 THEN NULL
              WHEN 1 THEN ''
              WHEN 2 THEN E' \\t  '
              WHEN 3 THEN 'Solo' || g
              WHEN 4 THEN '  Ada   Lovelace ' || g || '  '
              WHEN 5 THEN E'Zoë\\u00a0van der Berg ' || g
              WHEN 6 THEN E'Back\\\\slash Name' || g
              WHEN 7 THEN 'José O''Neill-' || g
              WHEN 8 THEN E'Tab\\tSeparated ' || g
              WHEN 9 THEN 'Siobhán Nguyễn ' || g
              ELSE 'First' || g || ' Last ' || g
            END,
            CASE WHEN g % 7 = 0 THEN NULL ELSE (g % 90)::int END
       FROM generate_series(1, $2::bigint) g`,
    [base.toString(), rows],
  );
  return { first: base + 1n, last: base + BigInt(rows) };
}

// ---- the command line: npm run localstack:e2e [-- --rows N --timeout S --function NAME --mode M] ----

const HELP = `localstack/e2e.ts — end-to-end check of a deployed pg-fanout (LocalStack by default)

Seeds --rows new rows into the source table, invokes the deployed coordinator through the Lambda
API, waits for the run in the ledger, then checks it: the run completed and its key ranges cover
the new rows, each of its chunks verifies (read again, put through the pipeline, compared row for
row), and every row in its ranges is in the output or in etl.rejects exactly as the name-split
specification says. Exit 0 only when all of that holds.

Options:
  --rows N          rows to seed (default 10000)
  --timeout S       seconds the run may take (default 300)
  --function NAME   the coordinator (default COORDINATOR_FUNCTION, else localstack/.state/outputs.json)
  --mode M          incremental (default), full or append
  --source-table T  the deployed SOURCE_TABLE (default public.input_table)

Environment: DATABASE_URL (default the compose database, ${COMPOSE_DATABASE_URL}),
AWS_ENDPOINT_URL_LAMBDA or AWS_ENDPOINT_URL (default ${DEFAULT_LOCALSTACK_ENDPOINT}), AWS_REGION,
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (default test / test), DATABASE_TLS.`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    rows: { type: 'string' },
    timeout: { type: 'string' },
    function: { type: 'string' },
    mode: { type: 'string' },
    'source-table': { type: 'string' },
  }, 'e2e');
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const rows = wholeNumberFlag(values.rows, '--rows') ?? 10_000;
  if (rows < 1) throw new UsageError('--rows is 0: seed at least 1 row.');
  const timeoutSeconds = wholeNumberFlag(values.timeout, '--timeout') ?? 300;
  let mode: RunMode;
  try {
    mode = values.mode === undefined ? 'incremental' : parseRunMode(values.mode, '--mode');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const env = environment();
  const config = loadConfig({ ...env, DATABASE_URL: env.DATABASE_URL || COMPOSE_DATABASE_URL });
  const endpoint = env.AWS_ENDPOINT_URL_LAMBDA || env.AWS_ENDPOINT_URL || DEFAULT_LOCALSTACK_ENDPOINT;
  const coordinatorFunction = values.function ?? (env.COORDINATOR_FUNCTION || (await readStackOutputs()).CoordinatorFunctionName);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`lambda:   ${endpoint} (coordinator ${coordinatorFunction})`);
  say(`database: ${redactDatabaseUrl(config.database.url!)}`);
  await checkReachable(endpoint);

  const result = await runEndToEnd({
    databaseUrl: config.database.url!,
    databaseTls: config.database.tls,
    coordinatorFunction,
    rows,
    timeoutMs: timeoutSeconds * 1000,
    mode,
    sourceTable: values['source-table'] ?? config.sourceTable,
    keyColumn: config.keyColumn,
    endpoint,
    region: config.region,
    // Local endpoints accept any credentials; real ones come from the default chain.
    credentials: env.AWS_ACCESS_KEY_ID ? undefined : { accessKeyId: 'test', secretAccessKey: 'test' },
    log: say,
  });
  say('');
  say(`run ${result.runId}: ${result.status} in ${formatDuration(result.runMs)}, ${result.chunks} chunk(s)`);
  say(`  rows read ${formatCount(result.rowsRead)}, written ${formatCount(result.rowsWritten)}, rejected ${formatCount(result.rowsRejected)}`);
  say(`  verification of the run: ${result.verification.ok ? 'exact' : 'DIFFERENCES'} over ${result.verification.chunks.length} chunk(s) (${formatCount(result.verification.rowsRead)} source rows read again and compared row for row)`);
  say(`  row by row: ${formatCount(result.rowCheck.checked)} rows checked, ${formatCount(result.rowCheck.written)} written and ${formatCount(result.rowCheck.rejected)} rejected as specified, ${result.rowCheck.differences} difference(s)`);
  if (!result.ok) {
    for (const p of result.problems) process.stderr.write(`e2e: ${p}\n`);
    return 1;
  }
  say(`verified: every one of the ${formatCount(result.rowCheck.checked)} rows in the run's key ranges (including the ${formatCount(result.seeded.rows)} seeded) is in the output or etl.rejects exactly once, as specified`);
  return 0;
}

/** LocalStack answers /_localstack/health (so does the embedded stand-in); AWS does not, which is fine. */
async function checkReachable(endpoint: string): Promise<void> {
  try {
    await fetch(new URL('/_localstack/health', endpoint), { signal: AbortSignal.timeout(5000) });
  } catch (error) {
    throw new EndToEndError(
      `nothing answers at ${endpoint} (${fetchFailure(error)}): start LocalStack with \`docker compose -f localstack/docker-compose.yml up -d --wait\` and deploy with \`npm run localstack:deploy\`, or set AWS_ENDPOINT_URL.`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let code: number;
  try {
    code = await main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`e2e: ${error instanceof PgFanoutError ? '' : 'unexpected error: '}${describe(error)}\n`);
    code = error instanceof UsageError ? 2 : 1;
  }
  process.exit(code);
}

/** fetch reports "fetch failed" and keeps the reason (ECONNREFUSED, ENOTFOUND, a timeout) in `cause`. */
function fetchFailure(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
}
