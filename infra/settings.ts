// Reads the CDK context (defaults in cdk.json, overrides with `-c key=value`) into one typed,
// validated settings object for the stack. Backpressure and table settings go through the shared
// rules of lambdas/shared/config.ts; this module only maps context values onto them and checks the
// deploy-only settings (memory, schedule, alarms, where the databases are, which pipeline module
// is bundled). Every failure is a ConfigError that names the context key, the value and the fix.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  DEFAULT_INDEX_BUILD,
  DEFAULT_TABLES,
  INDEX_BUILD_LIMITS,
  parseMetricsNamespace,
  parseRunMode,
  parseWholeNumber,
  resolveBackpressure,
  type BackpressureConfig,
  type DatabaseTls,
  type IndexBuildConfig,
  type PipelineConfig,
  type RunMode,
  type TableConfig,
} from '../lambdas/shared/config.ts';
import { ConfigError, SchemaError } from '../lambdas/shared/errors.ts';
import { METRICS_NAMESPACE } from '../lambdas/shared/metrics.ts';
import { parseColumnName, parseQualifiedName } from '../lambdas/shared/sql-identifiers.ts';

/** Anything with CDK's `tryGetContext` (an App's or a Stack's `node`). */
export interface ContextSource {
  tryGetContext(key: string): unknown;
}

/** The RDS Proxy target of an existing database. */
export type ProxyTarget = { kind: 'cluster'; clusterId: string } | { kind: 'instance'; instanceId: string };

/** Your own PostgreSQL, reached from your VPC. */
export interface ExistingDatabaseSettings {
  kind: 'existing';
  /** True when no database context was given: the IDs are placeholders and the stack refuses to deploy. */
  placeholder: boolean;
  secretArn: string;
  /** KMS key of the secret, when it is not the default aws/secretsmanager key. */
  secretKeyArn?: string;
  vpcId: string;
  subnetIds: string[];
  securityGroupId: string;
  /** Set only with rdsProxy. */
  proxyTarget?: ProxyTarget;
}

/**
 * A source database apart from the target (which holds the targets and the ledger): the functions
 * read its secret and connect to it from the same VPC and subnets.
 */
export interface SourceDatabaseSettings {
  /** Secrets Manager secret in the RDS shape (host, port, username, password, dbname). */
  secretArn: string;
  /** KMS key of the secret, when it is not the default aws/secretsmanager key. */
  secretKeyArn?: string;
  /** Host to connect to instead of the secret's `host`: an RDS Proxy or a read replica endpoint. */
  host?: string;
  /** A further security group for the functions, one the source database admits on 5432. */
  securityGroupId?: string;
}

/** An Aurora Serverless v2 PostgreSQL and a VPC made by the stack, for a try-out. */
export interface DemoDatabaseSettings {
  kind: 'demo';
}

export interface ScheduleSettings {
  enabled: boolean;
  /** An EventBridge Scheduler expression: rate(…), cron(…) or at(…). */
  expression: string;
  /** IANA time zone the cron expression is read in. */
  timeZone: string;
  mode: RunMode;
}

export interface PipelineSettings {
  stackName: string;
  /**
   * Absolute path of the pipeline module bundled into both functions (`-c pipeline=FILE`, relative
   * to the directory cdk runs in); unset: the built-in name split over `tables`.
   */
  pipelineModule?: string;
  /** The target database: targets and ledger. */
  database: ExistingDatabaseSettings | DemoDatabaseSettings;
  /** A separate source database; unset: the pipeline reads from the target database. */
  sourceDatabase?: SourceDatabaseSettings;
  rdsProxy: boolean;
  /** How the functions secure their database connection (verify-full in production). */
  databaseTls: DatabaseTls;
  /** The built-in pipeline's tables (unused with a pipeline module). */
  tables: TableConfig;
  backpressure: BackpressureConfig;
  /** PostgreSQL settings of the index builds of a shadow full refresh. */
  indexBuild: IndexBuildConfig;
  /** CloudWatch namespace of the chunk metrics (the worker writes, the dashboard and alarms read). */
  metricsNamespace: string;
  workerMemoryMb: number;
  coordinatorMemoryMb: number;
  coordinatorTimeoutSeconds: number;
  logLevel: PipelineConfig['logLevel'];
  logRetentionDays: RetentionDays;
  schedule: ScheduleSettings;
  alarmEmail?: string;
  alarmOldestMessageAgeSeconds: number;
}

/** Context value meaning "let the shared config derive it" (reservedConcurrency, visibilityTimeoutSeconds). */
export const AUTO = 'auto';

