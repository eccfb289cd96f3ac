import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  backpressureToEnv,
  checkBackpressure,
  CONNECTIONS_PER_WORKER,
  DEFAULT_BACKPRESSURE,
  DEFAULT_INDEX_BUILD,
  DEFAULT_TABLES,
  indexBuildToEnv,
  loadConfig,
  minimumVisibility,
  parseMetricsNamespace,
  parseRunMode,
  parseWholeNumber,
  required,
  resolveBackpressure,
  type BackpressureConfig,
  type PipelineConfig,
} from '../../../lambdas/shared/config.ts';
import { ConfigError, PgFanoutError } from '../../../lambdas/shared/errors.ts';
import { BACKPRESSURE_LIMITS } from './backpressure-limits.ts';

/** A valid config with room around every limit, so one field at a time can be pushed to its edge. */
const ROOMY: BackpressureConfig = {
  chunkRows: 1000,
  batchSize: 10,
  maxBatchingWindowSeconds: 1,
  reservedConcurrency: 1000,
  maxConcurrency: 2,
  workerTimeoutSeconds: 1,
  visibilityTimeoutSeconds: 43_200,
  maxReceiveCount: 5,
};

const LIMITS = BACKPRESSURE_LIMITS;

function limitMessage(key: string, value: number, min: number, max: number): string {
  return `${key} is ${value}: it must be a whole number from ${min} to ${max}.`;
}

describe('DEFAULT_BACKPRESSURE', () => {
  it('has the documented defaults and is frozen', () => {
    assert.deepEqual({ ...DEFAULT_BACKPRESSURE }, {
      chunkRows: 100_000,
      batchSize: 1,
      maxBatchingWindowSeconds: 0,
      reservedConcurrency: 4,
      maxConcurrency: 2,
      workerTimeoutSeconds: 300,
      visibilityTimeoutSeconds: 1800,
      maxReceiveCount: 5,
    });
    assert.equal(Object.isFrozen(DEFAULT_BACKPRESSURE), true);
    assert.equal(CONNECTIONS_PER_WORKER, 2);
  });

  it('passes its own rules', () => {
    assert.doesNotThrow(() => checkBackpressure({ ...DEFAULT_BACKPRESSURE }));
  });
});

