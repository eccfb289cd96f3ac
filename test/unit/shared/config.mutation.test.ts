// config.ts on the current core (separate source database, index builds, append mode).
// config.test.ts still expects the defaults from before and is being ported on another branch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  backpressureToEnv,
  checkBackpressure,
  DEFAULT_BACKPRESSURE,
  defaultBatchSize,
  environment,
  loadConfig,
  minimumVisibility,
  parseRunMode,
  parseWholeNumber,
  required,
  resolveBackpressure,
  type BackpressureConfig,
} from '../../../lambdas/shared/config.ts';
import { BACKPRESSURE_LIMITS } from './backpressure-limits.ts';

const configError = (message: string) => ({ name: 'ConfigError', message });

describe('defaultBatchSize', () => {
  it('takes enough chunks for about 100,000 rows, from 1 to 10', () => {
    assert.equal(defaultBatchSize(100_000), 1);
    assert.equal(defaultBatchSize(1_000_000), 1);
    assert.equal(defaultBatchSize(50_000), 2);
    assert.equal(defaultBatchSize(30_000), 4);
    assert.equal(defaultBatchSize(10_000), 10);
    assert.equal(defaultBatchSize(1), 10);
  });
});

describe('minimumVisibility', () => {
  it('is six worker timeouts plus the batching window', () => {
    assert.equal(minimumVisibility({ workerTimeoutSeconds: 100, maxBatchingWindowSeconds: 7 }), 607);
  });
});

describe('resolveBackpressure', () => {
  it('gives the defaults for no overrides', () => {
    assert.deepEqual(resolveBackpressure(), { ...DEFAULT_BACKPRESSURE });
    assert.deepEqual(DEFAULT_BACKPRESSURE, {
      chunkRows: 100_000, batchSize: 1, maxBatchingWindowSeconds: 0, reservedConcurrency: 4, maxConcurrency: 2,
      workerTimeoutSeconds: 300, visibilityTimeoutSeconds: 1800, maxReceiveCount: 5,
    });
  });

  it('ignores overrides that are undefined', () => {
    assert.deepEqual(resolveBackpressure({ chunkRows: undefined, batchSize: undefined, visibilityTimeoutSeconds: undefined, reservedConcurrency: undefined }), { ...DEFAULT_BACKPRESSURE });
  });

  it('derives the batch size from the chunk rows unless it is given', () => {
    assert.equal(resolveBackpressure({ chunkRows: 25_000 }).batchSize, 4);
    assert.equal(resolveBackpressure({ chunkRows: 25_000, batchSize: 2 }).batchSize, 2);
  });

  it('derives the visibility timeout from the worker timeout and window unless it is given', () => {
    assert.equal(resolveBackpressure({ workerTimeoutSeconds: 60, maxBatchingWindowSeconds: 5 }).visibilityTimeoutSeconds, 365);
    assert.equal(resolveBackpressure({ workerTimeoutSeconds: 60, visibilityTimeoutSeconds: 400 }).visibilityTimeoutSeconds, 400);
  });

  it('raises the reserved concurrency to the max concurrency unless it is given', () => {
    assert.equal(resolveBackpressure({ maxConcurrency: 8 }).reservedConcurrency, 8);
    assert.equal(resolveBackpressure({ maxConcurrency: 3 }).reservedConcurrency, 4);
    assert.equal(resolveBackpressure({ maxConcurrency: 4 }).reservedConcurrency, 4);
    assert.throws(() => resolveBackpressure({ maxConcurrency: 8, reservedConcurrency: 4 }), { name: 'ConfigError' });
  });

  it('lets the local runtime run one worker instance, and AWS not', () => {
    assert.deepEqual(resolveBackpressure({ maxConcurrency: 1, reservedConcurrency: 1 }, 'local'), { ...DEFAULT_BACKPRESSURE, maxConcurrency: 1, reservedConcurrency: 1 });
    assert.throws(() => resolveBackpressure({ maxConcurrency: 1 }), configError('maxConcurrency is 1: it must be a whole number from 2 to 1000.'));
    assert.throws(() => resolveBackpressure({ reservedConcurrency: 1, maxConcurrency: 1 }), configError('reservedConcurrency is 1: it must be a whole number from 2 to 1000.'));
    assert.throws(() => resolveBackpressure({ maxReceiveCount: 4 }, 'local'), configError('maxReceiveCount is 4: it must be a whole number from 5 to 1000.'));
    assert.throws(() => resolveBackpressure({ maxConcurrency: 0, reservedConcurrency: 0 }, 'local'), configError('reservedConcurrency is 0: it must be a whole number from 1 to 1000.'));
  });
});

