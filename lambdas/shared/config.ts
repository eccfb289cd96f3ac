// The one typed configuration of pg-fanout. Only this module reads process.env. The CDK stack, the
// Lambda handlers and the local runtime all validate through the same functions, so a rule broken
// anywhere fails the same way, naming the rule.
import { ConfigError } from './errors.ts';
import { METRICS_NAMESPACE } from './metrics.ts';

/** Settings that keep the database safe: how fast SQS feeds chunks to workers. */
export interface BackpressureConfig {
  /** Rows per chunk the coordinator aims for. */
  chunkRows: number;
  /**
   * SQS records handed to one worker invocation, copied in one transaction (one by one if that
   * fails). Default: enough chunks for about ROWS_PER_INVOCATION rows, at most 10.
   */
  batchSize: number;
  /** Seconds the event source may wait to fill a batch. */
  maxBatchingWindowSeconds: number;
  /** Worker instances the function may ever run (Lambda reserved concurrency). */
  reservedConcurrency: number;
  /** Worker instances the event source runs at once; each holds `CONNECTIONS_PER_WORKER` connections. */
  maxConcurrency: number;
  /** Worker invocation timeout. */
  workerTimeoutSeconds: number;
  /** Work queue visibility timeout. */
  visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the DLQ. */
  maxReceiveCount: number;
}

/**
 * A worker COPYs out and COPYs in at once, and a pg client cannot do both: one connection to the
 * source and one to the target (two to one database when they are the same).
 */
export const CONNECTIONS_PER_WORKER = 2;
export const SOURCE_CONNECTIONS_PER_WORKER = 1;
export const TARGET_CONNECTIONS_PER_WORKER = 1;

export const DEFAULT_WORKER_TIMEOUT_SECONDS = 300;

export const DEFAULT_BACKPRESSURE: Readonly<BackpressureConfig> = Object.freeze({
  chunkRows: 100_000,
  batchSize: 1,
  maxBatchingWindowSeconds: 0,
  reservedConcurrency: 4,
  maxConcurrency: 2,
  workerTimeoutSeconds: DEFAULT_WORKER_TIMEOUT_SECONDS,
  visibilityTimeoutSeconds: 6 * DEFAULT_WORKER_TIMEOUT_SECONDS,
  maxReceiveCount: 5,
});

/** Rows a worker invocation should carry by default: a transaction's fixed costs are paid once per batch. */
export const ROWS_PER_INVOCATION = 100_000;

/** Enough chunks for about ROWS_PER_INVOCATION rows; at most 10, since more needs a batching window. */
export function defaultBatchSize(chunkRows: number): number {
  return Math.min(10, Math.max(1, Math.ceil(ROWS_PER_INVOCATION / chunkRows)));
}

/** Limits AWS itself enforces, checked here so a bad value fails before a deploy does. */
const LIMITS = {
  chunkRows: [1, 100_000_000],
  batchSize: [1, 10_000],
  maxBatchingWindowSeconds: [0, 300],
  reservedConcurrency: [2, 1000],
  maxConcurrency: [2, 1000],
  workerTimeoutSeconds: [1, 900],
  visibilityTimeoutSeconds: [0, 43_200],
  maxReceiveCount: [5, 1000],
} as const satisfies Record<keyof BackpressureConfig, readonly [number, number]>;

/**
 * Where the settings run. The local runtime may run a single worker instance (a benchmark of one
 * worker); AWS's event source needs a maximum concurrency of at least 2.
 */
export type Runtime = 'aws' | 'local';

/**
 * Merge `overrides` over the defaults and check every rule. When the worker timeout is changed
 * and the visibility timeout is not, the visibility timeout follows the 6x rule.
 */
export function resolveBackpressure(overrides: Partial<BackpressureConfig> = {}, runtime: Runtime = 'aws'): BackpressureConfig {
  const defined = Object.fromEntries(
    Object.entries(overrides).filter(([, v]) => v !== undefined),
  ) as Partial<BackpressureConfig>;
  const merged: BackpressureConfig = { ...DEFAULT_BACKPRESSURE, ...defined };
  if (defined.batchSize === undefined) merged.batchSize = defaultBatchSize(merged.chunkRows);
  if (defined.visibilityTimeoutSeconds === undefined) {
    merged.visibilityTimeoutSeconds = minimumVisibility(merged);
  }
  if (defined.reservedConcurrency === undefined && merged.maxConcurrency > merged.reservedConcurrency) {
    merged.reservedConcurrency = merged.maxConcurrency;
  }
  checkBackpressure(merged, runtime);
  return merged;
}