describe('checkBackpressure limits', () => {
  it('accepts the roomy base config used by these tests', () => {
    assert.doesNotThrow(() => checkBackpressure({ ...ROOMY }));
  });

  for (const [key, min, max] of LIMITS) {
    it(`accepts ${key} at its upper limit ${max}`, () => {
      assert.doesNotThrow(() => checkBackpressure({ ...ROOMY, [key]: max }));
    });

    if (key !== 'visibilityTimeoutSeconds') {
      it(`accepts ${key} at its lower limit ${min}`, () => {
        assert.doesNotThrow(() => checkBackpressure({ ...ROOMY, [key]: min }));
      });
    }

    it(`rejects ${key} one below its lower limit, naming the field, value and range`, () => {
      assert.throws(() => checkBackpressure({ ...ROOMY, [key]: min - 1 }), {
        name: 'ConfigError',
        message: limitMessage(key, min - 1, min, max),
      });
    });

    it(`rejects ${key} one above its upper limit, naming the field, value and range`, () => {
      assert.throws(() => checkBackpressure({ ...ROOMY, [key]: max + 1 }), {
        name: 'ConfigError',
        message: limitMessage(key, max + 1, min, max),
      });
    });

    it(`rejects a fractional, NaN or infinite ${key}`, () => {
      for (const value of [min + 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        assert.throws(() => checkBackpressure({ ...ROOMY, [key]: value }), {
          name: 'ConfigError',
          message: limitMessage(key, value, min, max),
        });
      }
    });
  }

  it('throws ConfigError, a PgFanoutError, for a broken limit', () => {
    let caught: unknown;
    try {
      checkBackpressure({ ...ROOMY, chunkRows: 0 });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof ConfigError);
    assert.ok(caught instanceof PgFanoutError);
  });

  it('accepts a visibility timeout of 0 by the limit but rejects it by the 6x rule', () => {
    assert.throws(() => checkBackpressure({ ...ROOMY, visibilityTimeoutSeconds: 0 }), {
      name: 'ConfigError',
      message: /^visibilityTimeoutSeconds \(0\) is below 6 x workerTimeoutSeconds \+ maxBatchingWindowSeconds \(7\)/,
    });
  });
});

describe('checkBackpressure rules', () => {
  it('accepts maxConcurrency equal to reservedConcurrency', () => {
    assert.doesNotThrow(() => checkBackpressure({ ...ROOMY, maxConcurrency: 7, reservedConcurrency: 7 }));
  });

  it('rejects maxConcurrency above reservedConcurrency, naming both values and the fix', () => {
    assert.throws(() => checkBackpressure({ ...ROOMY, maxConcurrency: 10, reservedConcurrency: 4 }), {
      name: 'ConfigError',
      message:
        'maxConcurrency (10) exceeds reservedConcurrency (4): the event source would be throttled, and throttled receives ' +
        'burn maxReceiveCount and send good chunks to the DLQ. Lower maxConcurrency or raise reservedConcurrency.',
    });
  });

  it('accepts batchSize 10 with no batching window', () => {
    assert.doesNotThrow(() => checkBackpressure({ ...ROOMY, batchSize: 10, maxBatchingWindowSeconds: 0 }));
  });

  it('rejects batchSize above 10 without a batching window of at least 1 second', () => {
    assert.throws(() => checkBackpressure({ ...ROOMY, batchSize: 11, maxBatchingWindowSeconds: 0 }), {
      name: 'ConfigError',
      message:
        'batchSize (11) is above 10 while maxBatchingWindowSeconds is 0: an SQS event source only takes batches above 10 ' +
        'with a batching window of at least 1 second. Set maxBatchingWindowSeconds to 1 or more, or batchSize to 10 or less.',
    });
  });

  it('accepts batchSize above 10 with a 1 second batching window', () => {
    assert.doesNotThrow(() => checkBackpressure({ ...ROOMY, batchSize: 11, maxBatchingWindowSeconds: 1 }));
  });

  it('accepts a visibility timeout of exactly 6 x timeout + window', () => {
    assert.doesNotThrow(() =>
      checkBackpressure({ ...ROOMY, workerTimeoutSeconds: 60, maxBatchingWindowSeconds: 5, visibilityTimeoutSeconds: 365 }),
    );
  });

  it('rejects a visibility timeout one second below 6 x timeout + window, naming the minimum', () => {
    assert.throws(
      () => checkBackpressure({ ...ROOMY, workerTimeoutSeconds: 60, maxBatchingWindowSeconds: 5, visibilityTimeoutSeconds: 364 }),
      {
        name: 'ConfigError',
        message:
          'visibilityTimeoutSeconds (364) is below 6 x workerTimeoutSeconds + maxBatchingWindowSeconds (365): a chunk still ' +
          'being processed would be handed to a second worker. Raise it to at least 365.',
      },
    );
  });

  it('checks the limits before the cross-field rules', () => {
    assert.throws(() => checkBackpressure({ ...ROOMY, maxConcurrency: 1001, reservedConcurrency: 4 }), {
      message: limitMessage('maxConcurrency', 1001, 2, 1000),
    });
  });
});

describe('minimumVisibility', () => {
  it('is 6 x the worker timeout plus the batching window', () => {
    assert.equal(minimumVisibility({ workerTimeoutSeconds: 300, maxBatchingWindowSeconds: 0 }), 1800);
    assert.equal(minimumVisibility({ workerTimeoutSeconds: 60, maxBatchingWindowSeconds: 5 }), 365);
    assert.equal(minimumVisibility({ workerTimeoutSeconds: 900, maxBatchingWindowSeconds: 300 }), 5700);
  });
});

describe('resolveBackpressure', () => {
  it('returns a mutable copy of the defaults when given nothing', () => {
    const resolved = resolveBackpressure();
    assert.deepEqual(resolved, { ...DEFAULT_BACKPRESSURE });
    assert.notEqual(resolved, DEFAULT_BACKPRESSURE);
    assert.equal(Object.isFrozen(resolved), false);
    assert.deepEqual(resolveBackpressure({}), { ...DEFAULT_BACKPRESSURE });
  });

  it('ignores overrides whose value is undefined', () => {
    assert.deepEqual(resolveBackpressure({ chunkRows: undefined, maxConcurrency: undefined }), { ...DEFAULT_BACKPRESSURE });
  });

  it('merges given values over the defaults', () => {
    assert.deepEqual(resolveBackpressure({ chunkRows: 200_000, maxReceiveCount: 10 }), {
      ...DEFAULT_BACKPRESSURE,
      chunkRows: 200_000,
      maxReceiveCount: 10,
    });
  });

  it('gives small chunks a batch size that carries about 100k rows per invocation, at most 10', () => {
    assert.equal(resolveBackpressure({}).batchSize, 1);
    assert.equal(resolveBackpressure({ chunkRows: 50_000 }).batchSize, 2);
    assert.equal(resolveBackpressure({ chunkRows: 30_000 }).batchSize, 4);
    assert.equal(resolveBackpressure({ chunkRows: 10_000 }).batchSize, 10);
    assert.equal(resolveBackpressure({ chunkRows: 100 }).batchSize, 10);
    assert.equal(resolveBackpressure({ chunkRows: 100, batchSize: 3 }).batchSize, 3);
  });

  it('does not change the defaults', () => {
    resolveBackpressure({ chunkRows: 7, workerTimeoutSeconds: 10, maxConcurrency: 50 });
    assert.equal(DEFAULT_BACKPRESSURE.chunkRows, 100_000);
    assert.equal(DEFAULT_BACKPRESSURE.visibilityTimeoutSeconds, 1800);
    assert.equal(DEFAULT_BACKPRESSURE.reservedConcurrency, 4);
  });

  it('derives the visibility timeout from a changed worker timeout', () => {
    assert.equal(resolveBackpressure({ workerTimeoutSeconds: 60 }).visibilityTimeoutSeconds, 360);
    assert.equal(resolveBackpressure({ workerTimeoutSeconds: 900 }).visibilityTimeoutSeconds, 5400);
  });

  it('derives the visibility timeout from the worker timeout plus the batching window', () => {
    assert.equal(resolveBackpressure({ workerTimeoutSeconds: 60, maxBatchingWindowSeconds: 5 }).visibilityTimeoutSeconds, 365);
    assert.equal(resolveBackpressure({ maxBatchingWindowSeconds: 20 }).visibilityTimeoutSeconds, 1820);
    assert.equal(
      resolveBackpressure({ workerTimeoutSeconds: 900, maxBatchingWindowSeconds: 300 }).visibilityTimeoutSeconds,
      5700,
    );
  });

  it('keeps a given visibility timeout that meets the 6x rule', () => {
    assert.equal(resolveBackpressure({ visibilityTimeoutSeconds: 5000 }).visibilityTimeoutSeconds, 5000);
    assert.equal(
      resolveBackpressure({ workerTimeoutSeconds: 60, visibilityTimeoutSeconds: 360 }).visibilityTimeoutSeconds,
      360,
    );
  });

  it('rejects a given visibility timeout below 6 x a given worker timeout instead of raising it', () => {
    assert.throws(() => resolveBackpressure({ workerTimeoutSeconds: 600, visibilityTimeoutSeconds: 1800 }), {
      name: 'ConfigError',
      message: /^visibilityTimeoutSeconds \(1800\) is below .* \(3600\): .*Raise it to at least 3600\.$/,
    });
  });

  it('raises reservedConcurrency to a larger maxConcurrency when reservedConcurrency is not given', () => {
    const resolved = resolveBackpressure({ maxConcurrency: 10 });
    assert.equal(resolved.maxConcurrency, 10);
    assert.equal(resolved.reservedConcurrency, 10);
  });

  it('keeps the default reservedConcurrency when maxConcurrency fits under it', () => {
    const resolved = resolveBackpressure({ maxConcurrency: 3 });
    assert.equal(resolved.maxConcurrency, 3);
    assert.equal(resolved.reservedConcurrency, 4);
  });

  it('rejects a given reservedConcurrency below a given maxConcurrency', () => {
    assert.throws(() => resolveBackpressure({ maxConcurrency: 10, reservedConcurrency: 4 }), {
      name: 'ConfigError',
      message: /^maxConcurrency \(10\) exceeds reservedConcurrency \(4\)/,
    });
  });

  it('rejects batchSize 11 with the default batching window of 0', () => {
    assert.throws(() => resolveBackpressure({ batchSize: 11 }), { name: 'ConfigError', message: /^batchSize \(11\) is above 10/ });
  });

  it('accepts batchSize 11 with a 1 second window and adds the window to the visibility timeout', () => {
    const resolved = resolveBackpressure({ batchSize: 11, maxBatchingWindowSeconds: 1 });
    assert.equal(resolved.batchSize, 11);
    assert.equal(resolved.visibilityTimeoutSeconds, 1801);
  });

  it('rejects an out-of-limit override by name', () => {
    assert.throws(() => resolveBackpressure({ chunkRows: 0 }), { message: limitMessage('chunkRows', 0, 1, 100_000_000) });
    assert.throws(() => resolveBackpressure({ maxReceiveCount: 4 }), { message: limitMessage('maxReceiveCount', 4, 5, 1000) });
  });
});

function defaultConfig(): PipelineConfig {
  const database = { url: undefined, secretArn: undefined, tls: 'disable', caFile: undefined, host: undefined } as const;
  return {
    pipelineModule: undefined,
    sourceTable: 'public.input_table',
    targetTable: 'public.output_table',
    keyColumn: 'id',
    database,
    sourceDatabase: database,
    sameDatabase: true,
    indexBuild: { memoryMb: 256, parallelWorkers: 2 },
    backpressure: { ...DEFAULT_BACKPRESSURE },
    queueUrl: undefined,
    deadLetterQueueUrl: undefined,
    sqsEndpoint: undefined,
    region: 'us-east-1',
    hasExplicitCredentials: false,
    logLevel: 'info',
    emitMetrics: true,
    metricsNamespace: 'PgFanout',
    staleEnqueueSeconds: 120,
    coordinatorFunction: undefined,
  };
}

describe('loadConfig', () => {
  it('gives the defaults for an empty environment', () => {
    assert.deepEqual(loadConfig({}), defaultConfig());
    assert.deepEqual({ ...DEFAULT_TABLES }, { sourceTable: 'public.input_table', targetTable: 'public.output_table', keyColumn: 'id' });
  });

  it('treats empty and blank variables as unset', () => {
    const env: Record<string, string> = {};
    for (const name of [
      'DATABASE_TLS', 'LOG_LEVEL', 'CHUNK_ROWS', 'BATCH_SIZE', 'MAX_BATCHING_WINDOW_SECONDS', 'RESERVED_CONCURRENCY',
      'MAX_CONCURRENCY', 'WORKER_TIMEOUT_SECONDS', 'VISIBILITY_TIMEOUT_SECONDS', 'MAX_RECEIVE_COUNT', 'SOURCE_TABLE',
      'TARGET_TABLE', 'KEY_COLUMN', 'DATABASE_URL', 'DATABASE_SECRET_ARN', 'DATABASE_CA_FILE', 'DATABASE_HOST',
      'WORK_QUEUE_URL', 'DEAD_LETTER_QUEUE_URL', 'AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL', 'AWS_REGION',
      'AWS_DEFAULT_REGION', 'EMIT_METRICS', 'METRICS_NAMESPACE', 'STALE_ENQUEUE_SECONDS', 'PIPELINE_MODULE', 'TARGET_DATABASE_URL', 'SOURCE_DATABASE_URL',
      'SOURCE_DATABASE_SECRET_ARN', 'SOURCE_DATABASE_TLS', 'SOURCE_DATABASE_HOST', 'INDEX_BUILD_MEMORY_MB', 'INDEX_BUILD_PARALLEL_WORKERS',
    ]) {
      env[name] = name.length % 2 === 0 ? '' : ' \t ';
    }
    assert.deepEqual(loadConfig(env), defaultConfig());
  });

  it('reads every variable, trimming surrounding whitespace', () => {
    const config = loadConfig({
      SOURCE_TABLE: ' src.in ',
      TARGET_TABLE: 'dst.out',
      KEY_COLUMN: 'pk',
      DATABASE_URL: ' postgres://u:p@h:5432/db ',
      DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:x',
      DATABASE_TLS: ' verify-full ',
      DATABASE_CA_FILE: '/opt/ca.pem',
      DATABASE_HOST: 'proxy.example',
      WORK_QUEUE_URL: 'http://q/work',
      DEAD_LETTER_QUEUE_URL: 'http://q/dlq',
      AWS_ENDPOINT_URL_SQS: 'http://localhost:4566',
      AWS_REGION: 'eu-west-1',
      LOG_LEVEL: ' debug ',
      EMIT_METRICS: 'false',
      METRICS_NAMESPACE: ' Etl/Orders ',
      STALE_ENQUEUE_SECONDS: ' 30 ',
      COORDINATOR_FUNCTION: 'pg-fanout-coordinator',
      CHUNK_ROWS: ' 5000 ',
      BATCH_SIZE: '20',
      MAX_BATCHING_WINDOW_SECONDS: '2',
      RESERVED_CONCURRENCY: '10',
      MAX_CONCURRENCY: '8',
      WORKER_TIMEOUT_SECONDS: '60',
      VISIBILITY_TIMEOUT_SECONDS: '400',
      MAX_RECEIVE_COUNT: '7',
      PIPELINE_MODULE: ' pipelines/orders.ts ',
      INDEX_BUILD_MEMORY_MB: ' 1024 ',
      INDEX_BUILD_PARALLEL_WORKERS: '4',
    });
    const database = {
      url: 'postgres://u:p@h:5432/db',
      secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:x',
      tls: 'verify-full',
      caFile: '/opt/ca.pem',
      host: 'proxy.example',
    };
    assert.deepEqual(config, {
      pipelineModule: 'pipelines/orders.ts',
      sourceDatabase: database,
      sameDatabase: true,
      indexBuild: { memoryMb: 1024, parallelWorkers: 4 },
      sourceTable: 'src.in',
      targetTable: 'dst.out',
      keyColumn: 'pk',
      database: {
        url: 'postgres://u:p@h:5432/db',
        secretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:x',
        tls: 'verify-full',
        caFile: '/opt/ca.pem',
        host: 'proxy.example',
      },
      backpressure: {
        chunkRows: 5000,
        batchSize: 20,
        maxBatchingWindowSeconds: 2,
        reservedConcurrency: 10,
        maxConcurrency: 8,
        workerTimeoutSeconds: 60,
        visibilityTimeoutSeconds: 400,
        maxReceiveCount: 7,
      },
      queueUrl: 'http://q/work',
      deadLetterQueueUrl: 'http://q/dlq',
      sqsEndpoint: 'http://localhost:4566',
      region: 'eu-west-1',
      hasExplicitCredentials: false,
      logLevel: 'debug',
      emitMetrics: false,
      metricsNamespace: 'Etl/Orders',
      staleEnqueueSeconds: 30,
      coordinatorFunction: 'pg-fanout-coordinator',
    });
  });

  it('accepts every DATABASE_TLS mode', () => {
    for (const tls of ['disable', 'require', 'verify-full'] as const) {
      assert.equal(loadConfig({ DATABASE_TLS: tls }).database.tls, tls);
    }
  });

  it('rejects any other DATABASE_TLS value, naming it and the choices', () => {
    for (const tls of ['true', 'REQUIRE', 'verify-ca', 'prefer', 'on']) {
      assert.throws(() => loadConfig({ DATABASE_TLS: tls }), {
        name: 'ConfigError',
        message: `DATABASE_TLS is "${tls}": use disable, require or verify-full.`,
      });
    }
  });

  it('accepts every LOG_LEVEL', () => {
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      assert.equal(loadConfig({ LOG_LEVEL: level }).logLevel, level);
    }
  });

  it('rejects any other LOG_LEVEL, naming it and the choices', () => {
    for (const level of ['trace', 'DEBUG', 'warning', 'fatal']) {
      assert.throws(() => loadConfig({ LOG_LEVEL: level }), {
        name: 'ConfigError',
        message: `LOG_LEVEL is "${level}": use debug, info, warn or error.`,
      });
    }
  });

  it('rejects a number variable that is not whole decimal digits, naming the variable and raw text', () => {
    for (const raw of ['1e5', '-1', '1.5', '0x10', '10 000', '10_000', 'four', '+4', '１２']) {
      assert.throws(() => loadConfig({ CHUNK_ROWS: raw }), {
        name: 'ConfigError',
        message: `CHUNK_ROWS is "${raw}": it must be a whole number such as 4.`,
      });
    }
  });

  it('rejects a malformed number in every backpressure variable and in STALE_ENQUEUE_SECONDS', () => {
    for (const name of [
      'CHUNK_ROWS', 'BATCH_SIZE', 'MAX_BATCHING_WINDOW_SECONDS', 'RESERVED_CONCURRENCY', 'MAX_CONCURRENCY',
      'WORKER_TIMEOUT_SECONDS', 'VISIBILITY_TIMEOUT_SECONDS', 'MAX_RECEIVE_COUNT', 'STALE_ENQUEUE_SECONDS',
    ]) {
      assert.throws(() => loadConfig({ [name]: '2.5' }), { message: `${name} is "2.5": it must be a whole number such as 4.` });
    }
  });

  it('rejects a number too large to be exact', () => {
    assert.throws(() => loadConfig({ CHUNK_ROWS: '99999999999999999999' }), {
      name: 'ConfigError',
      message: 'CHUNK_ROWS is "99999999999999999999": it is too large.',
    });
  });

  it('reads leading zeros as decimal', () => {
    assert.equal(loadConfig({ CHUNK_ROWS: '007' }).backpressure.chunkRows, 7);
    assert.equal(loadConfig({ STALE_ENQUEUE_SECONDS: '0' }).staleEnqueueSeconds, 0);
  });

  it('applies the backpressure rules to environment values', () => {
    assert.throws(() => loadConfig({ CHUNK_ROWS: '0' }), { message: limitMessage('chunkRows', 0, 1, 100_000_000) });
    assert.throws(() => loadConfig({ MAX_CONCURRENCY: '10', RESERVED_CONCURRENCY: '4' }), {
      message: /^maxConcurrency \(10\) exceeds reservedConcurrency \(4\)/,
    });
    assert.throws(() => loadConfig({ WORKER_TIMEOUT_SECONDS: '600', VISIBILITY_TIMEOUT_SECONDS: '1800' }), {
      message: /^visibilityTimeoutSeconds \(1800\) is below/,
    });
  });

  it('derives visibility and reserved concurrency from environment values when those are unset', () => {
    const b = loadConfig({ WORKER_TIMEOUT_SECONDS: '60', MAX_BATCHING_WINDOW_SECONDS: '3', MAX_CONCURRENCY: '12' }).backpressure;
    assert.equal(b.visibilityTimeoutSeconds, 363);
    assert.equal(b.reservedConcurrency, 12);
  });

  it('lets overrides win over environment values', () => {
    const b = loadConfig({ CHUNK_ROWS: '500', MAX_CONCURRENCY: '3' }, { chunkRows: 700 }).backpressure;
    assert.equal(b.chunkRows, 700);
    assert.equal(b.maxConcurrency, 3);
  });

  it(
    'keeps an environment value when the override for it is undefined',
    
    () => {
      const b = loadConfig({ CHUNK_ROWS: '500', MAX_CONCURRENCY: '8' }, { chunkRows: undefined, maxConcurrency: undefined }).backpressure;
      assert.equal(b.chunkRows, 500);
      assert.equal(b.maxConcurrency, 8);
    },
  );

  it('takes the SQS endpoint from AWS_ENDPOINT_URL_SQS before AWS_ENDPOINT_URL', () => {
    assert.equal(
      loadConfig({ AWS_ENDPOINT_URL_SQS: 'http://sqs:9324', AWS_ENDPOINT_URL: 'http://all:4566' }).sqsEndpoint,
      'http://sqs:9324',
    );
    assert.equal(loadConfig({ AWS_ENDPOINT_URL: 'http://all:4566' }).sqsEndpoint, 'http://all:4566');
    assert.equal(loadConfig({ AWS_ENDPOINT_URL_SQS: ' ', AWS_ENDPOINT_URL: 'http://all:4566' }).sqsEndpoint, 'http://all:4566');
    assert.equal(loadConfig({}).sqsEndpoint, undefined);
  });

  it('takes the region from AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1', () => {
    assert.equal(loadConfig({ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'ap-south-1' }).region, 'eu-west-1');
    assert.equal(loadConfig({ AWS_DEFAULT_REGION: 'ap-south-1' }).region, 'ap-south-1');
    assert.equal(loadConfig({}).region, 'us-east-1');
  });

  it('emits metrics unless EMIT_METRICS is exactly "false"', () => {
    assert.equal(loadConfig({ EMIT_METRICS: 'false' }).emitMetrics, false);
    assert.equal(loadConfig({ EMIT_METRICS: ' false ' }).emitMetrics, false);
    assert.equal(loadConfig({ EMIT_METRICS: 'true' }).emitMetrics, true);
    assert.equal(loadConfig({}).emitMetrics, true);
  });
});

