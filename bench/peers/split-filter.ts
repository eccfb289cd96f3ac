// Builds bench/peers/split-filter.c with the system's C compiler into bench/results/tmp/ (git
// ignores it) when the binary is missing or older than its source.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('./split-filter.c', import.meta.url));
export const SPLIT_FILTER_PATH = fileURLToPath(new URL('../results/tmp/split-filter', import.meta.url));

/** The compiled filter's path, compiling it first (`cc -O2`) when needed. */
export function ensureSplitFilter(compiler = process.env.CC ?? 'cc'): string {
  const built = mtime(SPLIT_FILTER_PATH);
  if (built !== undefined && built >= mtime(SOURCE)!) return SPLIT_FILTER_PATH;
  mkdirSync(fileURLToPath(new URL('../results/tmp/', import.meta.url)), { recursive: true });
  // Build beside it and rename: a concurrent run never executes a half-written binary.
  const partial = `${SPLIT_FILTER_PATH}.${process.pid}`;
  const cc = spawnSync(compiler, ['-O2', '-Wall', '-Wextra', '-o', partial, SOURCE], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) {
    throw new Error(`could not compile ${SOURCE} with ${compiler} (${cc.error?.message ?? cc.stderr.trim()}): install a C compiler (apt-get install gcc) or set CC`);
  }
  renameSync(partial, SPLIT_FILTER_PATH);
  return SPLIT_FILTER_PATH;
}

function mtime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}
