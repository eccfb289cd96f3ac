// Starts throw-away PostgreSQL servers from the machine's own binaries (Debian's postgresql-NN
// packages): other majors than the embedded 18 for cross-version tests, a primary with a hot
// standby, and the PostgreSQL 15 that pgcopydb and pgloader need in the peer benchmark. Nothing
// here runs in Lambda. As root the servers run as an unprivileged system user, as PostgreSQL
// requires (the embedded server does the same with its `postgres` user).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { PgFanoutError } from '../lambdas/shared/errors.ts';
import { freePort } from './embedded-postgres.ts';

/** A system PostgreSQL could not be found, started, copied or stopped; the message says what to do. */
export class SystemPostgresError extends PgFanoutError {
  override name = 'SystemPostgresError';
}

export interface PostgresBinaries {
  readonly major: number;
  /** The folder holding `postgres`, `initdb`, `pg_ctl`, `pg_basebackup`, `psql`, `pg_dump`. */
  readonly binDir: string;
}

export interface SystemPostgres {
  /** postgres:// URL of the `postgres` database, as the superuser `postgres`. */
  readonly url: string;
  readonly port: number;
  readonly major: number;
  readonly dataDir: string;
  readonly binDir: string;
  /** Started with `replication: true`: a standby can be copied from it. */
  readonly replication: boolean;
  /** Fast shutdown, then the data directory is removed (unless it was given and so is the caller's). */
  stop(): Promise<void>;
}

export interface SystemPostgresOptions {
  /** The major version whose binaries to run (see findPostgresBinaries). */
  major: number;
  /** Data directory, kept after stop(); @default a fresh folder under /tmp, removed by stop() */
  dataDir?: string;
  /** @default a free port on 127.0.0.1 */
  port?: number;
  /** Server settings written into postgresql.conf after the house defaults (which they override). */
  settings?: Readonly<Record<string, string | number | boolean>>;
  /** Make a primary a hot standby can be copied from: wal_level=replica, a `replicator` role, pg_hba lines. @default false */
  replication?: boolean;
  /** Receives initdb's and pg_ctl's output. @default discarded */
  log?: (line: string) => void;
}

export type HotStandbyOptions = Omit<SystemPostgresOptions, 'major' | 'replication'> & {
  /** How long to wait for the standby to catch up with the primary. @default 60_000 */
  timeoutMs?: number;
};

const PASSWORD = 'pg-fanout';
const SUPERUSER = 'postgres';
const REPLICATION_USER = 'replicator';
/** The unprivileged system user servers run as when this process is root. */
export const SERVER_OS_USER = 'pgfanout';

/**
 * The binaries of PostgreSQL `major`: `PG_FANOUT_PG<major>_BIN` when set, else Debian's
 * /usr/lib/postgresql/<major>/bin; without `major`, the newest major installed there. Undefined
 * when there is no `postgres` binary where it should be.
 */
export function findPostgresBinaries(major?: number): PostgresBinaries | undefined {
  if (major === undefined) {
    const majors = safeReaddir('/usr/lib/postgresql').filter((d) => /^\d+$/.test(d)).map(Number).sort((a, b) => b - a);
    for (const m of majors) {
      const found = findPostgresBinaries(m);
      if (found) return found;
    }
    return undefined;
  }
  const binDir = process.env[`PG_FANOUT_PG${major}_BIN`] ?? `/usr/lib/postgresql/${major}/bin`;
  return existsSync(join(binDir, 'postgres')) ? { major, binDir } : undefined;
}

/** The binaries of `major`, or an error that says how to install them. */
export function requirePostgresBinaries(major: number): PostgresBinaries {
  const found = findPostgresBinaries(major);
  if (!found) {
    throw new SystemPostgresError(
      `PostgreSQL ${major} server binaries not found in /usr/lib/postgresql/${major}/bin: install them (Debian: apt-get install postgresql-${major}) or set PG_FANOUT_PG${major}_BIN to the folder that holds \`postgres\``,
    );
  }
  return found;
}

