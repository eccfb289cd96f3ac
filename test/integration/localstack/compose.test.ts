// localstack/docker-compose.yml and its init scripts, without Docker: the file parses (and passes
// `docker compose config` where Compose is installed), pins an image that runs without an auth
// token while passing one through, mounts the Docker socket Lambda needs, puts the Lambda
// containers on the network where `postgres` lives, and agrees with the names the scripts use. The
// init scripts run for real: the SQL on PostgreSQL, the secret script against a stub `awslocal`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { parseDocument } from 'yaml';
import { COMPOSE_DATABASE, COMPOSE_DATABASE_URL, COMPOSE_FILE, COMPOSE_NETWORK, DATABASE_SECRET_NAME, LOCALSTACK_DIR } from '../../../localstack/environment.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { DEFAULT_TABLES, openTestPool, preparedPipeline } from '../../support/pipeline.ts';

const run = promisify(execFile);

interface Service {
  image: string;
  ports: string[];
  environment: Record<string, string>;
  volumes: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  command?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
  networks: { default: { name: string } };
}

/** `${VAR:-default}` as Compose resolves it with VAR unset. */
const withDefaults = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

describe('localstack/docker-compose.yml', () => {
  let text: string;
  let compose: ComposeFile;
  let localstack: Service;
  let postgres: Service;

  before(async () => {
    text = await readFile(COMPOSE_FILE, 'utf8');
    const doc = parseDocument(text, { uniqueKeys: true, strict: true });
    assert.deepEqual(doc.errors.map((e) => e.message), [], 'the compose file is valid YAML');
    compose = doc.toJS() as ComposeFile;
    localstack = compose.services.localstack!;
    postgres = compose.services.postgres!;
  });

  test('has LocalStack and PostgreSQL, on a fixed network name that LAMBDA_DOCKER_NETWORK names', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['localstack', 'postgres']);
    assert.equal(compose.networks.default.name, COMPOSE_NETWORK);
    assert.equal(localstack.environment.LAMBDA_DOCKER_NETWORK, COMPOSE_NETWORK);
  });

  test('pins the last LocalStack image that runs without an auth token, and passes LOCALSTACK_AUTH_TOKEN through', () => {
    assert.equal(localstack.image, '${LOCALSTACK_IMAGE:-localstack/localstack:4.14.0}');
    assert.equal(localstack.environment.LOCALSTACK_AUTH_TOKEN, '${LOCALSTACK_AUTH_TOKEN:-}');
  });

  test('mounts the Docker socket for Lambda and the ready.d init scripts; publishes only on loopback', () => {
    assert.ok(localstack.volumes.includes('/var/run/docker.sock:/var/run/docker.sock'));
    assert.ok(localstack.volumes.includes('./init/ready.d:/etc/localstack/init/ready.d:ro'));
    assert.deepEqual(localstack.ports.map(withDefaults), ['127.0.0.1:4566:4566']);
    assert.deepEqual(postgres.ports.map(withDefaults), [`127.0.0.1:${COMPOSE_DATABASE.hostPort}:5432`]);
    assert.equal(localstack.environment.LAMBDA_IGNORE_ARCHITECTURE, '1', 'the functions are arm64');
  });

  test('LocalStack waits for a healthy PostgreSQL and is healthy only once its init scripts completed', () => {
    assert.deepEqual(localstack.depends_on, { postgres: { condition: 'service_healthy' } });
    assert.match(localstack.healthcheck!.test.join(' '), /_localstack\/init\/ready .*"completed": \*true/);
    assert.match(postgres.healthcheck!.test.join(' '), /pg_isready -U pgfanout -d pgfanout/);
  });

  test('the credentials agree: PostgreSQL, the secret the init script builds, and the URL the scripts use', () => {
    assert.deepEqual(postgres.environment, { POSTGRES_USER: COMPOSE_DATABASE.user, POSTGRES_PASSWORD: COMPOSE_DATABASE.password, POSTGRES_DB: COMPOSE_DATABASE.database });
    const e = localstack.environment;
    assert.deepEqual(
      { host: e.PG_FANOUT_DB_HOST, port: e.PG_FANOUT_DB_PORT, user: e.PG_FANOUT_DB_USER, password: e.PG_FANOUT_DB_PASSWORD, db: e.PG_FANOUT_DB_NAME, secret: e.PG_FANOUT_SECRET_NAME },
      { host: COMPOSE_DATABASE.serviceHost, port: '5432', user: COMPOSE_DATABASE.user, password: COMPOSE_DATABASE.password, db: COMPOSE_DATABASE.database, secret: DATABASE_SECRET_NAME },
    );
    assert.equal(COMPOSE_DATABASE_URL, 'postgres://pgfanout:pgfanout@127.0.0.1:5433/pgfanout');
    assert.ok(postgres.volumes.includes('./init/postgres:/docker-entrypoint-initdb.d:ro'));
  });

  test('passes `docker compose config` where Docker Compose (v2, or v1 docker-compose) is installed', async (t) => {
    let compose: string[] | undefined;
    for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
      try {
        await run(candidate[0]!, [...candidate.slice(1), 'version']);
        compose = candidate;
        break;
      } catch {
        // not installed: try the next one
      }
    }
    if (compose === undefined) {
      t.skip('Docker Compose is not installed here; the YAML checks above stand in for it');
      return;
    }
    const { stdout } = await run(compose[0]!, [...compose.slice(1), '-f', COMPOSE_FILE, 'config'], { env: { PATH: process.env.PATH ?? '' } });
    const resolved = parseDocument(stdout).toJS() as ComposeFile;
    assert.equal(resolved.services.localstack?.image, 'localstack/localstack:4.14.0');
    assert.equal(resolved.services.localstack?.environment.LOCALSTACK_AUTH_TOKEN, '');
    assert.equal(resolved.networks.default.name, COMPOSE_NETWORK);
  });
});

