// Which pipeline the Lambda packages run, decided at synth time. With `-c pipeline=FILE` the module
// is imported here once (so a file that does not export a pipeline stops the synth, and its name is
// known for the dashboard), and each function's esbuild entry becomes a small generated module that
// registers it before the handler is evaluated. Without it the handlers are bundled as they are and
// run the built-in name split. The generated files live under cdk.out, never in the sources.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TableConfig } from '../lambdas/shared/config.ts';
import { ConfigError } from '../lambdas/shared/errors.ts';
import { displayQualified, parseQualifiedName } from '../lambdas/shared/sql-identifiers.ts';
import { importPipelineModule } from '../lambdas/pipeline/load-pipeline.ts';
import { isPipelineDefinition } from '../lambdas/pipeline/define.ts';

/** The repository root: NodejsFunction's project root (where package-lock.json is). */
export const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The Lambda handlers, bundled as they are when no pipeline module is given. */
export const WORKER_HANDLER = join(PROJECT_ROOT, 'lambdas/worker/handler.ts');
export const COORDINATOR_HANDLER = join(PROJECT_ROOT, 'lambdas/coordinator/handler.ts');
/** What `import … from 'pg-fanout'` means inside a bundled pipeline module (package.json `exports`). */
export const PACKAGE_ENTRY = join(PROJECT_ROOT, 'lambdas/pipeline/index.ts');
const LOAD_PIPELINE = join(PROJECT_ROOT, 'lambdas/pipeline/load-pipeline.ts');

/**
 * Where the generated entries go. NodejsFunction only bundles an entry under its project root, so
 * this is the repository's cdk.out (git-ignored) whatever `-o` says; one folder per module, so two
 * synths of different pipelines never share a file.
 */
export const GENERATED_ENTRIES_DIR = join(PROJECT_ROOT, 'cdk.out', 'pg-fanout-entries');

/** A pipeline module, imported and checked at synth time. */
export interface BundledPipeline {
  /** Absolute path of the module. */
  readonly file: string;
  /** The export that holds the definition: the default export, else `pipeline` (as the runtime looks). */
  readonly exportName: 'default' | 'pipeline';
  /** The definition's `name`: what the ledger, the logs and the metrics' `Pipeline` dimension call it. */
  readonly name: string;
  /**
   * The transform's source as Node.js reads the module, registered with the bundled definition: the
   * ledger fingerprints a definition by it, and the minified text differs between the two bundles.
   */
  readonly transformSource: string;
}

/** Import the module as the local runtime would; a ConfigError (one line, naming the file and the fix) when it has no pipeline. */
export async function loadBundledPipeline(file: string): Promise<BundledPipeline> {
  const loaded = await importPipelineModule(file);
  const exportName = isPipelineDefinition(loaded.module.default) ? 'default' : 'pipeline';
  if (loaded.spec.nameFromTables) {
    throw new ConfigError(`pipeline module ${file} exports the built-in pipeline: leave -c pipeline empty to run it.`);
  }
  return Object.freeze({ file, exportName, name: loaded.spec.name, transformSource: String(loaded.spec.transform) });
}

/**
 * The built-in pipeline's name as the functions record it: `source -> target`, each table as the
 * catalog prints it. An unqualified table is shown in `public`, where the default search_path finds
 * it; the caller warns about it, since only the catalog knows for sure.
 */
export function builtinPipelineName(tables: TableConfig): { name: string; unqualified: string[] } {
  const unqualified: string[] = [];
  const show = (text: string, key: string) => {
    const q = parseQualifiedName(text, key);
    if (q.schema === undefined) unqualified.push(key);
    return displayQualified({ schema: q.schema ?? 'public', name: q.name });
  };
  return { name: `${show(tables.sourceTable, 'sourceTable')} -> ${show(tables.targetTable, 'targetTable')}`, unqualified };
}

export interface BundleEntries {
  readonly worker: string;
  readonly coordinator: string;
}

/**
 * Write the entries that bundle `pipeline` into the worker and the coordinator. The registration is
 * its own module, imported before the handler: ES modules evaluate their imports in order before
 * their own body, and the worker's module scope starts loading the pipeline at once, so registering
 * in the entry's body would come too late. It also hands over the transform's source as Node.js
 * reads it (see BundledPipeline.transformSource).
 */
export function writeBundleEntries(pipeline: BundledPipeline, dir: string = GENERATED_ENTRIES_DIR): BundleEntries {
  const folder = join(dir, createHash('sha256').update(`${pipeline.file}\0${pipeline.exportName}\0${pipeline.transformSource}`).digest('hex').slice(0, 16));
  const header = `// Generated at synth time by infra/pipeline-bundle.ts for ${pipeline.file}; not to be edited.\n`;
  const spec = (path: string) => JSON.stringify(path);
  writeIfChanged(
    join(folder, 'register-pipeline.ts'),
    header +
      `import { ${pipeline.exportName} as definition } from ${spec(pipeline.file)};\n` +
      `import { registerBundledPipeline } from ${spec(LOAD_PIPELINE)};\n\n` +
      `registerBundledPipeline(definition, ${JSON.stringify(pipeline.transformSource)});\n`,
  );
  const entry = (handler: string) => `${header}import './register-pipeline.ts';\n\nexport { handler } from ${spec(handler)};\n`;
  const worker = join(folder, 'worker.ts');
  const coordinator = join(folder, 'coordinator.ts');
  writeIfChanged(worker, entry(WORKER_HANDLER));
  writeIfChanged(coordinator, entry(COORDINATOR_HANDLER));
  return { worker, coordinator };
}

/** Atomic and idempotent: parallel synths of the same pipeline write the same bytes. */
function writeIfChanged(path: string, text: string): void {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}