/** initdb (UTF8, locale C, scram passwords) and start a server on 127.0.0.1 with pg_ctl. */
export async function startSystemPostgres(options: SystemPostgresOptions): Promise<SystemPostgres> {
  const { binDir, major } = requirePostgresBinaries(options.major);
  const log = options.log ?? (() => {});
  const owner = serverOwner();
  const { dataDir, temporary } = makeDataDir(options.dataDir, `pg-fanout-pg${major}-`, owner);
  const port = options.port ?? (await freePort());
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      const pwfile = `${dataDir}.pwfile`;
      writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
      if (owner) chownSync(pwfile, owner.uid, owner.gid);
      try {
        await run(join(binDir, 'initdb'), ['-D', dataDir, '--encoding=UTF8', '--locale=C', '--auth=scram-sha-256', `--username=${SUPERUSER}`, `--pwfile=${pwfile}`], owner, log);
      } finally {
        rmSync(pwfile, { force: true });
      }
      if (options.replication) {
        // initdb's sample already allows replication from 127.0.0.1; say so explicitly for the role we make.
        await appendFile(join(dataDir, 'pg_hba.conf'), `\n# pg-fanout system-postgres: streaming replication for hot standbys\nhost replication ${REPLICATION_USER} 127.0.0.1/32 scram-sha-256\n`);
      }
    }
    const replicationSettings: Record<string, string | number> = options.replication ? { wal_level: 'replica', max_wal_senders: 10, wal_keep_size: '256MB', hot_standby: 'on' } : {};
    await writeSettings(dataDir, port, { ...replicationSettings, ...options.settings });
    await pgCtlStart(binDir, dataDir, owner, log);
    const server = handle({ binDir, major, dataDir, port, temporary, owner, replication: options.replication ?? false, log });
    if (options.replication) {
      await withConnection(server.url, async (c) => {
        const exists = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [REPLICATION_USER]);
        if (exists.rowCount === 0) await c.query(`CREATE ROLE ${REPLICATION_USER} LOGIN REPLICATION PASSWORD '${PASSWORD}'`);
      });
    }
    return server;
  } catch (error) {
    await stopQuietly(binDir, dataDir, owner);
    if (temporary) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A hot standby of `primary` (started with `replication: true`): pg_basebackup -R from it, hot
 * standby on, started, and caught up with everything the primary had written when it was called.
 */
export async function startHotStandby(primary: SystemPostgres, options: HotStandbyOptions = {}): Promise<SystemPostgres> {
  if (!primary.replication) {
    throw new SystemPostgresError(`the primary on port ${primary.port} was not started for replication: start it with startSystemPostgres({ major: ${primary.major}, replication: true })`);
  }
  const log = options.log ?? (() => {});
  const owner = serverOwner();
  const { dataDir, temporary } = makeDataDir(options.dataDir, `pg-fanout-pg${primary.major}-standby-`, owner);
  const port = options.port ?? (await freePort());
  const { binDir, major } = primary;
  try {
    await run(
      join(binDir, 'pg_basebackup'),
      ['-h', '127.0.0.1', '-p', String(primary.port), '-U', REPLICATION_USER, '-D', dataDir, '--write-recovery-conf', '--wal-method=stream', '--checkpoint=fast', '--no-sync'],
      owner,
      log,
      { PGPASSWORD: PASSWORD },
    );
    // The copy holds the primary's log and postgresql.conf block; the standby appends its own block, which wins.
    await rm(join(dataDir, 'server.log'), { force: true });
    await writeSettings(dataDir, port, { hot_standby: 'on', ...options.settings });
    await pgCtlStart(binDir, dataDir, owner, log);
    const standby = handle({ binDir, major, dataDir, port, temporary, owner, replication: false, log });
    const inRecovery = await withConnection(standby.url, async (c) => (await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r);
    if (!inRecovery) throw new SystemPostgresError(`the copy of the primary on port ${port} is not in recovery: pg_basebackup --write-recovery-conf did not make it a standby (see ${dataDir}/server.log)`);
    await waitForReplay(standby, primary, options.timeoutMs);
    return standby;
  } catch (error) {
    await stopQuietly(binDir, dataDir, owner);
    if (temporary) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** Waits until `standby` has replayed the primary's WAL up to where it is now (call it after a write). */
export async function waitForReplay(standby: Pick<SystemPostgres, 'url'>, primary: Pick<SystemPostgres, 'url'>, timeoutMs = 60_000): Promise<void> {
  const target = await withConnection(primary.url, async (c) => (await c.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn);
  await withConnection(standby.url, async (c) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await c.query<{ replayed: string | null; caught_up: boolean | null }>(
        'SELECT pg_last_wal_replay_lsn()::text AS replayed, pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught_up',
        [target],
      );
      if (r.rows[0]!.caught_up === true) return;
      if (Date.now() > deadline) {
        throw new SystemPostgresError(`the standby replayed WAL up to ${r.rows[0]!.replayed ?? 'nothing'} but the primary is at ${target} after ${timeoutMs} ms: check the standby's server.log for replication errors`);
      }
      await sleep(20);
    }
  });
}

interface Owner {
  uid: number;
  gid: number;
}

/** As root, the system user the server runs as (created when missing); otherwise this process's user. */
function serverOwner(): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = (): Owner | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', SERVER_OS_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
      const gid = Number(execFileSync('id', ['-g', SERVER_OS_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const existing = lookup();
  if (existing) return existing;
  const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', SERVER_OS_USER], { encoding: 'utf8' });
  // Another process may have made it in the meantime: look again before failing.
  const created = lookup();
  if (!created) {
    throw new SystemPostgresError(`PostgreSQL refuses to run as root and the system user ${SERVER_OS_USER} could not be created (${(made.stderr || made.error?.message || '').trim()}): create it (useradd --system ${SERVER_OS_USER}) or run as a non-root user`);
  }
  return created;
}

function makeDataDir(given: string | undefined, prefix: string, owner: Owner | undefined): { dataDir: string; temporary: boolean } {
  const dataDir = given ? resolve(given) : mkdtempSync(join('/tmp', prefix));
  mkdirSync(dataDir, { recursive: true });
  chmodSync(dataDir, 0o700);
  if (owner) chownSync(dataDir, owner.uid, owner.gid);
  return { dataDir, temporary: given === undefined };
}

/** Appended to postgresql.conf: later lines win, so a standby's block overrides the primary's it copied. */
async function writeSettings(dataDir: string, port: number, settings: Readonly<Record<string, string | number | boolean>>): Promise<void> {
  const all: Record<string, string | number | boolean> = {
    listen_addresses: '127.0.0.1',
    port,
    unix_socket_directories: dataDir,
    max_connections: 100,
    fsync: 'off',
    ...settings,
  };
  const lines = Object.entries(all).map(([name, value]) => {
    if (!/^[a-z_.]+$/.test(name)) throw new SystemPostgresError(`server setting name ${JSON.stringify(name)} is not a setting: use names like shared_buffers`);
    return `${name} = '${String(value).replaceAll("'", "''")}'`;
  });
  await appendFile(join(dataDir, 'postgresql.conf'), `\n# pg-fanout system-postgres (this block wins over anything above)\n${lines.join('\n')}\n`);
}

async function pgCtlStart(binDir: string, dataDir: string, owner: Owner | undefined, log: (line: string) => void): Promise<void> {
  const logFile = join(dataDir, 'server.log');
  try {
    await run(join(binDir, 'pg_ctl'), ['-D', dataDir, '-l', logFile, '-w', '-t', '120', 'start'], owner, log);
  } catch (error) {
    const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
    throw new SystemPostgresError(`PostgreSQL on ${dataDir} did not start: ${(error as Error).message}\nserver.log:\n${tail}`, { cause: error });
  }
  running.set(dataDir, { binDir, owner });
}

interface HandleParts {
  binDir: string;
  major: number;
  dataDir: string;
  port: number;
  temporary: boolean;
  owner: Owner | undefined;
  replication: boolean;
  log: (line: string) => void;
}

function handle(p: HandleParts): SystemPostgres {
  let stopped = false;
  return {
    url: `postgres://${SUPERUSER}:${PASSWORD}@127.0.0.1:${p.port}/postgres`,
    port: p.port,
    major: p.major,
    dataDir: p.dataDir,
    binDir: p.binDir,
    replication: p.replication,
    async stop() {
      if (stopped) return;
      stopped = true;
      await run(join(p.binDir, 'pg_ctl'), ['-D', p.dataDir, '-m', 'fast', '-w', '-t', '120', 'stop'], p.owner, p.log);
      running.delete(p.dataDir);
      if (p.temporary) await rm(p.dataDir, { recursive: true, force: true });
    },
  };
}

async function stopQuietly(binDir: string, dataDir: string, owner: Owner | undefined): Promise<void> {
  if (!existsSync(join(dataDir, 'postmaster.pid'))) return;
  await run(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], owner, () => {}).catch(() => undefined);
  running.delete(dataDir);
}

/**
 * pg_ctl detaches the server from this process, so a test that dies would leave it running: on
 * exit, stop every server still started here (immediate: it is throw-away).
 */
const running = new Map<string, { binDir: string; owner: Owner | undefined }>();
process.once('exit', () => {
  for (const [dataDir, { binDir, owner }] of running) {
    spawnSync(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], { stdio: 'ignore', cwd: '/', ...owner });
  }
});

function run(command: string, args: string[], owner: Owner | undefined, log: (line: string) => void, env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolveRun, reject) => {
    // cwd '/': the server user may not be allowed into this process's working directory.
    const child = spawn(command, args, { cwd: '/', env: { ...process.env, LC_ALL: 'C', ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...owner });
    let output = '';
    const collect = (d: Buffer) => {
      output += d;
      log(String(d));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolveRun();
      else reject(new SystemPostgresError(`${command} ${args.join(' ')} exited ${code ?? signal}: ${output.trim().split('\n').slice(-10).join('\n')}`));
    });
  });
}

/** One connection for `fn`, closed after. */
export async function withConnection<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