/** The keys of the existing-database context, all four needed together. */
export const EXISTING_DATABASE_KEYS = ['databaseSecretArn', 'vpcId', 'subnetIds', 'securityGroupId'] as const;

/** The keys of a separate source database; all but the secret are optional. */
export const SOURCE_DATABASE_KEYS = ['sourceDatabaseSecretArn', 'sourceDatabaseSecretKeyArn', 'sourceDatabaseHost', 'sourceSecurityGroupId'] as const;

/**
 * Stand-ins used when no database context is given, so `cdk synth` works out of the box. They are
 * well-formed (CloudFormation's validation checks ID formats) but all zeros, and a stack holding
 * them carries a CloudFormation rule that refuses to deploy.
 */
export const PLACEHOLDERS = Object.freeze({
  secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:pg-fanout-placeholder-set-databaseSecretArn',
  vpcId: 'vpc-00000000000000000',
  subnetIds: ['subnet-00000000000000000', 'subnet-00000000000000001'],
  securityGroupId: 'sg-00000000000000000',
  clusterId: 'pg-fanout-placeholder',
});

const BACKPRESSURE_KEYS = [
  'chunkRows',
  'batchSize',
  'maxBatchingWindowSeconds',
  'reservedConcurrency',
  'maxConcurrency',
  'workerTimeoutSeconds',
  'visibilityTimeoutSeconds',
  'maxReceiveCount',
] as const satisfies readonly (keyof BackpressureConfig)[];

/** Backpressure settings resolveBackpressure derives when unset: `auto` in cdk.json. */
const DERIVED_KEYS = new Set<keyof BackpressureConfig>(['batchSize', 'reservedConcurrency', 'visibilityTimeoutSeconds']);

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

const RETENTION_DAYS = new Set<number>(Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'));

/** Read and check every setting; throws ConfigError naming the first broken rule. */
export function readSettings(context: ContextSource): PipelineSettings {
  const read = new ContextReader(context);

  const overrides: Partial<BackpressureConfig> = {};
  for (const key of BACKPRESSURE_KEYS) overrides[key] = read.integer(key, { auto: DERIVED_KEYS.has(key) });
  const backpressure = resolveBackpressure(overrides);

  const rdsProxy = read.boolean('rdsProxy', false);
  const database = readDatabase(read, rdsProxy);
  const sourceDatabase = readSourceDatabase(read, database);
  const databaseTls = read.string('databaseTls') ?? 'verify-full';
  if (databaseTls !== 'verify-full' && databaseTls !== 'require' && databaseTls !== 'disable') {
    throw new ConfigError(`databaseTls is "${databaseTls}": use verify-full (production), require, or disable (LocalStack only).`);
  }

  const logLevel = read.string('logLevel') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`logLevel is "${logLevel}": use ${LOG_LEVELS.join(', ')}.`);
  }

  const logRetentionDays = read.integer('logRetentionDays') ?? RetentionDays.ONE_MONTH;
  if (!RETENTION_DAYS.has(logRetentionDays)) {
    throw new ConfigError(
      `logRetentionDays is ${logRetentionDays}: CloudWatch Logs only keeps logs for ${[...RETENTION_DAYS].sort((a, b) => a - b).join(', ')} days.`,
    );
  }

  const alarmEmail = read.string('alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    throw new ConfigError(`alarmEmail is "${alarmEmail}": give one e-mail address such as ops@example.com, or leave it empty.`);
  }

  const stackName = read.string('stackName') ?? 'PgFanout';
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
    throw new ConfigError(`stackName is "${stackName}": use letters, digits and hyphens, starting with a letter (at most 128).`);
  }

  return {
    stackName,
    pipelineModule: readPipelineModule(read),
    database,
    sourceDatabase,
    rdsProxy,
    databaseTls,
    tables: readTables(read),
    backpressure,
    indexBuild: {
      memoryMb: read.integer('indexBuildMemoryMb', { range: INDEX_BUILD_LIMITS.memoryMb }) ?? DEFAULT_INDEX_BUILD.memoryMb,
      parallelWorkers: read.integer('indexBuildParallelWorkers', { range: INDEX_BUILD_LIMITS.parallelWorkers }) ?? DEFAULT_INDEX_BUILD.parallelWorkers,
    },
    metricsNamespace: parseMetricsNamespace(read.string('metricsNamespace') ?? METRICS_NAMESPACE, 'metricsNamespace'),
    workerMemoryMb: read.integer('workerMemoryMb', { range: [128, 10_240] }) ?? 1024,
    coordinatorMemoryMb: read.integer('coordinatorMemoryMb', { range: [128, 10_240] }) ?? 512,
    coordinatorTimeoutSeconds: read.integer('coordinatorTimeoutSeconds', { range: [1, 900] }) ?? 300,
    logLevel: logLevel as PipelineSettings['logLevel'],
    logRetentionDays,
    schedule: readSchedule(read),
    alarmEmail,
    alarmOldestMessageAgeSeconds: read.integer('alarmOldestMessageAgeSeconds', { range: [60, 1_209_600] }) ?? 3600,
  };
}

