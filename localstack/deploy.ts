#!/usr/bin/env -S node --disable-warning=ExperimentalWarning
// `npm run localstack:deploy`: bootstrap and deploy the very same CDK app (infra/app.ts) to the
// LocalStack of localstack/docker-compose.yml with cdklocal. The stack is pointed at the compose
// PostgreSQL the way it is pointed at any existing database: the Secrets Manager secret the
// ready.d init script created, and LocalStack's default VPC, subnets and security group (LocalStack
// checks that a function's subnets exist; its Lambda containers then reach `postgres` over the
// compose network). TLS is off (the compose PostgreSQL has no certificate) and the schedule is
// disabled (LocalStack's EventBridge Scheduler stores schedules but never fires them).
// Extra arguments after `--` go to `cdk deploy` (e.g. `-- -c chunkRows=10000`).
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { environment } from '../lambdas/shared/config.ts';
import { ConfigError, describe, PgFanoutError } from '../lambdas/shared/errors.ts';
import {
  COMPOSE_DATABASE_URL, DATABASE_SECRET_NAME, DEFAULT_LOCALSTACK_ENDPOINT, DEFAULT_REGION, LOCALSTACK_ACCOUNT, OUTPUTS_FILE, readStackOutputs, s3EndpointFor, STATE_DIR,
} from './environment.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What the stack needs to know about the compose database, found in LocalStack. */
export interface DatabaseTarget {
  secretArn: string;
  vpcId: string;
  subnetIds: string[];
  securityGroupId: string;
}

/**
 * Context for LocalStack on top of cdk.json: the compose database as an existing database, TLS off,
 * no schedule (EventBridge Scheduler does not fire in LocalStack).
 */
export function localStackContext(target: DatabaseTarget): Record<string, string> {
  return {
    databaseSecretArn: target.secretArn,
    vpcId: target.vpcId,
    subnetIds: target.subnetIds.join(','),
    securityGroupId: target.securityGroupId,
    databaseTls: 'disable',
    scheduleEnabled: 'false',
  };
}

/** The cdklocal arguments of the deploy. */
export function deployArguments(context: Record<string, string>, extra: readonly string[] = []): string[] {
  return [
    'deploy', '--all',
    '--require-approval', 'never',
    '--outputs-file', relative(REPO_ROOT, OUTPUTS_FILE),
    '--output', relative(REPO_ROOT, join(STATE_DIR, 'cdk.out')),
    ...Object.entries(context).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ...extra,
  ];
}

/**
 * The environment cdklocal runs in. It drops AWS_* variables it is not told to keep and needs
 * AWS_ENDPOINT_URL_S3 whenever AWS_ENDPOINT_URL is set; the region is kept explicitly.
 */
export function cdklocalEnvironment(base: Readonly<Record<string, string | undefined>>, endpoint: string, region: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  env.AWS_ENDPOINT_URL = endpoint;
  env.AWS_ENDPOINT_URL_S3 = base.AWS_ENDPOINT_URL_S3 || s3EndpointFor(endpoint);
  env.AWS_REGION = region;
  env.AWS_DEFAULT_REGION = region;
  env.AWS_ENVAR_ALLOWLIST = [...new Set(['AWS_REGION', 'AWS_DEFAULT_REGION', ...(base.AWS_ENVAR_ALLOWLIST ?? '').split(',').filter(Boolean)])].join(',');
  return env;
}

interface Clients {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** LocalStack is up, has the services the stack uses, and its ready.d scripts succeeded. */
export async function waitForLocalStack(endpoint: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const health = (await (await fetch(new URL('/_localstack/health', endpoint), { signal: AbortSignal.timeout(5000) })).json()) as { services?: Record<string, string> };
      const missing = ['lambda', 'sqs', 'secretsmanager', 'cloudformation', 'ec2', 's3', 'iam'].filter((s) => !['available', 'running'].includes(health.services?.[s] ?? ''));
      if (missing.length > 0) throw new ConfigError(`LocalStack at ${endpoint} does not offer ${missing.join(', ')}: do not restrict SERVICES in docker-compose.yml.`);
      const init = (await (await fetch(new URL('/_localstack/init/ready', endpoint), { signal: AbortSignal.timeout(5000) })).json()) as {
        completed?: boolean;
        scripts?: { name: string; state: string }[];
      };
      const failed = (init.scripts ?? []).filter((s) => s.state === 'ERROR');
      if (failed.length > 0) {
        throw new ConfigError(`LocalStack's init script ${failed.map((s) => s.name).join(', ')} failed: see \`docker compose -f localstack/docker-compose.yml logs localstack\`.`);
      }
      if (init.completed) return;
      last = 'its ready.d init scripts are still running';
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      last = fetchFailure(error);
    }
    if (Date.now() > deadline) {
      throw new ConfigError(
        `LocalStack at ${endpoint} is not ready (${last}): start it with \`docker compose -f localstack/docker-compose.yml up -d --wait\` ` +
          '(LOCALSTACK_AUTH_TOKEN set for images after 4.14.0), or point AWS_ENDPOINT_URL at yours.',
      );
    }
    await sleep(1000);
  }
}

