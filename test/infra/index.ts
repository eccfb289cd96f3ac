// Entry point for `node --test test/infra/`: Node 22's test runner resolves a directory argument as
// a module (this package's "main") instead of searching it, so this file imports every
// *.test.ts beside it. `npm test` runs the same files by glob, one process each.
import { readdirSync } from 'node:fs';

const here = new URL('./', import.meta.url);
for (const file of readdirSync(here).filter((name) => name.endsWith('.test.ts')).sort()) {
  await import(new URL(file, here).href);
}