/** `-c pipeline=FILE`: checked to exist here; whether it exports a pipeline is checked when the app imports it. */
function readPipelineModule(read: ContextReader): string | undefined {
  const given = read.string('pipeline');
  if (given === undefined) return undefined;
  const file = resolve(process.cwd(), given);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new ConfigError(
      `pipeline is "${given}" but there is no such file (looked for ${file}): give the path of a module that exports ` +
        'definePipeline({ … }), relative to the directory you run cdk in, e.g. -c pipeline=pipelines/orders.ts; leave it empty for the built-in name split.',
    );
  }
  return file;
}

/** The built-in pipeline's tables, parsed as the functions will parse them. */
function readTables(read: ContextReader): TableConfig {
  const tables: TableConfig = {
    sourceTable: read.string('sourceTable') ?? DEFAULT_TABLES.sourceTable,
    targetTable: read.string('targetTable') ?? DEFAULT_TABLES.targetTable,
    keyColumn: read.string('keyColumn') ?? DEFAULT_TABLES.keyColumn,
  };
  try {
    parseQualifiedName(tables.sourceTable, 'sourceTable');
    parseQualifiedName(tables.targetTable, 'targetTable');
    parseColumnName(tables.keyColumn, 'keyColumn');
  } catch (error) {
    if (error instanceof SchemaError) throw new ConfigError(error.message);
    throw error;
  }
  return tables;
}

function readSourceDatabase(read: ContextReader, target: ExistingDatabaseSettings | DemoDatabaseSettings): SourceDatabaseSettings | undefined {
  const given = SOURCE_DATABASE_KEYS.filter((key) => read.string(key) !== undefined);
  if (given.length === 0) return undefined;
  if (target.kind === 'demo') {
    throw new ConfigError(
      `demoDatabase is true and ${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} set: the demo VPC has isolated subnets only and cannot reach ` +
        `another database. Drop ${given.join(', ')}, or deploy against your own databases (-c databaseSecretArn=… -c vpcId=… -c subnetIds=… -c securityGroupId=…).`,
    );
  }
  const secretArn = read.string('sourceDatabaseSecretArn');
  if (secretArn === undefined) {
    const stray = given.join(' and ');
    throw new ConfigError(
      `${stray} ${given.length === 1 ? 'is' : 'are'} set but sourceDatabaseSecretArn is not: they describe a separate source database. ` +
        `Add -c sourceDatabaseSecretArn=… (the source's RDS secret), or drop ${stray} to read from the target database.`,
    );
  }
  checkSecretArn(secretArn, 'sourceDatabaseSecretArn');
  if (target.kind === 'existing' && !target.placeholder && secretArn === target.secretArn) {
    throw new ConfigError(
      'sourceDatabaseSecretArn is the same as databaseSecretArn: the functions would treat them as one database. ' +
        'Leave sourceDatabaseSecretArn empty when the source is the target database, or give the source its own secret.',
    );
  }
  const secretKeyArn = read.string('sourceDatabaseSecretKeyArn');
  if (secretKeyArn !== undefined) checkKeyArn(secretKeyArn, 'sourceDatabaseSecretKeyArn');
  const host = read.string('sourceDatabaseHost');
  if (host !== undefined && !/^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host)) {
    throw new ConfigError(
      `sourceDatabaseHost is "${host}": give a host name only (no scheme, port or path), ` +
        'e.g. my-proxy.proxy-abc123.eu-west-1.rds.amazonaws.com; the port and database come from the secret.',
    );
  }
  const securityGroupId = read.string('sourceSecurityGroupId');
  if (securityGroupId !== undefined) {
    if (!/^sg-[0-9a-f]{8,17}$/.test(securityGroupId)) {
      throw new ConfigError(`sourceSecurityGroupId is "${securityGroupId}": give a security group ID such as sg-0123456789abcdef0.`);
    }
    if (target.kind === 'existing' && securityGroupId === target.securityGroupId) {
      throw new ConfigError('sourceSecurityGroupId is the same as securityGroupId: the functions already have it. Drop sourceSecurityGroupId.');
    }
  }
  return { secretArn, secretKeyArn, host, securityGroupId };
}