describe('localstack init scripts', () => {
  let db: TestDatabase;
  let scratch: string;
  before(async () => {
    db = await createTestDatabase();
    scratch = await mkdtemp(join(tmpdir(), 'pg-fanout-init-'));
  });
  after(async () => {
    await db.drop();
    await rm(scratch, { recursive: true, force: true });
  });

  test('every ready.d script is executable and has a shebang (LocalStack runs nothing else)', async () => {
    const dir = join(LOCALSTACK_DIR, 'init', 'ready.d');
    const files = await readdir(dir);
    assert.ok(files.length > 0);
    for (const f of files) {
      const mode = (await stat(join(dir, f))).mode;
      assert.ok(mode & 0o111, `${f} is executable`);
      assert.match(await readFile(join(dir, f), 'utf8'), /^#!\/bin\/bash\n/, `${f} starts with a shebang`);
    }
  });

  test('the secret script creates the RDS-shaped secret from the compose values, and updates it when it exists', async () => {
    // A stand-in for LocalStack's awslocal that records its arguments; `describe-secret` fails
    // the first time (no secret yet) and succeeds the second.
    const calls = join(scratch, 'calls.jsonl');
    await writeFile(join(scratch, 'awslocal'), `#!/bin/bash
node -e 'require("fs").appendFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)) + "\\n")' "${calls}" "$@"
if [ "$2" = describe-secret ]; then [ -f "${scratch}/exists" ]; exit $?; fi
`);
    await chmod(join(scratch, 'awslocal'), 0o755);
    const script = join(LOCALSTACK_DIR, 'init', 'ready.d', '10-database-secret.sh');
    const composeEnv = Object.fromEntries(Object.entries((parseDocument(await readFile(COMPOSE_FILE, 'utf8')).toJS() as ComposeFile).services.localstack!.environment).filter(([k]) => k.startsWith('PG_FANOUT_')));
    const env = { PATH: `${scratch}:${process.env.PATH}`, ...composeEnv };
    const first = await run('bash', [script], { env });
    assert.equal(first.stdout, `pg-fanout: created secret ${DATABASE_SECRET_NAME}\n`);
    await writeFile(join(scratch, 'exists'), '');
    const second = await run('bash', [script], { env });
    assert.equal(second.stdout, `pg-fanout: updated secret ${DATABASE_SECRET_NAME}\n`);

    const recorded = (await readFile(calls, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as string[]);
    assert.deepEqual(recorded.map((c) => c.slice(0, 2)), [
      ['secretsmanager', 'describe-secret'], ['secretsmanager', 'create-secret'], ['secretsmanager', 'describe-secret'], ['secretsmanager', 'put-secret-value'],
    ]);
    const created = recorded[1]!;
    assert.equal(created[created.indexOf('--name') + 1], DATABASE_SECRET_NAME);
    const secret = JSON.parse(created[created.indexOf('--secret-string') + 1]!) as Record<string, unknown>;
    assert.deepEqual(secret, { engine: 'postgres', host: 'postgres', port: 5432, username: 'pgfanout', password: 'pgfanout', dbname: 'pgfanout' });
  });

  test('the PostgreSQL init script makes a source table the pipeline accepts, with rows the spec splits and rejects', async () => {
    const sql = await readFile(join(LOCALSTACK_DIR, 'init', 'postgres', '10-input-table.sql'), 'utf8');
    await db.query(sql);
    const counts = await db.query<{ n: number; nulls: number; blank: number; nbsp: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE name IS NULL)::int AS nulls, count(*) FILTER (WHERE btrim(name) = '')::int AS blank,
              count(*) FILTER (WHERE name LIKE '%' || chr(160) || '%')::int AS nbsp FROM input_table`);
    assert.deepEqual(counts.rows[0], { n: 100_000, nulls: 100, blank: 200, nbsp: 2322 });
    const pool = await openTestPool(db, 1);
    try {
      const p = await preparedPipeline(pool, DEFAULT_TABLES);
      assert.equal(p.name, 'public.input_table -> public.output_table');
      assert.deepEqual(p.targets.map((t) => [t.table.display, t.exists]), [['public.output_table', true]], 'the target was created');
    } finally {
      await pool.end();
    }
  });
});