describe('checkBackpressure', () => {
  const ok: BackpressureConfig = { ...DEFAULT_BACKPRESSURE };
  const limits = BACKPRESSURE_LIMITS;

  it('refuses each setting just outside its limits, or not whole, naming it and the limits', () => {
    for (const [key, min, max] of limits) {
      for (const value of [min - 1, max + 1, min + 0.5]) {
        assert.throws(() => checkBackpressure({ ...ok, [key]: value }), configError(`${key} is ${value}: it must be a whole number from ${min} to ${max}.`), `${key} = ${value}`);
      }
    }
  });

  it('accepts each setting at its limits where the other rules allow', () => {
    const atLimits: BackpressureConfig[] = [
      { ...ok, chunkRows: 1 }, { ...ok, chunkRows: 100_000_000 },
      { ...ok, batchSize: 10_000, maxBatchingWindowSeconds: 1, visibilityTimeoutSeconds: 1801 },
      { ...ok, maxBatchingWindowSeconds: 300, visibilityTimeoutSeconds: 2100 },
      { ...ok, reservedConcurrency: 2 }, { ...ok, reservedConcurrency: 1000, maxConcurrency: 1000 },
      { ...ok, workerTimeoutSeconds: 1, visibilityTimeoutSeconds: 6 }, { ...ok, workerTimeoutSeconds: 900, visibilityTimeoutSeconds: 43_200 },
      { ...ok, maxReceiveCount: 5 }, { ...ok, maxReceiveCount: 1000 },
    ];
    for (const c of atLimits) assert.doesNotThrow(() => checkBackpressure(c), JSON.stringify(c));
  });

  it('refuses more concurrency than is reserved, with the fix', () => {
    assert.throws(() => checkBackpressure({ ...ok, maxConcurrency: 5 }), configError(
      'maxConcurrency (5) exceeds reservedConcurrency (4): the event source would be throttled, and throttled receives burn maxReceiveCount and send good chunks to the DLQ. Lower maxConcurrency or raise reservedConcurrency.',
    ));
  });

  it('refuses batches above 10 without a batching window, and takes them with one', () => {
    assert.throws(() => checkBackpressure({ ...ok, batchSize: 11 }), configError(
      'batchSize (11) is above 10 while maxBatchingWindowSeconds is 0: an SQS event source only takes batches above 10 with a batching window of at least 1 second. Set maxBatchingWindowSeconds to 1 or more, or batchSize to 10 or less.',
    ));
    assert.doesNotThrow(() => checkBackpressure({ ...ok, batchSize: 10 }));
    assert.doesNotThrow(() => checkBackpressure({ ...ok, batchSize: 11, maxBatchingWindowSeconds: 1, visibilityTimeoutSeconds: 1801 }));
  });

  it('refuses a visibility timeout below six worker timeouts plus the window, and takes it at that', () => {
    assert.throws(() => checkBackpressure({ ...ok, maxBatchingWindowSeconds: 2, visibilityTimeoutSeconds: 1801 }), configError(
      'visibilityTimeoutSeconds (1801) is below 6 x workerTimeoutSeconds + maxBatchingWindowSeconds (1802): a chunk still being processed would be handed to a second worker. Raise it to at least 1802.',
    ));
    assert.doesNotThrow(() => checkBackpressure({ ...ok, maxBatchingWindowSeconds: 2, visibilityTimeoutSeconds: 1802 }));
  });
});