function checkSecretArn(value: string, key: string): void {
  if (!/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@!-]+$/.test(value)) {
    throw new ConfigError(
      `${key} is "${value}": give the ARN of a Secrets Manager secret, ` +
        'e.g. arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-0abc-AbCdEf (the RDS secret with host, port, username, password, dbname).',
    );
  }
}

function checkKeyArn(value: string, key: string): void {
  if (!/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(value)) {
    throw new ConfigError(`${key} is "${value}": give a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), or leave it empty for aws/secretsmanager.`);
  }
}

function readDatabase(read: ContextReader, rdsProxy: boolean): ExistingDatabaseSettings | DemoDatabaseSettings {
  const demo = read.boolean('demoDatabase', false);
  const given = EXISTING_DATABASE_KEYS.filter((key) => read.string(key) !== undefined);
  const proxyKeys = (['databaseClusterId', 'databaseInstanceId'] as const).filter((key) => read.string(key) !== undefined);
  const secretKeyArn = read.string('databaseSecretKeyArn');

  if (demo) {
    const stray = [...given, ...proxyKeys, ...(secretKeyArn === undefined ? [] : ['databaseSecretKeyArn'])];
    if (stray.length > 0) {
      throw new ConfigError(
        `demoDatabase is true and ${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} set: the demo database brings its own VPC, ` +
          `secret and security groups. Drop -c demoDatabase=true to use your database, or drop ${stray.join(', ')}.`,
      );
    }
    return { kind: 'demo' };
  }

  if (given.length === 0) {
    return {
      kind: 'existing',
      placeholder: true,
      secretArn: PLACEHOLDERS.secretArn,
      vpcId: PLACEHOLDERS.vpcId,
      subnetIds: [...PLACEHOLDERS.subnetIds],
      securityGroupId: PLACEHOLDERS.securityGroupId,
      proxyTarget: rdsProxy ? { kind: 'cluster', clusterId: PLACEHOLDERS.clusterId } : undefined,
    };
  }
  if (given.length < EXISTING_DATABASE_KEYS.length) {
    const missing = EXISTING_DATABASE_KEYS.filter((key) => !given.includes(key));
    throw new ConfigError(
      `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set: an existing database needs ${EXISTING_DATABASE_KEYS.join(', ')} ` +
        `together (you gave ${given.join(', ')}). Add ${missing.map((key) => `-c ${key}=…`).join(' ')}, or use -c demoDatabase=true for a try-out database.`,
    );
  }

  const secretArn = read.required('databaseSecretArn');
  checkSecretArn(secretArn, 'databaseSecretArn');
  if (secretKeyArn !== undefined) checkKeyArn(secretKeyArn, 'databaseSecretKeyArn');
  const vpcId = read.required('vpcId');
  if (!/^vpc-[0-9a-f]{8,17}$/.test(vpcId)) throw new ConfigError(`vpcId is "${vpcId}": give a VPC ID such as vpc-0123456789abcdef0.`);
  const subnetIds = read.list('subnetIds');
  for (const id of subnetIds) {
    if (!/^subnet-[0-9a-f]{8,17}$/.test(id)) {
      throw new ConfigError(`subnetIds has "${id}": give subnet IDs separated by commas, e.g. -c subnetIds=subnet-0aaa…,subnet-0bbb….`);
    }
  }
  if (new Set(subnetIds).size !== subnetIds.length) throw new ConfigError(`subnetIds lists a subnet twice: ${subnetIds.join(',')}.`);
  const securityGroupId = read.required('securityGroupId');
  if (!/^sg-[0-9a-f]{8,17}$/.test(securityGroupId)) {
    throw new ConfigError(`securityGroupId is "${securityGroupId}": give a security group ID such as sg-0123456789abcdef0.`);
  }

  let proxyTarget: ProxyTarget | undefined;
  if (rdsProxy && subnetIds.length < 2) {
    throw new ConfigError(`subnetIds has ${subnetIds.length} subnet: an RDS Proxy needs subnets in at least two availability zones. Add another to -c subnetIds.`);
  }
  if (rdsProxy) {
    if (proxyKeys.length !== 1) {
      throw new ConfigError(
        proxyKeys.length === 0
          ? 'rdsProxy is true but neither databaseClusterId nor databaseInstanceId is set: the proxy needs its target. ' +
              'Add -c databaseClusterId=… (Aurora PostgreSQL) or -c databaseInstanceId=… (RDS for PostgreSQL).'
          : 'rdsProxy is true and both databaseClusterId and databaseInstanceId are set: give only the one the proxy fronts.',
      );
    }
    const key = proxyKeys[0] as 'databaseClusterId' | 'databaseInstanceId';
    const id = read.required(key);
    if (!/^[A-Za-z][A-Za-z0-9-]{0,62}$/.test(id)) throw new ConfigError(`${key} is "${id}": give the DB identifier (letters, digits, hyphens).`);
    proxyTarget = key === 'databaseClusterId' ? { kind: 'cluster', clusterId: id } : { kind: 'instance', instanceId: id };
  } else if (proxyKeys.length > 0) {
    throw new ConfigError(`${proxyKeys.join(' and ')} only matter with -c rdsProxy=true: add it, or drop ${proxyKeys.join(' and ')}.`);
  }

  return { kind: 'existing', placeholder: false, secretArn, secretKeyArn, vpcId, subnetIds, securityGroupId, proxyTarget };
}

