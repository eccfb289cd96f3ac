// Method 5: pgcopydb clone of input_table (schema, data, indexes; no transform) from one database
// to another of a PostgreSQL 15 server. Debian's pgcopydb 0.10 runs pg_dump and pg_restore, which
// must be of the server's major: it finds them through PG_CONFIG (else the one pg_config on PATH),
// so both point at the server's own binaries. Its source and target come from the environment
// variables its manual documents (PGCOPYDB_SOURCE_PGURI, PGCOPYDB_TARGET_PGURI).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { measure, type PeerContext, type PeerResult } from './measure.ts';

export interface PgcopydbTools {
  readonly pgcopydb: string;
  /** The server's bin folder (pg_config, pg_dump, pg_restore, psql of the same major). */
  readonly postgresBinDir: string;
  /** Where a fresh work folder is made for each run. */
  readonly workRoot: string;
}

/** Runs `pgcopydb clone --table-jobs 2 --index-jobs 2` into an empty target database. */
export async function pgcopydbClone(context: PeerContext, tools: PgcopydbTools): Promise<PeerResult> {
  const dir = await mkdtemp(join(tools.workRoot, 'pgcopydb-'));
  try {
    const filters = join(dir, 'filters.ini');
    await writeFile(filters, '[include-only-table]\npublic.input_table\n');
    const env = {
      ...process.env,
      PATH: `${tools.postgresBinDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      PG_CONFIG: join(tools.postgresBinDir, 'pg_config'),
      PGCOPYDB_SOURCE_PGURI: context.sourceUrl,
      PGCOPYDB_TARGET_PGURI: context.targetUrl,
    };
    const args = ['clone', '--table-jobs', '2', '--index-jobs', '2', '--filters', filters, '--dir', join(dir, 'work')];
    return await measure(context.dataDir, () => runTool(tools.pgcopydb, args, env));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs a command to completion; its output is kept for the error when it fails. */
export function runTool(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolveRun();
      else reject(new Error(`${command} ${args.join(' ')} exited ${code ?? signal}:\n${output.trim().split('\n').slice(-25).join('\n')}`));
    });
  });
}
