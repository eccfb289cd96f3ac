// Installs the peer tools the benchmark compares against (pgcopydb, pgloader) from Debian's
// repository when they are missing: `apt-get update` once per process, then `apt-get install`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface DebianTool {
  /** The command the benchmark runs. */
  readonly command: string;
  /** The Debian package that ships it. */
  readonly debianPackage: string;
}

export const PGCOPYDB: DebianTool = { command: 'pgcopydb', debianPackage: 'pgcopydb' };
export const PGLOADER: DebianTool = { command: 'pgloader', debianPackage: 'pgloader' };

export type Installed = { readonly path: string } | { readonly missing: string };

let updated = false;

/** The tool's path, installing its package first when it is not on PATH; or why it is missing. */
export function ensureDebianTool(tool: DebianTool, log: (line: string) => void = () => {}): Installed {
  const found = onPath(tool.command);
  if (found) return { path: found };
  if (process.getuid?.() !== 0) {
    return { missing: `${tool.command} is not installed and this process is not root: install it (sudo apt-get install ${tool.debianPackage}) and run again` };
  }
  if (!existsSync('/usr/bin/apt-get')) return { missing: `${tool.command} is not installed and there is no apt-get here: install ${tool.debianPackage} by hand` };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!updated) {
    log('apt-get update');
    const update = spawnSync('apt-get', ['update', '-qq'], { env, encoding: 'utf8' });
    if (update.status !== 0) return { missing: `apt-get update failed (${update.stderr.trim()}): fix the package sources, then install ${tool.debianPackage}` };
    updated = true;
  }
  log(`apt-get install ${tool.debianPackage}`);
  const install = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', tool.debianPackage], { env, encoding: 'utf8' });
  if (install.status !== 0) {
    return { missing: `apt-get install ${tool.debianPackage} failed: ${install.stderr.trim().split('\n').slice(-3).join(' ')}` };
  }
  const installed = onPath(tool.command);
  return installed ? { path: installed } : { missing: `${tool.debianPackage} installed but ${tool.command} is not on PATH` };
}

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const candidate = join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