function readSchedule(read: ContextReader): ScheduleSettings {
  const expression = read.string('scheduleExpression') ?? 'rate(1 day)';
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const [, count, unit] = rate as unknown as [string, string, string];
    if (Number(count) < 1 || (Number(count) === 1) !== !unit.endsWith('s')) {
      throw new ConfigError(
        `scheduleExpression is "${expression}": EventBridge wants a singular unit for 1 and a plural one above (rate(1 day), rate(6 hours)).`,
      );
    }
  } else if (!/^(cron|at)\(.+\)$/.test(expression)) {
    throw new ConfigError(
      `scheduleExpression is "${expression}": use an EventBridge Scheduler expression such as rate(1 day), cron(0 2 * * ? *) or at(2030-01-01T02:00:00).`,
    );
  }
  const timeZone = read.string('scheduleTimeZone') ?? 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw new ConfigError(`scheduleTimeZone is "${timeZone}": use an IANA time zone such as UTC or Europe/Berlin.`);
  }
  return {
    enabled: read.boolean('scheduleEnabled', true),
    expression,
    timeZone,
    mode: parseRunMode(read.string('scheduleMode') ?? 'incremental', 'scheduleMode'),
  };
}

/** Typed access to context values, which are JSON values from cdk.json and strings from `-c`. */
class ContextReader {
  readonly #context: ContextSource;
  constructor(context: ContextSource) {
    this.#context = context;
  }

  /** A trimmed string, or undefined when the key is absent, null or empty. */
  string(key: string): string | undefined {
    const value = this.#context.tryGetContext(key);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new ConfigError(`${key} is ${JSON.stringify(value)}: it must be a string.`);
    }
    const text = String(value).trim();
    return text === '' ? undefined : text;
  }

  required(key: string): string {
    const value = this.string(key);
    if (value === undefined) throw new ConfigError(`${key} is not set: add -c ${key}=… or set it in cdk.json.`);
    return value;
  }

  list(key: string): string[] {
    const value = this.#context.tryGetContext(key);
    const items = Array.isArray(value) ? value.map(String) : (this.string(key) ?? '').split(',');
    const trimmed = items.map((item) => item.trim()).filter((item) => item !== '');
    if (trimmed.length === 0) throw new ConfigError(`${key} is empty: give at least one value, separated by commas.`);
    return trimmed;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.#context.tryGetContext(key);
    if (value === undefined || value === null || value === '') return fallback;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw new ConfigError(`${key} is ${JSON.stringify(value)}: use true or false.`);
  }

  /** A whole number; `auto` (when allowed) means undefined, i.e. derived by the shared config. */
  integer(key: string, options: { auto?: boolean; range?: readonly [number, number] } = {}): number | undefined {
    const value = this.#context.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (options.auto && value === AUTO) return undefined;
    let number: number;
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new ConfigError(`${key} is ${value}: it must be a whole number such as 4.`);
      number = value;
    } else if (typeof value === 'string') {
      number = parseWholeNumber(value.trim(), key);
    } else {
      throw new ConfigError(`${key} is ${JSON.stringify(value)}: it must be a whole number${options.auto ? ` or "${AUTO}"` : ''}.`);
    }
    const range = options.range;
    if (range && (number < range[0] || number > range[1])) {
      throw new ConfigError(`${key} is ${number}: it must be a whole number from ${range[0]} to ${range[1]}.`);
    }
    return number;
  }
}