describe('parseRunMode', () => {
  it('takes the three modes', () => {
    for (const mode of ['full', 'incremental', 'append']) assert.equal(parseRunMode(mode, 'x'), mode);
  });

  it('refuses anything else, naming where and the JSON value', () => {
    for (const bad of ['FULL', '', null, 1]) {
      assert.throws(() => parseRunMode(bad, '--mode'), configError(`--mode is ${JSON.stringify(bad)}: use "incremental", "full" or "append".`));
    }
  });
});

describe('parseWholeNumber', () => {
  it('parses decimal digits', () => {
    assert.equal(parseWholeNumber('0', 'N'), 0);
    assert.equal(parseWholeNumber('0042', 'N'), 42);
    assert.equal(parseWholeNumber('9007199254740991', 'N'), 9007199254740991);
  });

  it('refuses anything but digits, and numbers past 2^53', () => {
    for (const bad of ['', '-1', '1.0', '1e3', ' 1', '1 ', 'a1', '1a']) {
      assert.throws(() => parseWholeNumber(bad, 'N'), configError(`N is "${bad}": it must be a whole number such as 4.`));
    }
    assert.throws(() => parseWholeNumber('9007199254740992', 'N'), configError('N is "9007199254740992": it is too large.'));
  });
});

describe('required', () => {
  it('returns a set value and refuses undefined or empty, with the fix', () => {
    assert.equal(required('x', 'A', 'set A'), 'x');
    assert.equal(required(0, 'A', 'set A'), 0);
    assert.throws(() => required(undefined, 'A', 'set A.'), configError('A is not set: set A.'));
    assert.throws(() => required('', 'A', 'set A.'), configError('A is not set: set A.'));
  });
});

describe('environment', () => {
  it('is process.env', () => {
    assert.equal(environment(), process.env);
  });
});

describe('backpressureToEnv', () => {
  it('names each variable loadConfig reads, and round-trips', () => {
    const c = resolveBackpressure({ chunkRows: 1234, batchSize: 3, maxBatchingWindowSeconds: 2, maxConcurrency: 3, reservedConcurrency: 7, workerTimeoutSeconds: 10, visibilityTimeoutSeconds: 99, maxReceiveCount: 6 });
    const env = backpressureToEnv(c);
    assert.deepEqual(env, {
      CHUNK_ROWS: '1234', BATCH_SIZE: '3', MAX_BATCHING_WINDOW_SECONDS: '2', RESERVED_CONCURRENCY: '7', MAX_CONCURRENCY: '3',
      WORKER_TIMEOUT_SECONDS: '10', VISIBILITY_TIMEOUT_SECONDS: '99', MAX_RECEIVE_COUNT: '6',
    });
    assert.deepEqual(loadConfig(env).backpressure, c);
  });
});