describe('backpressureToEnv', () => {
  it('names the variables loadConfig reads, with decimal values', () => {
    assert.deepEqual(backpressureToEnv({ ...DEFAULT_BACKPRESSURE }), {
      CHUNK_ROWS: '100000',
      BATCH_SIZE: '1',
      MAX_BATCHING_WINDOW_SECONDS: '0',
      RESERVED_CONCURRENCY: '4',
      MAX_CONCURRENCY: '2',
      WORKER_TIMEOUT_SECONDS: '300',
      VISIBILITY_TIMEOUT_SECONDS: '1800',
      MAX_RECEIVE_COUNT: '5',
    });
  });

  it('round-trips through loadConfig for defaults, edge values and derived values', () => {
    const configs: BackpressureConfig[] = [
      { ...DEFAULT_BACKPRESSURE },
      { ...ROOMY },
      { ...ROOMY, chunkRows: 100_000_000, batchSize: 10_000, maxBatchingWindowSeconds: 300, maxConcurrency: 1000, workerTimeoutSeconds: 900, maxReceiveCount: 1000 },
      { ...ROOMY, chunkRows: 1, batchSize: 1, maxBatchingWindowSeconds: 0, reservedConcurrency: 2, maxConcurrency: 2, visibilityTimeoutSeconds: 6 },
      resolveBackpressure({ workerTimeoutSeconds: 45, maxConcurrency: 9, batchSize: 50, maxBatchingWindowSeconds: 4 }),
    ];
    for (const c of configs) {
      checkBackpressure(c);
      assert.deepEqual(loadConfig(backpressureToEnv(c)).backpressure, c);
    }
  });
});

