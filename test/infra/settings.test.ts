// Settings from the CDK context: cdk.json's defaults agree with the shared config, every `-c`
// override goes through the shared rules, and a broken value stops synthesis with a ConfigError
// that names the rule and the fix.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_BACKPRESSURE, DEFAULT_TABLES, resolveBackpressure } from '../../lambdas/shared/config.ts';
import { ConfigError } from '../../lambdas/shared/errors.ts';
import { AUTO, PLACEHOLDERS, readSettings } from '../../infra/settings.ts';
import { CDK_JSON, EXISTING } from './helpers.ts';

const settingsFrom = (overrides: Record<string, unknown>) => {
  const context: Record<string, unknown> = { ...CDK_JSON.context, ...overrides };
  return readSettings({ tryGetContext: (key) => context[key] });
};
const rejects = (overrides: Record<string, unknown>, rule: RegExp) =>
  assert.throws(() => settingsFrom(overrides), (error: unknown) => {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`);
    assert.match(error.message, rule);
    return true;
  });

const repoRoot = new URL('../../', import.meta.url);

describe('cdk.json', () => {
  test('runs the app with node, natively from TypeScript', () => {
    assert.equal(CDK_JSON.app, 'node infra/app.ts');
  });

  test('its backpressure and table defaults are the shared config defaults', () => {
    const c = CDK_JSON.context;
    for (const key of ['chunkRows', 'maxBatchingWindowSeconds', 'maxConcurrency', 'workerTimeoutSeconds', 'maxReceiveCount'] as const) {
      assert.equal(c[key], DEFAULT_BACKPRESSURE[key], key);
    }
    assert.equal(c.batchSize, AUTO);
    assert.equal(c.reservedConcurrency, AUTO);
    assert.equal(c.visibilityTimeoutSeconds, AUTO);
    assert.equal(c.sourceTable, DEFAULT_TABLES.sourceTable);
    assert.equal(c.targetTable, DEFAULT_TABLES.targetTable);
    assert.equal(c.keyColumn, DEFAULT_TABLES.keyColumn);
  });

  test('read as is, it gives the shared defaults, a daily incremental schedule and the placeholder database', () => {
    const s = settingsFrom({});
    assert.deepEqual(s.backpressure, resolveBackpressure());
    assert.deepEqual(s.schedule, { enabled: true, expression: 'rate(1 day)', timeZone: 'UTC', mode: 'incremental' });
    assert.equal(s.database.kind, 'existing');
    assert.equal(s.database.kind === 'existing' && s.database.placeholder, true);
    assert.equal(s.database.kind === 'existing' && s.database.vpcId, PLACEHOLDERS.vpcId);
    assert.equal(s.rdsProxy, false);
    assert.equal(s.stackName, 'PgFanout');
  });

  test('every setting it holds is documented in the README deploy section', () => {
    const doc = readFileSync(new URL('README.md', repoRoot), 'utf8');
    const settings = Object.keys(CDK_JSON.context).filter((key) => !key.startsWith('@aws-cdk') && key !== 'cli-telemetry');
    for (const key of settings) assert.ok(doc.includes(`| \`${key}\``), `README.md has no settings table row for ${key}`);
  });
});

describe('overrides with -c (strings, as the CLI passes them)', () => {
  test('numbers and booleans parse; auto-derived values follow the shared rules', () => {
    const s = settingsFrom({ maxConcurrency: '6', workerTimeoutSeconds: '120', scheduleEnabled: 'false', demoDatabase: 'true' });
    assert.equal(s.backpressure.maxConcurrency, 6);
    assert.equal(s.backpressure.reservedConcurrency, 6);
    assert.equal(s.backpressure.visibilityTimeoutSeconds, 720);
    assert.equal(s.schedule.enabled, false);
    assert.deepEqual(s.database, { kind: 'demo' });
    assert.equal(s.backpressure.batchSize, 1, 'the default 100k-row chunks: one per invocation');
    assert.equal(settingsFrom({ chunkRows: '10000' }).backpressure.batchSize, 10, 'small chunks: ~100k rows per invocation');
    assert.equal(settingsFrom({ chunkRows: '10000', batchSize: '3' }).backpressure.batchSize, 3);
  });

  test('an existing database is read from its four IDs', () => {
    const s = settingsFrom(EXISTING);
    assert.deepEqual(s.database, {
      kind: 'existing',
      placeholder: false,
      secretArn: EXISTING.databaseSecretArn,
      secretKeyArn: undefined,
      vpcId: EXISTING.vpcId,
      subnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
      securityGroupId: EXISTING.securityGroupId,
      proxyTarget: undefined,
    });
  });
});