describe('loadConfig', () => {
  it('reads every variable, trimmed', () => {
    const c = loadConfig({
      PIPELINE_MODULE: ' ./p.ts ', SOURCE_TABLE: ' s.a ', TARGET_TABLE: 't.b', KEY_COLUMN: 'k',
      DATABASE_URL: 'postgres://d', DATABASE_SECRET_ARN: 'arn:s', DATABASE_TLS: ' verify-full ', DATABASE_CA_FILE: '/ca.pem', DATABASE_HOST: 'proxy',
      INDEX_BUILD_MEMORY_MB: '1024', INDEX_BUILD_PARALLEL_WORKERS: '0', CHUNK_ROWS: '5000',
      WORK_QUEUE_URL: 'q', DEAD_LETTER_QUEUE_URL: 'dlq', AWS_ENDPOINT_URL_SQS: 'http://sqs', AWS_ENDPOINT_URL: 'http://all',
      AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-west-2', AWS_ACCESS_KEY_ID: 'AKIA', LOG_LEVEL: 'debug', EMIT_METRICS: 'false',
      STALE_ENQUEUE_SECONDS: '30', COORDINATOR_FUNCTION: 'coord',
    });
    const database = { url: 'postgres://d', secretArn: 'arn:s', tls: 'verify-full', caFile: '/ca.pem', host: 'proxy' };
    assert.deepEqual(c, {
      pipelineModule: './p.ts', sourceTable: 's.a', targetTable: 't.b', keyColumn: 'k',
      database, sourceDatabase: database, sameDatabase: true,
      indexBuild: { memoryMb: 1024, parallelWorkers: 0 },
      backpressure: resolveBackpressure({ chunkRows: 5000 }),
      queueUrl: 'q', deadLetterQueueUrl: 'dlq', sqsEndpoint: 'http://sqs', region: 'eu-west-1', hasExplicitCredentials: true,
      logLevel: 'debug', emitMetrics: false, metricsNamespace: 'PgFanout', staleEnqueueSeconds: 30, coordinatorFunction: 'coord',
    });
  });

  it('treats blank variables as unset', () => {
    assert.deepEqual(loadConfig({ SOURCE_TABLE: '   ', DATABASE_TLS: '', LOG_LEVEL: ' ', CHUNK_ROWS: '', AWS_REGION: ' \t' }), loadConfig({}));
  });

  it('falls back to AWS_ENDPOINT_URL and AWS_DEFAULT_REGION, and reads the target URL before DATABASE_URL', () => {
    const c = loadConfig({ AWS_ENDPOINT_URL: 'http://all', AWS_DEFAULT_REGION: 'us-west-2', TARGET_DATABASE_URL: 'postgres://t', DATABASE_URL: 'postgres://d' });
    assert.equal(c.sqsEndpoint, 'http://all');
    assert.equal(c.region, 'us-west-2');
    assert.equal(c.database.url, 'postgres://t');
  });

  it('emits metrics unless EMIT_METRICS is false', () => {
    assert.equal(loadConfig({ EMIT_METRICS: 'true' }).emitMetrics, true);
    assert.equal(loadConfig({ EMIT_METRICS: '0' }).emitMetrics, true);
    assert.equal(loadConfig({ EMIT_METRICS: ' false ' }).emitMetrics, false);
  });

  it('reads a separate source database by URL, with its own TLS and host', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://t', SOURCE_DATABASE_URL: 'postgres://s', SOURCE_DATABASE_SECRET_ARN: 'arn:src', DATABASE_TLS: 'require', SOURCE_DATABASE_TLS: 'disable', DATABASE_CA_FILE: '/ca', SOURCE_DATABASE_HOST: 'src-proxy', DATABASE_HOST: 'tgt-proxy' });
    assert.equal(c.sameDatabase, false);
    assert.deepEqual(c.sourceDatabase, { url: 'postgres://s', secretArn: undefined, tls: 'disable', caFile: '/ca', host: 'src-proxy' });
    assert.deepEqual(c.database, { url: 'postgres://t', secretArn: undefined, tls: 'require', caFile: '/ca', host: 'tgt-proxy' });
  });

  it('reads a separate source database by secret, with the target TLS by default', () => {
    const c = loadConfig({ DATABASE_SECRET_ARN: 'arn:t', SOURCE_DATABASE_SECRET_ARN: 'arn:s', DATABASE_TLS: 'require' });
    assert.equal(c.sameDatabase, false);
    assert.deepEqual(c.sourceDatabase, { url: undefined, secretArn: 'arn:s', tls: 'require', caFile: undefined, host: undefined });
  });

  it('takes a source URL or secret equal to the target\'s as the same database', () => {
    for (const env of [{ DATABASE_URL: 'postgres://d', SOURCE_DATABASE_URL: 'postgres://d' }, { DATABASE_SECRET_ARN: 'arn:x', SOURCE_DATABASE_SECRET_ARN: 'arn:x' }]) {
      const c = loadConfig(env);
      assert.equal(c.sameDatabase, true);
      assert.equal(c.sourceDatabase, c.database);
    }
  });

  it('accepts every TLS mode and log level', () => {
    for (const tls of ['disable', 'require', 'verify-full'] as const) {
      assert.equal(loadConfig({ DATABASE_TLS: tls }).database.tls, tls);
      assert.equal(loadConfig({ SOURCE_DATABASE_URL: 'postgres://s', SOURCE_DATABASE_TLS: tls }).sourceDatabase.tls, tls);
    }
    for (const level of ['debug', 'info', 'warn', 'error'] as const) assert.equal(loadConfig({ LOG_LEVEL: level }).logLevel, level);
  });

  it('refuses another TLS mode or log level, naming the variable, value and choices', () => {
    assert.throws(() => loadConfig({ DATABASE_TLS: 'on' }), configError('DATABASE_TLS is "on": use disable, require or verify-full.'));
    assert.throws(() => loadConfig({ SOURCE_DATABASE_TLS: 'verify-ca' }), configError('SOURCE_DATABASE_TLS is "verify-ca": use disable, require or verify-full.'));
    assert.throws(() => loadConfig({ LOG_LEVEL: 'trace' }), configError('LOG_LEVEL is "trace": use debug, info, warn or error.'));
  });

  it('refuses a malformed number in every number variable, naming it', () => {
    for (const name of ['CHUNK_ROWS', 'BATCH_SIZE', 'MAX_BATCHING_WINDOW_SECONDS', 'RESERVED_CONCURRENCY', 'MAX_CONCURRENCY', 'WORKER_TIMEOUT_SECONDS', 'VISIBILITY_TIMEOUT_SECONDS', 'MAX_RECEIVE_COUNT', 'STALE_ENQUEUE_SECONDS', 'INDEX_BUILD_MEMORY_MB', 'INDEX_BUILD_PARALLEL_WORKERS']) {
      assert.throws(() => loadConfig({ [name]: '4x' }), configError(`${name} is "4x": it must be a whole number such as 4.`));
    }
  });

  it('reads each backpressure variable into its setting', () => {
    const c = loadConfig({ BATCH_SIZE: '3', MAX_BATCHING_WINDOW_SECONDS: '4', RESERVED_CONCURRENCY: '9', MAX_CONCURRENCY: '6', WORKER_TIMEOUT_SECONDS: '20', VISIBILITY_TIMEOUT_SECONDS: '500', MAX_RECEIVE_COUNT: '7' });
    assert.deepEqual(c.backpressure, { chunkRows: 100_000, batchSize: 3, maxBatchingWindowSeconds: 4, reservedConcurrency: 9, maxConcurrency: 6, workerTimeoutSeconds: 20, visibilityTimeoutSeconds: 500, maxReceiveCount: 7 });
  });

  it('keeps index build settings within their limits', () => {
    assert.deepEqual(loadConfig({ INDEX_BUILD_MEMORY_MB: '1', INDEX_BUILD_PARALLEL_WORKERS: '64' }).indexBuild, { memoryMb: 1, parallelWorkers: 64 });
    assert.deepEqual(loadConfig({ INDEX_BUILD_MEMORY_MB: '2000000' }).indexBuild.memoryMb, 2_000_000);
    assert.throws(() => loadConfig({ INDEX_BUILD_MEMORY_MB: '0' }), configError('INDEX_BUILD_MEMORY_MB is 0: it must be from 1 to 2000000.'));
    assert.throws(() => loadConfig({ INDEX_BUILD_MEMORY_MB: '2000001' }), configError('INDEX_BUILD_MEMORY_MB is 2000001: it must be from 1 to 2000000.'));
    assert.throws(() => loadConfig({ INDEX_BUILD_PARALLEL_WORKERS: '65' }), configError('INDEX_BUILD_PARALLEL_WORKERS is 65: it must be from 0 to 64.'));
  });

  it('lets given overrides win over the environment, and undefined ones not', () => {
    const c = loadConfig({ CHUNK_ROWS: '5000', MAX_CONCURRENCY: '3' }, { chunkRows: 700, maxConcurrency: undefined });
    assert.equal(c.backpressure.chunkRows, 700);
    assert.equal(c.backpressure.maxConcurrency, 3);
  });

  it('passes the runtime on to the backpressure rules', () => {
    assert.equal(loadConfig({ MAX_CONCURRENCY: '1', RESERVED_CONCURRENCY: '1' }, {}, 'local').backpressure.maxConcurrency, 1);
    assert.throws(() => loadConfig({ MAX_CONCURRENCY: '1', RESERVED_CONCURRENCY: '1' }), { name: 'ConfigError' });
  });

  it('reads process.env when given no environment', () => {
    assert.deepEqual(loadConfig(), loadConfig(process.env));
  });
});