describe('indexBuildToEnv', () => {
  it('names the variables loadConfig reads and round-trips the defaults and the limits', () => {
    assert.deepEqual(indexBuildToEnv({ ...DEFAULT_INDEX_BUILD }), { INDEX_BUILD_MEMORY_MB: '256', INDEX_BUILD_PARALLEL_WORKERS: '2' });
    for (const c of [{ ...DEFAULT_INDEX_BUILD }, { memoryMb: 1, parallelWorkers: 0 }, { memoryMb: 2_000_000, parallelWorkers: 64 }]) {
      assert.deepEqual(loadConfig(indexBuildToEnv(c)).indexBuild, c);
    }
  });
});

describe('parseWholeNumber', () => {
  it('parses decimal digits to a number', () => {
    assert.equal(parseWholeNumber('0', 'X'), 0);
    assert.equal(parseWholeNumber('42', 'X'), 42);
    assert.equal(parseWholeNumber(String(Number.MAX_SAFE_INTEGER), 'X'), Number.MAX_SAFE_INTEGER);
  });

  it('rejects the first unsafe integer as too large', () => {
    assert.throws(() => parseWholeNumber('9007199254740992', 'X'), { name: 'ConfigError', message: 'X is "9007199254740992": it is too large.' });
  });

  it('rejects empty text and surrounding spaces (loadConfig trims before calling)', () => {
    assert.throws(() => parseWholeNumber('', 'X'), { message: 'X is "": it must be a whole number such as 4.' });
    assert.throws(() => parseWholeNumber(' 4', 'X'), { message: 'X is " 4": it must be a whole number such as 4.' });
  });
});

