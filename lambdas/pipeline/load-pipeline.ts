// Finds the pipeline a process runs: one bundled into the Lambda package (registered by the
// bundle's entry before the handler is imported), else the module `PIPELINE_MODULE` / `--pipeline`
// names, else the built-in name split. A module is imported as Node imports it (`.ts` included);
// `import … from 'pg-fanout'` in it resolves to this package wherever the file lives.
import { existsSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TableConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import { nameSplitPipeline } from './builtin-name-split.ts';
import { isPipelineDefinition, type PipelineDefinition } from './define.ts';
import type { PipelineSpec } from './pipeline-spec.ts';

const PACKAGE_ENTRY = new URL('./index.ts', import.meta.url).href;
let bundled: PipelineDefinition | undefined;
let hooked = false;

/**
 * Called by a Lambda bundle's entry with the pipeline it was built with, and its transform's source
 * as the module reads unbundled (the build learns it by importing the module), so the definition's
 * fingerprint is the same in every bundle and outside them.
 */
export function registerBundledPipeline(definition: unknown, transformSource?: string): void {
  if (!isPipelineDefinition(definition)) throw new ConfigError('the bundled pipeline module does not export a pipeline: export default definePipeline({ … }).');
  bundled = transformSource === undefined ? definition : Object.freeze({ ...definition, spec: Object.freeze({ ...definition.spec, transformSource }) });
}

export interface PipelineSource {
  /** A pipeline module's path (relative to the working directory), or undefined for the built-in one. */
  module?: string;
  /** The built-in pipeline's tables. */
  tables: TableConfig;
}

export async function loadPipeline(source: PipelineSource): Promise<PipelineSpec> {
  if (bundled !== undefined) return bundled.spec;
  if (source.module === undefined) return nameSplitPipeline(source.tables);
  return (await importPipelineModule(source.module)).spec;
}

/** Imports a pipeline module and returns its pipeline (the default export, or `pipeline`). */
export async function importPipelineModule(path: string): Promise<PipelineDefinition & { module: Record<string, unknown> }> {
  const file = isAbsolute(path) ? path : resolve(process.cwd(), path);
  if (!existsSync(file)) {
    throw new ConfigError(`pipeline module ${path} does not exist (looked for ${file}): give the path of a module that exports definePipeline(…), e.g. --pipeline examples/orders.ts.`);
  }
  resolvePackageName();
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const e = error as Error;
    const where = e.stack?.split('\n').find((l) => l.includes(file))?.trim();
    throw new ConfigError(`pipeline module ${path} failed to load: ${e.name}: ${e.message}${where ? ` (${where})` : ''}: fix the module and run again.`);
  }
  const candidate = module.default ?? module.pipeline;
  if (!isPipelineDefinition(candidate)) {
    const exported = Object.keys(module);
    throw new ConfigError(
      `pipeline module ${path} does not export a pipeline (it exports ${exported.length > 0 ? exported.join(', ') : 'nothing'}): ` +
        "add `export default definePipeline({ … })` with definePipeline imported from 'pg-fanout'.",
    );
  }
  return Object.assign(Object.create(null) as object, candidate, { module });
}

/** `import … from 'pg-fanout'` works in a pipeline module anywhere on disk, not only inside this package. */
function resolvePackageName(): void {
  if (hooked) return;
  hooked = true;
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier === 'pg-fanout') return { url: PACKAGE_ENTRY, shortCircuit: true };
      return next(specifier, context);
    },
  });
}