export function minimumVisibility(c: Pick<BackpressureConfig, 'workerTimeoutSeconds' | 'maxBatchingWindowSeconds'>): number {
  return 6 * c.workerTimeoutSeconds + c.maxBatchingWindowSeconds;
}

export function checkBackpressure(c: BackpressureConfig, runtime: Runtime = 'aws'): void {
  for (const [key, [awsMin, max]] of Object.entries(LIMITS) as [keyof BackpressureConfig, readonly [number, number]][]) {
    const value = c[key];
    const min = runtime === 'local' && (key === 'maxConcurrency' || key === 'reservedConcurrency') ? 1 : awsMin;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(`${key} is ${value}: it must be a whole number from ${min} to ${max}.`);
    }
  }
  if (c.maxConcurrency > c.reservedConcurrency) {
    throw new ConfigError(
      `maxConcurrency (${c.maxConcurrency}) exceeds reservedConcurrency (${c.reservedConcurrency}): the event source would be ` +
        'throttled, and throttled receives burn maxReceiveCount and send good chunks to the DLQ. ' +
        'Lower maxConcurrency or raise reservedConcurrency.',
    );
  }
  if (c.batchSize > 10 && c.maxBatchingWindowSeconds < 1) {
    throw new ConfigError(
      `batchSize (${c.batchSize}) is above 10 while maxBatchingWindowSeconds is ${c.maxBatchingWindowSeconds}: an SQS event source ` +
        'only takes batches above 10 with a batching window of at least 1 second. Set maxBatchingWindowSeconds to 1 or more, or batchSize to 10 or less.',
    );
  }
  const minVisibility = minimumVisibility(c);
  if (c.visibilityTimeoutSeconds < minVisibility) {
    throw new ConfigError(
      `visibilityTimeoutSeconds (${c.visibilityTimeoutSeconds}) is below 6 x workerTimeoutSeconds + maxBatchingWindowSeconds ` +
        `(${minVisibility}): a chunk still being processed would be handed to a second worker. Raise it to at least ${minVisibility}.`,
    );
  }
}

/**
 * `incremental`: every change committed since the last run (inserts, late commits, updates,
 * deletes), found by the rows' transaction ids. `full`: everything, rebuilt beside the targets and
 * swapped in (or rewritten in place). `append`: only keys above the last run's highest key, for
 * append-only tables (it misses late commits below that key, updates and deletes).
 */
export type RunMode = 'full' | 'incremental' | 'append';

export function parseRunMode(value: unknown, where: string): RunMode {
  if (value === 'full' || value === 'incremental' || value === 'append') return value;
  throw new ConfigError(`${where} is ${JSON.stringify(value)}: use "incremental", "full" or "append".`);
}

