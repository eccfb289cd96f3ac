// Method 6, for reference: pgloader loading input_table (schema, data, indexes; no transform)
// from one PostgreSQL 15 database into another with a minimal load command file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { measure, type PeerContext, type PeerResult } from './measure.ts';
import { runTool } from './pgcopydb.ts';

export interface PgloaderTools {
  readonly pgloader: string;
  /** Where a fresh folder is made for each run's command file and logs. */
  readonly workRoot: string;
}

/** pgloader wants pgsql:// URLs; the rest of the URL is the same. */
function pgloaderUrl(url: string): string {
  return url.replace(/^postgres(ql)?:/, 'pgsql:');
}

export function loadCommand(sourceUrl: string, targetUrl: string): string {
  return `LOAD DATABASE
     FROM ${pgloaderUrl(sourceUrl)}
     INTO ${pgloaderUrl(targetUrl)}
 INCLUDING ONLY TABLE NAMES MATCHING 'input_table' IN SCHEMA 'public';
`;
}

/** Runs `pgloader <command file>` into an empty target database. */
export async function pgloaderLoad(context: PeerContext, tools: PgloaderTools): Promise<PeerResult> {
  const dir = await mkdtemp(join(tools.workRoot, 'pgloader-'));
  try {
    const commandFile = join(dir, 'input_table.load');
    await writeFile(commandFile, loadCommand(context.sourceUrl, context.targetUrl));
    return await measure(context.dataDir, () => runTool(tools.pgloader, ['--root-dir', dir, '--on-error-stop', commandFile], process.env));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
