// The only module that opens database connections: pools from the typed config (a URL, or the RDS
// secret in AWS), TLS, and the withClient / inTransaction helpers.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { DatabaseConfig } from './config.ts';
import { ConfigError, describe } from './errors.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface OpenPoolOptions {
  /** Connections this process may hold (a worker needs 2: one COPYs out while the other COPYs in). */
  max: number;
  applicationName: string;
}

interface RdsSecret {
  host: string;
  port?: number | string;
  username: string;
  password: string;
  dbname?: string;
}

export async function openPool(config: DatabaseConfig, options: OpenPoolOptions): Promise<Pool> {
  const connection = config.url !== undefined ? { connectionString: config.url } : await fromSecret(config);
  const pool = new pg.Pool({
    ...connection,
    // What values look like in COPY text does not depend on the server's or role's defaults.
    options: SESSION_OPTIONS,
    ssl: tlsOptions(config),
    max: options.max,
    application_name: options.applicationName,
    idleTimeoutMillis: 0,
    connectionTimeoutMillis: 15_000,
    keepAlive: true,
  });
  // An idle connection that dies (failover, proxy idle timeout) is discarded by the pool; the next
  // checkout opens a new one. Nothing is in flight on an idle client, so nothing is lost here.
  openPools.add(pool);
  pool.on('error', (error) => {
    console.warn(JSON.stringify({ level: 'warn', message: 'idle database connection closed', error: describe(error) }));
  });
  return pool;
}

const openPools = new Set<Pool>();

/** Session settings of every connection: how PostgreSQL prints and reads values in COPY text. */
export const SESSION_OPTIONS = '-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=postgres -c extra_float_digits=1 -c bytea_output=hex';

/** Ends every pool this process opened (the local runtime, before it stops its database). */
export async function closeAllPools(): Promise<void> {
  const pools = [...openPools];
  openPools.clear();
  await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
}

/** Run `fn` on one checked-out client; a client that failed mid-use is destroyed, not reused. */
export async function withClient<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const connectionErrors = guardClient(client);
  try {
    const result = await fn(client);
    client.release();
    return result;
  } catch (error) {
    client.release(connectionErrors.length > 0 ? connectionErrors[0] : (error as Error));
    throw error;
  }
}

/**
 * BEGIN (or the given `begin`, e.g. with an isolation level) … COMMIT on one client, ROLLBACK on
 * any error. Every statement of a transaction runs on the client handed to `fn`.
 */
export async function inTransaction<T>(client: PoolClient, fn: (client: PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  await client.query(begin);
  try {
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // If the connection itself is gone the server has already rolled back; report the first error.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * A value as an SQL literal, for the statements a worker sends together in one simple-query round
 * trip (that protocol takes no parameters): text quoted by pg's escapeLiteral, integers checked.
 */
export function sqlLiteral(value: string | number | bigint | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`${value} is not an integer`);
    return String(value);
  }
  return pg.escapeLiteral(value);
}

/** Runs several `;`-separated statements in one round trip and returns each statement's result. */
export async function queryAll(client: PoolClient, sql: string): Promise<pg.QueryResult[]> {
  const results = (await client.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
  return Array.isArray(results) ? results : [results];
}

/**
 * A checked-out pg client emits 'error' when its connection dies (a terminated backend); unhandled,
 * that would crash the process. Keep the error: the failing query or stream reports it too.
 */
export function guardClient(client: PoolClient): Error[] {
  const errors: Error[] = [];
  const onError = (error: Error) => errors.push(error);
  client.on('error', onError);
  const release = client.release.bind(client);
  client.release = (err?: Error | boolean) => {
    client.removeListener('error', onError);
    return release(err);
  };
  return errors;
}

function tlsOptions(config: DatabaseConfig): pg.ClientConfig['ssl'] {
  if (config.tls === 'disable') return undefined;
  if (config.tls === 'require') return { rejectUnauthorized: false };
  if (config.caFile === undefined) {
    throw new ConfigError('DATABASE_TLS is verify-full but DATABASE_CA_FILE is not set: point it at the CA bundle (the RDS CA bundle in AWS).');
  }
  try {
    return { rejectUnauthorized: true, ca: readFileSync(config.caFile, 'utf8') };
  } catch (error) {
    throw new ConfigError(`DATABASE_CA_FILE ${config.caFile} cannot be read (${describe(error)}): ship the CA bundle with the function or fix the path.`);
  }
}

async function fromSecret(config: DatabaseConfig): Promise<pg.ClientConfig> {
  if (config.secretArn === undefined) {
    throw new ConfigError('no database configured: set DATABASE_URL (postgres://user:pass@host:port/db) or DATABASE_SECRET_ARN (an RDS secret).');
  }
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const response = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: config.secretArn }));
  let secret: RdsSecret;
  try {
    secret = JSON.parse(response.SecretString ?? '') as RdsSecret;
  } catch {
    throw new ConfigError(`secret ${config.secretArn} is not JSON: store the RDS secret shape {host, port, username, password, dbname}.`);
  }
  for (const key of ['host', 'username', 'password'] as const) {
    if (typeof secret[key] !== 'string') throw new ConfigError(`secret ${config.secretArn} has no "${key}": store the RDS secret shape {host, port, username, password, dbname}.`);
  }
  // Behind an RDS Proxy the secret still names the database; DATABASE_HOST names the proxy.
  return { host: config.host ?? secret.host, port: Number(secret.port ?? 5432), user: secret.username, password: secret.password, database: secret.dbname ?? 'postgres' };
}

/** A database URL fit for a log line: the password replaced by ***. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(DATABASE_URL)';
  }
}