describe('parseRunMode', () => {
  it('accepts full, incremental and append', () => {
    assert.equal(parseRunMode('full', 'm'), 'full');
    assert.equal(parseRunMode('incremental', 'm'), 'incremental');
    assert.equal(parseRunMode('append', 'm'), 'append');
  });

  it('rejects anything else, naming where and the JSON value', () => {
    assert.throws(() => parseRunMode('FULL', '--mode'), { name: 'ConfigError', message: '--mode is "FULL": use "incremental", "full" or "append".' });
    assert.throws(() => parseRunMode(undefined, '--mode'), { message: '--mode is undefined: use "incremental", "full" or "append".' });
    assert.throws(() => parseRunMode(1, 'mode'), { message: 'mode is 1: use "incremental", "full" or "append".' });
  });
});

describe('required', () => {
  it('returns a set value', () => {
    assert.equal(required('x', 'NAME', 'set it'), 'x');
    assert.equal(required(0, 'NAME', 'set it'), 0);
  });

  it('rejects undefined and empty values with the name and the fix', () => {
    assert.throws(() => required(undefined, 'WORK_QUEUE_URL', 'set it to the queue URL.'), {
      name: 'ConfigError',
      message: 'WORK_QUEUE_URL is not set: set it to the queue URL.',
    });
    assert.throws(() => required('', 'DATABASE_URL', 'set it.'), { message: 'DATABASE_URL is not set: set it.' });
  });
});

describe('parseMetricsNamespace', () => {
  it('takes 1 to 255 letters, digits and . - _ / # :', () => {
    for (const ok of ['PgFanout', 'Staging/PgFanout', 'a', 'x.y-z_1/#:', 'N'.repeat(255), 'aws/lower', 'AWSX']) {
      assert.equal(parseMetricsNamespace(ok, 'METRICS_NAMESPACE'), ok);
    }
  });

  it('refuses an empty name, other characters, more than 255 and the reserved AWS/ space, naming the variable and the fix', () => {
    for (const bad of ['', 'Pg Fanout', 'Pg*', 'N'.repeat(256), 'AWS/Lambda', 'x\nAWS/']) {
      assert.throws(() => parseMetricsNamespace(bad, 'METRICS_NAMESPACE'), {
        name: 'ConfigError',
        message: `METRICS_NAMESPACE is ${JSON.stringify(bad)}: a CloudWatch namespace is 1 to 255 letters, digits and . - _ / # : and does not start with AWS/, e.g. PgFanout or Staging/PgFanout.`,
      });
    }
    assert.throws(() => loadConfig({ METRICS_NAMESPACE: 'AWS/EC2' }), /METRICS_NAMESPACE is "AWS\/EC2"/);
  });
});
