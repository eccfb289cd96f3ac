// Methods 3 and 4: what a shell user would write without pg-fanout. psql COPY TO STDOUT, piped
// through the C split filter, into psql COPY FROM STDIN: one pipe over the whole table into the
// keyed target, or two pipes side by side (one per half of the key range) into an unindexed
// target that gets its primary key afterwards.
import { spawn } from 'node:child_process';
import pg from 'pg';
import { measure, type PeerContext, type PeerResult } from './measure.ts';

export interface CopyPipeTools {
  /** psql to run (any version that speaks to the server). */
  readonly psql: string;
  /** The compiled bench/peers/split-filter.c. */
  readonly filter: string;
}

// Values reach bash through the environment, never spliced into the script text.
const PIPE_SCRIPT = `set -euo pipefail
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$SOURCE_URL" -c "$COPY_OUT" | "$FILTER" | "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$TARGET_URL" -c "$COPY_IN"`;

const COPY_IN = 'COPY output_table (id, first_name, last_name, age) FROM STDIN';

/** One psql | filter | psql pipe of the rows `where` selects; resolves when all three have exited. */
export function copyPipe(context: PeerContext, tools: CopyPipeTools, where = 'true'): Promise<void> {
  const env = {
    ...process.env,
    PSQL: tools.psql,
    FILTER: tools.filter,
    SOURCE_URL: context.sourceUrl,
    TARGET_URL: context.targetUrl,
    COPY_OUT: `COPY (SELECT id, name, age FROM input_table WHERE ${where}) TO STDOUT`,
    COPY_IN,
  };
  return runScript(PIPE_SCRIPT, env, `psql | split-filter | psql (${where})`);
}

/** Runs a bash script with `env`; resolves when every process of it has exited, rejects with its stderr. */
function runScript(script: string, env: NodeJS.ProcessEnv, label: string): Promise<void> {
  return new Promise((resolvePipe, reject) => {
    const bash = spawn('bash', ['-c', script], { env, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    bash.stderr.on('data', (d: Buffer) => (stderr += d));
    bash.on('error', reject);
    bash.on('close', (code, signal) => {
      if (code === 0) resolvePipe();
      else reject(new Error(`${label} exited ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}

const PLAIN_PIPE_SCRIPT = `set -euo pipefail
"$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$SOURCE_URL" -c "$COPY_OUT" | "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$TARGET_URL" -c "$COPY_IN"`;

/**
 * psql COPY TO STDOUT | psql COPY FROM STDIN with no filter between: what PostgreSQL itself takes to
 * send and receive those rows (its output and input functions, WAL), the floor of any transform.
 */
export function plainPipe(psql: string, urls: { source: string; target: string }, copyOut: string, copyIn: string): Promise<void> {
  const env = { ...process.env, PSQL: psql, SOURCE_URL: urls.source, TARGET_URL: urls.target, COPY_OUT: copyOut, COPY_IN: copyIn };
  return runScript(PLAIN_PIPE_SCRIPT, env, 'psql | psql');
}

/** Method 3: one pipe into the keyed, empty output_table. */
export function singlePipe(context: PeerContext, tools: CopyPipeTools): Promise<PeerResult> {
  return measure(context.dataDir, () => copyPipe(context, tools));
}

/**
 * Method 4: two pipes at once on the two halves of the key range into an output_table without
 * indexes, then `ADD PRIMARY KEY`. Reading the key bounds is part of the command.
 */
export function twoPipesThenPrimaryKey(context: PeerContext, tools: CopyPipeTools): Promise<PeerResult> {
  return measure(context.dataDir, async () => {
    const client = new pg.Client(context.targetUrl);
    await client.connect();
    try {
      const bounds = (await client.query<{ lo: string | null; hi: string | null }>('SELECT min(id)::text AS lo, max(id)::text AS hi FROM input_table')).rows[0]!;
      if (bounds.lo !== null && bounds.hi !== null) {
        // Keys stay bigint: BigInt arithmetic, then validated digits into the SQL text.
        const lo = BigInt(bounds.lo);
        const mid = lo + (BigInt(bounds.hi) - lo) / 2n;
        await Promise.all([copyPipe(context, tools, `id <= ${mid}`), copyPipe(context, tools, `id > ${mid}`)]);
      }
      await client.query('ALTER TABLE output_table ADD PRIMARY KEY (id)');
    } finally {
      await client.end();
    }
  });
}