describe('config-rule failures name the rule', () => {
  test('maxConcurrency above reservedConcurrency', () =>
    rejects({ maxConcurrency: '8', reservedConcurrency: '4' }, /maxConcurrency \(8\) exceeds reservedConcurrency \(4\).*Lower maxConcurrency or raise reservedConcurrency/));
  test('visibility timeout below 6 x worker timeout + batching window', () =>
    rejects({ visibilityTimeoutSeconds: '1000' }, /visibilityTimeoutSeconds \(1000\) is below 6 x workerTimeoutSeconds \+ maxBatchingWindowSeconds \(1800\)/));
  test('maxReceiveCount below 5', () => rejects({ maxReceiveCount: '3' }, /maxReceiveCount is 3: it must be a whole number from 5 to 1000/));
  test('worker timeout above the Lambda maximum', () => rejects({ workerTimeoutSeconds: '901' }, /workerTimeoutSeconds is 901: .* from 1 to 900/));
  test('maxConcurrency below the SQS event source minimum of 2', () => rejects({ maxConcurrency: '1' }, /maxConcurrency is 1: .* from 2 to 1000/));
  test('batches above 10 without a batching window', () =>
    rejects({ batchSize: '20' }, /batchSize \(20\) is above 10 while maxBatchingWindowSeconds is 0.*Set maxBatchingWindowSeconds to 1 or more/));
  test('a number that is not a whole number', () => rejects({ chunkRows: 'lots' }, /chunkRows is "lots": it must be a whole number/));
  test('auto where no value is derived', () => rejects({ maxConcurrency: 'auto' }, /maxConcurrency is "auto": it must be a whole number/));
  test('worker memory outside Lambda limits', () => rejects({ workerMemoryMb: '64' }, /workerMemoryMb is 64: .* from 128 to 10240/));
  test('a log retention CloudWatch does not offer', () => rejects({ logRetentionDays: '45' }, /logRetentionDays is 45: CloudWatch Logs only keeps logs for 1, 3, 5, 7/));
  test('an unknown log level', () => rejects({ logLevel: 'verbose' }, /logLevel is "verbose": use debug, info, warn, error/));
  test('an unknown run mode', () => rejects({ scheduleMode: 'sometimes' }, /scheduleMode is "sometimes": use "incremental", "full" or "append"/));
  test('a schedule expression EventBridge would reject', () => {
    rejects({ scheduleExpression: 'every day' }, /scheduleExpression is "every day": use an EventBridge Scheduler expression/);
    rejects({ scheduleExpression: 'rate(1 days)' }, /singular unit for 1 and a plural one above/);
    rejects({ scheduleExpression: 'rate(2 hour)' }, /singular unit for 1 and a plural one above/);
  });
  test('an unknown time zone', () => rejects({ scheduleTimeZone: 'Mars/Olympus' }, /scheduleTimeZone is "Mars\/Olympus": use an IANA time zone/));
  test('a boolean that is not true or false', () => rejects({ scheduleEnabled: 'yes' }, /scheduleEnabled is "yes": use true or false/));
  test('an alarm e-mail that is not an address', () => rejects({ alarmEmail: 'ops' }, /alarmEmail is "ops"/));
  test('a stack name CloudFormation would reject', () => rejects({ stackName: 'pg_fanout' }, /stackName is "pg_fanout"/));

  test('part of an existing database names the missing keys', () =>
    rejects(
      { databaseSecretArn: EXISTING.databaseSecretArn, vpcId: EXISTING.vpcId },
      /subnetIds, securityGroupId are not set: an existing database needs databaseSecretArn, vpcId, subnetIds, securityGroupId together.*-c subnetIds=… -c securityGroupId=…/,
    ));
  test('the demo database together with an existing one', () =>
    rejects({ ...EXISTING, demoDatabase: 'true' }, /demoDatabase is true and databaseSecretArn, vpcId, subnetIds, securityGroupId are set/));
  test('malformed IDs', () => {
    rejects({ ...EXISTING, databaseSecretArn: 'my-secret' }, /databaseSecretArn is "my-secret": give the ARN of a Secrets Manager secret/);
    rejects({ ...EXISTING, vpcId: 'vpc-xyz' }, /vpcId is "vpc-xyz"/);
    rejects({ ...EXISTING, subnetIds: 'subnet-0aaaaaaaaaaaaaaa1,subnet-oops' }, /subnetIds has "subnet-oops"/);
    rejects({ ...EXISTING, subnetIds: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa1' }, /subnetIds lists a subnet twice/);
    rejects({ ...EXISTING, securityGroupId: 'default' }, /securityGroupId is "default"/);
    rejects({ ...EXISTING, databaseSecretKeyArn: 'alias/aws/secretsmanager' }, /databaseSecretKeyArn is "alias\/aws\/secretsmanager": give a KMS key ARN/);
  });
  test('RDS Proxy in front of an existing database without a target', () => {
    rejects({ ...EXISTING, rdsProxy: 'true' }, /rdsProxy is true but neither databaseClusterId nor databaseInstanceId is set/);
    rejects({ ...EXISTING, rdsProxy: 'true', databaseClusterId: 'a', databaseInstanceId: 'b' }, /both databaseClusterId and databaseInstanceId are set/);
    rejects({ ...EXISTING, databaseClusterId: 'a' }, /databaseClusterId only matter with -c rdsProxy=true/);
    rejects({ ...EXISTING, subnetIds: 'subnet-0aaaaaaaaaaaaaaa1', rdsProxy: 'true', databaseClusterId: 'a' }, /an RDS Proxy needs subnets in at least two availability zones/);
  });
});

describe('infra/app.ts', () => {
  test('stops synthesis on a broken setting with exit code 1 and the rule on stderr, before bundling anything', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'pg-fanout-app-'));
    try {
      const result = spawnSync(process.execPath, ['infra/app.ts'], {
        cwd: repoRoot,
        encoding: 'utf8',
        env: {
          ...process.env,
          CDK_OUTDIR: outdir,
          CDK_CONTEXT_JSON: JSON.stringify({ ...CDK_JSON.context, maxConcurrency: '8', reservedConcurrency: '4' }),
        },
        timeout: 60_000,
      });
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, /pg-fanout: invalid CDK context: maxConcurrency \(8\) exceeds reservedConcurrency \(4\)/);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'a stack trace instead of the message');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