/** The secret and the default network, as LocalStack has them. */
export async function findDatabaseTarget(clients: Clients): Promise<DatabaseTarget> {
  const secrets = new SecretsManagerClient(clients);
  const ec2 = new EC2Client(clients);
  try {
    let secretArn: string;
    try {
      secretArn = (await secrets.send(new DescribeSecretCommand({ SecretId: DATABASE_SECRET_NAME }))).ARN!;
    } catch (error) {
      throw new ConfigError(`the secret ${DATABASE_SECRET_NAME} is not in LocalStack (${describe(error)}): localstack/init/ready.d/10-database-secret.sh creates it; is ./init/ready.d mounted?`);
    }
    const vpc = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'isDefault', Values: ['true'] }] }))).Vpcs?.[0]?.VpcId;
    if (vpc === undefined) throw new ConfigError(`LocalStack has no default VPC in ${clients.region}: use region us-east-1 or create one.`);
    const subnets = ((await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc] }] }))).Subnets ?? [])
      .map((s) => s.SubnetId!)
      .sort()
      .slice(0, 2);
    const group = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc] }, { Name: 'group-name', Values: ['default'] }] }))).SecurityGroups?.[0]?.GroupId;
    if (subnets.length === 0 || group === undefined) throw new ConfigError(`LocalStack's default VPC ${vpc} has no subnets or no default security group.`);
    return { secretArn, vpcId: vpc, subnetIds: subnets, securityGroupId: group };
  } finally {
    secrets.destroy();
    ec2.destroy();
  }
}

function run(command: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new PgFanoutError(`cdklocal ${args[0]} failed (${signal ?? `exit ${code}`}); its output above says why.`))));
  });
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`localstack/deploy.ts — cdklocal bootstrap + deploy of infra/app.ts to LocalStack

Needs LocalStack and PostgreSQL from localstack/docker-compose.yml running. Arguments are passed to
\`cdk deploy\` (e.g. -c chunkRows=10000). Environment: AWS_ENDPOINT_URL (default
${DEFAULT_LOCALSTACK_ENDPOINT}), AWS_REGION (default ${DEFAULT_REGION}).\n`);
    return 0;
  }
  const env = environment();
  const endpoint = env.AWS_ENDPOINT_URL || DEFAULT_LOCALSTACK_ENDPOINT;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || DEFAULT_REGION;
  const clients: Clients = { endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const say = (line: string) => process.stdout.write(`${line}\n`);

  say(`LocalStack: ${endpoint} (${region})`);
  await waitForLocalStack(endpoint);
  const target = await findDatabaseTarget(clients);
  say(`database:   secret ${target.secretArn}; VPC ${target.vpcId}, subnets ${target.subnetIds.join(', ')}, security group ${target.securityGroupId}`);

  await mkdir(STATE_DIR, { recursive: true });
  const cdklocal = join(dirname(createRequire(import.meta.url).resolve('aws-cdk-local/package.json')), 'bin', 'cdklocal');
  const cdkEnv = cdklocalEnvironment(env, endpoint, region);
  await run(process.execPath, [cdklocal, 'bootstrap', `aws://${LOCALSTACK_ACCOUNT}/${region}`], cdkEnv);
  await run(process.execPath, [cdklocal, ...deployArguments(localStackContext(target), argv)], cdkEnv);

  const outputs = await readStackOutputs();
  say('');
  say(`deployed: coordinator ${outputs.CoordinatorFunctionName}, worker ${outputs.WorkerFunctionName ?? '?'} (outputs in ${relative(REPO_ROOT, OUTPUTS_FILE)})`);
  say('next:');
  say('  npm run localstack:e2e                         # seed rows, invoke the coordinator, verify every row');
  say(`  export AWS_ENDPOINT_URL=${endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=${region}`);
  say(`  export DATABASE_URL=${COMPOSE_DATABASE_URL} COORDINATOR_FUNCTION=${outputs.CoordinatorFunctionName}`);
  say('  node local/cli.ts run --mode full && node local/cli.ts status --watch');
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let code: number;
  try {
    code = await main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`localstack:deploy: ${error instanceof PgFanoutError ? '' : 'unexpected error: '}${describe(error)}\n`);
    code = 1;
  }
  process.exit(code);
}

/** fetch reports "fetch failed" and keeps the reason (ECONNREFUSED, ENOTFOUND, a timeout) in `cause`. */
function fetchFailure(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
}