/** A CloudWatch namespace: 1 – 255 of letters, digits and `. - _ / # :`, not in the reserved `AWS/` space. */
export function parseMetricsNamespace(value: string, where: string): string {
  if (!/^[A-Za-z0-9.\-_/#:]{1,255}$/.test(value) || value.startsWith('AWS/')) {
    throw new ConfigError(`${where} is ${JSON.stringify(value)}: a CloudWatch namespace is 1 to 255 letters, digits and . - _ / # : and does not start with AWS/, e.g. PgFanout or Staging/PgFanout.`);
  }
  return value;
}

export type DatabaseTls = 'disable' | 'require' | 'verify-full';

export interface DatabaseConfig {
  /** A postgres:// URL; in AWS built from the secret instead. */
  url?: string;
  /** Secrets Manager secret with host, port, username, password, dbname (the RDS secret shape). */
  secretArn?: string;
  tls: DatabaseTls;
  /** PEM bundle to verify the server against (the RDS CA bundle in the Lambda package). */
  caFile?: string;
  /** Host to connect to instead of the secret's `host` (the RDS Proxy endpoint when there is one). */
  host?: string;
}

export interface TableConfig {
  sourceTable: string;
  targetTable: string;
  keyColumn: string;
}

/** How a shadow full refresh builds the indexes of its new tables. */
export interface IndexBuildConfig {
  /** `maintenance_work_mem` of each index build, in MB. */
  memoryMb: number;
  /** `max_parallel_maintenance_workers` of each index build. */
  parallelWorkers: number;
}

export const DEFAULT_INDEX_BUILD: Readonly<IndexBuildConfig> = Object.freeze({ memoryMb: 256, parallelWorkers: 2 });

/** What PostgreSQL accepts for the two settings (maintenance_work_mem up to 2 TB; at most 64 parallel workers here). */
export const INDEX_BUILD_LIMITS = Object.freeze({ memoryMb: [1, 2_000_000], parallelWorkers: [0, 64] } as const);

/** The environment variable names of the index build settings, from one place (the stack sets them). */
export function indexBuildToEnv(c: IndexBuildConfig): Record<string, string> {
  return { INDEX_BUILD_MEMORY_MB: String(c.memoryMb), INDEX_BUILD_PARALLEL_WORKERS: String(c.parallelWorkers) };
}

export interface PipelineConfig extends TableConfig {
  /** The pipeline module to run (`PIPELINE_MODULE`, `--pipeline`); unset: the built-in name split over the tables above. */
  pipelineModule?: string;
  /** The target database: the targets and the ledger (`TARGET_DATABASE_URL`, else `DATABASE_URL`). */
  database: DatabaseConfig;
  /** The source database, only read (`SOURCE_DATABASE_URL`, else the target's). */
  sourceDatabase: DatabaseConfig;
  /** Source and target are configured as the same database. */
  sameDatabase: boolean;
  indexBuild: IndexBuildConfig;
  backpressure: BackpressureConfig;
  /** Work queue URL (coordinator sends, local runtime polls). */
  queueUrl?: string;
  deadLetterQueueUrl?: string;
  /** SQS endpoint override (LocalStack, fauxqs); unset means AWS. */
  sqsEndpoint?: string;
  region: string;
  /** AWS_ACCESS_KEY_ID is set: use the default credential chain even against a local endpoint. */
  hasExplicitCredentials: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Write CloudWatch EMF lines per chunk (off in the local runtime, where stdout is the terminal). */
  emitMetrics: boolean;
  /** CloudWatch namespace of those lines (`METRICS_NAMESPACE`, default `PgFanout`). */
  metricsNamespace: string;
  /** A run whose enqueuing made no progress this long is taken over by the next trigger. */
  staleEnqueueSeconds: number;
  /** The deployed coordinator Lambda the CLI invokes (`run`, `resume`); unset means in-process. */
  coordinatorFunction?: string;
}

export const DEFAULT_TABLES: Readonly<TableConfig> = Object.freeze({
  sourceTable: 'public.input_table',
  targetTable: 'public.output_table',
  keyColumn: 'id',
});

type Env = Readonly<Record<string, string | undefined>>;

/** Read the whole configuration from an environment (process.env by default) once, failing fast. */
export function loadConfig(env: Env = process.env, overrides: Partial<BackpressureConfig> = {}, runtime: Runtime = 'aws'): PipelineConfig {
  // A flag that was not given arrives as undefined and must not hide the environment's value.
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<BackpressureConfig>;
  const tls = optional(env, 'DATABASE_TLS') ?? 'disable';
  if (tls !== 'disable' && tls !== 'require' && tls !== 'verify-full') {
    throw new ConfigError(`DATABASE_TLS is "${tls}": use disable, require or verify-full.`);
  }
  const logLevel = optional(env, 'LOG_LEVEL') ?? 'info';
  if (logLevel !== 'debug' && logLevel !== 'info' && logLevel !== 'warn' && logLevel !== 'error') {
    throw new ConfigError(`LOG_LEVEL is "${logLevel}": use debug, info, warn or error.`);
  }
  const backpressure = resolveBackpressure({
    chunkRows: integer(env, 'CHUNK_ROWS'),
    batchSize: integer(env, 'BATCH_SIZE'),
    maxBatchingWindowSeconds: integer(env, 'MAX_BATCHING_WINDOW_SECONDS'),
    reservedConcurrency: integer(env, 'RESERVED_CONCURRENCY'),
    maxConcurrency: integer(env, 'MAX_CONCURRENCY'),
    workerTimeoutSeconds: integer(env, 'WORKER_TIMEOUT_SECONDS'),
    visibilityTimeoutSeconds: integer(env, 'VISIBILITY_TIMEOUT_SECONDS'),
    maxReceiveCount: integer(env, 'MAX_RECEIVE_COUNT'),
    ...given,
  }, runtime);
  const database: DatabaseConfig = {
    url: optional(env, 'TARGET_DATABASE_URL') ?? optional(env, 'DATABASE_URL'),
    secretArn: optional(env, 'DATABASE_SECRET_ARN'),
    tls,
    caFile: optional(env, 'DATABASE_CA_FILE'),
    host: optional(env, 'DATABASE_HOST'),
  };
  const sourceUrl = optional(env, 'SOURCE_DATABASE_URL');
  const sourceSecret = optional(env, 'SOURCE_DATABASE_SECRET_ARN');
  const sourceTls = optional(env, 'SOURCE_DATABASE_TLS') ?? tls;
  if (sourceTls !== 'disable' && sourceTls !== 'require' && sourceTls !== 'verify-full') {
    throw new ConfigError(`SOURCE_DATABASE_TLS is "${sourceTls}": use disable, require or verify-full.`);
  }
  const separateSource = (sourceUrl !== undefined && sourceUrl !== database.url) || (sourceSecret !== undefined && sourceSecret !== database.secretArn);
  const sourceDatabase: DatabaseConfig = separateSource
    ? { url: sourceUrl, secretArn: sourceUrl === undefined ? sourceSecret : undefined, tls: sourceTls, caFile: optional(env, 'DATABASE_CA_FILE'), host: optional(env, 'SOURCE_DATABASE_HOST') }
    : database;
  return {
    pipelineModule: optional(env, 'PIPELINE_MODULE'),
    sourceTable: optional(env, 'SOURCE_TABLE') ?? DEFAULT_TABLES.sourceTable,
    targetTable: optional(env, 'TARGET_TABLE') ?? DEFAULT_TABLES.targetTable,
    keyColumn: optional(env, 'KEY_COLUMN') ?? DEFAULT_TABLES.keyColumn,
    database,
    sourceDatabase,
    sameDatabase: !separateSource,
    indexBuild: {
      memoryMb: bounded(integer(env, 'INDEX_BUILD_MEMORY_MB') ?? DEFAULT_INDEX_BUILD.memoryMb, 'INDEX_BUILD_MEMORY_MB', ...INDEX_BUILD_LIMITS.memoryMb),
      parallelWorkers: bounded(integer(env, 'INDEX_BUILD_PARALLEL_WORKERS') ?? DEFAULT_INDEX_BUILD.parallelWorkers, 'INDEX_BUILD_PARALLEL_WORKERS', ...INDEX_BUILD_LIMITS.parallelWorkers),
    },
    backpressure,
    queueUrl: optional(env, 'WORK_QUEUE_URL'),
    deadLetterQueueUrl: optional(env, 'DEAD_LETTER_QUEUE_URL'),
    sqsEndpoint: optional(env, 'AWS_ENDPOINT_URL_SQS') ?? optional(env, 'AWS_ENDPOINT_URL'),
    region: optional(env, 'AWS_REGION') ?? optional(env, 'AWS_DEFAULT_REGION') ?? 'us-east-1',
    hasExplicitCredentials: optional(env, 'AWS_ACCESS_KEY_ID') !== undefined,
    logLevel,
    emitMetrics: (optional(env, 'EMIT_METRICS') ?? 'true') !== 'false',
    metricsNamespace: parseMetricsNamespace(optional(env, 'METRICS_NAMESPACE') ?? METRICS_NAMESPACE, 'METRICS_NAMESPACE'),
    staleEnqueueSeconds: integer(env, 'STALE_ENQUEUE_SECONDS') ?? 120,
    coordinatorFunction: optional(env, 'COORDINATOR_FUNCTION'),
  };
}

/** The environment variable names the stack sets on the functions, from one place. */
export function backpressureToEnv(c: BackpressureConfig): Record<string, string> {
  return {
    CHUNK_ROWS: String(c.chunkRows),
    BATCH_SIZE: String(c.batchSize),
    MAX_BATCHING_WINDOW_SECONDS: String(c.maxBatchingWindowSeconds),
    RESERVED_CONCURRENCY: String(c.reservedConcurrency),
    MAX_CONCURRENCY: String(c.maxConcurrency),
    WORKER_TIMEOUT_SECONDS: String(c.workerTimeoutSeconds),
    VISIBILITY_TIMEOUT_SECONDS: String(c.visibilityTimeoutSeconds),
    MAX_RECEIVE_COUNT: String(c.maxReceiveCount),
  };
}

/** Required setting, for the modules that cannot run without it. */
export function required<T>(value: T | undefined, name: string, fix: string): T {
  if (value === undefined || value === '') throw new ConfigError(`${name} is not set: ${fix}`);
  return value;
}

/**
 * The environment the local runtime hands its child processes and in-process handlers (the
 * functions' environment, as the stack would set it), and reads its own log level from.
 */
export function environment(): NodeJS.ProcessEnv {
  return process.env;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function parseWholeNumber(raw: string, name: string): number {
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} is "${raw}": it must be a whole number such as 4.`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new ConfigError(`${name} is "${raw}": it is too large.`);
  return value;
}

function bounded(value: number, name: string, min: number, max: number): number {
  if (value < min || value > max) throw new ConfigError(`${name} is ${value}: it must be from ${min} to ${max}.`);
  return value;
}

function integer(env: Env, name: string): number | undefined {
  const raw = optional(env, name);
  return raw === undefined ? undefined : parseWholeNumber(raw, name);
}
