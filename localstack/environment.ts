// Where the LocalStack path's pieces are: the names docker-compose.yml and the init scripts use,
// the default endpoint (the one cdklocal targets), and the stack outputs the deploy script keeps.
// One place, so the compose file, the deploy script, the e2e script and their tests agree.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../lambdas/shared/errors.ts';

export const LOCALSTACK_DIR = fileURLToPath(new URL('.', import.meta.url));
export const COMPOSE_FILE = fileURLToPath(new URL('./docker-compose.yml', import.meta.url));
/** Deploy outputs, cdk.out and LocalStack's volume live here (git-ignored). */
export const STATE_DIR = fileURLToPath(new URL('./.state/', import.meta.url));
/** `cdk deploy --outputs-file`: `{ "<stack>": { "CoordinatorFunctionName": …, … } }`. */
export const OUTPUTS_FILE = fileURLToPath(new URL('./.state/outputs.json', import.meta.url));

/**
 * The edge endpoint cdklocal uses by default. localhost.localstack.cloud (and its subdomains, which
 * S3 asset uploads need) resolves to 127.0.0.1 through public DNS.
 */
export const DEFAULT_LOCALSTACK_ENDPOINT = 'http://localhost.localstack.cloud:4566';

/** LocalStack's default account and region (what `cdklocal bootstrap` targets). */
export const LOCALSTACK_ACCOUNT = '000000000000';
export const DEFAULT_REGION = 'us-east-1';

/** The compose PostgreSQL, as docker-compose.yml defines it (user, password and database `pgfanout`). */
export const COMPOSE_DATABASE = Object.freeze({
  user: 'pgfanout',
  password: 'pgfanout',
  database: 'pgfanout',
  /** Host name inside the compose network (what the functions use). */
  serviceHost: 'postgres',
  /** Published on the host's loopback (PG_FANOUT_DB_HOST_PORT overrides it in compose). */
  hostPort: 5433,
});

/** The database as the host (the e2e script, the CLI) reaches it. */
export const COMPOSE_DATABASE_URL = `postgres://${COMPOSE_DATABASE.user}:${COMPOSE_DATABASE.password}@127.0.0.1:${COMPOSE_DATABASE.hostPort}/${COMPOSE_DATABASE.database}`;

/** The Secrets Manager secret the ready.d init script creates (RDS secret shape, host `postgres`). */
export const DATABASE_SECRET_NAME = 'pg-fanout/database';

/** The compose network the Lambda containers join (LAMBDA_DOCKER_NETWORK) to reach `postgres`. */
export const COMPOSE_NETWORK = 'pg-fanout-localstack';

/** The outputs the stack declares that these scripts use. */
export interface StackOutputs {
  CoordinatorFunctionName: string;
  WorkerFunctionName?: string;
  WorkQueueUrl?: string;
  DeadLetterQueueUrl?: string;
}

/** Reads the outputs `npm run localstack:deploy` wrote; a missing file says how to make it. */
export async function readStackOutputs(file = OUTPUTS_FILE): Promise<StackOutputs> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ConfigError(`${file} does not exist: deploy first with \`npm run localstack:deploy\`, or set COORDINATOR_FUNCTION to the coordinator's name.`);
  }
  const stacks = JSON.parse(text) as Record<string, Partial<StackOutputs>>;
  const withCoordinator = Object.values(stacks).filter((outputs) => typeof outputs.CoordinatorFunctionName === 'string');
  if (withCoordinator.length !== 1) {
    throw new ConfigError(`${file} lists ${withCoordinator.length} stacks with a CoordinatorFunctionName output: set COORDINATOR_FUNCTION to the one to use.`);
  }
  return withCoordinator[0] as StackOutputs;
}

/**
 * The S3 endpoint cdklocal needs next to AWS_ENDPOINT_URL: `http://host:4566` -> `http://s3.host:4566`.
 * cdklocal recognises S3 requests by the `s3.` label, and an IP address or `localhost` has no
 * subdomains, so those map to LocalStack's own name on the same port.
 */
export function s3EndpointFor(endpoint: string): string {
  const url = new URL(endpoint);
  url.hostname = /^[\d.]+$/.test(url.hostname) || url.hostname === 'localhost' ? 's3.localhost.localstack.cloud' : `s3.${url.hostname}`;
  return url.origin;
}
