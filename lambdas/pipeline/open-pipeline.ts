// What both Lambdas (and the CLI) do once per cold start before touching data: load the pipeline,
// open the connections to its source and target databases, migrate the ledger (in the target
// database), resolve the pipeline against both catalogs, and pick the engine that runs its rows.
import type { PipelineConfig } from '../shared/config.ts';
import { openPool, withClient, type Pool } from '../shared/db.ts';
import { migrateLedger } from '../shared/ledger-schema.ts';
import { decodedEngine } from '../transform/decoded-engine.ts';
import { rawEngine } from '../transform/raw-engine.ts';
import type { RowEngine } from '../transform/row-engine.ts';
import type { CopyRow } from '../transform/row-transform.ts';
import { jsonForReject } from '../transform/values/index.ts';
import { loadPipeline } from './load-pipeline.ts';
import type { PipelineSpec } from './pipeline-spec.ts';
import { resolvePipeline, type ResolvedPipeline } from './resolve-pipeline.ts';

export interface OpenedPipeline {
  readonly spec: PipelineSpec;
  readonly pipeline: ResolvedPipeline;
  readonly engine: RowEngine;
  /** Connections to the source (read only). */
  readonly source: Pool;
  /** Connections to the target database (targets and ledger). */
  readonly target: Pool;
  /** One database, and the target's role reads the source: vanished rows are found in SQL. */
  readonly sameDatabase: boolean;
}

export interface OpenOptions {
  applicationName: string;
  sourceConnections: number;
  targetConnections: number;
}

export async function openPipeline(config: PipelineConfig, options: OpenOptions): Promise<OpenedPipeline> {
  const spec = await loadPipeline({ module: config.pipelineModule, tables: config });
  const target = await openPool(config.database, { max: options.targetConnections, applicationName: options.applicationName });
  const source = await openPool(config.sourceDatabase, { max: options.sourceConnections, applicationName: `${options.applicationName}-source` });
  try {
    const pipeline = await withClient(target, async (t) => {
      await migrateLedger(t);
      return withClient(source, (s) => resolvePipeline(s, t, spec, { sameDatabase: config.sameDatabase }));
    });
    const readable = config.sameDatabase && (await withClient(target, async (t) =>
      (await t.query<{ ok: boolean }>(`SELECT has_table_privilege($1, 'SELECT') AS ok`, [pipeline.source.sql])).rows[0]?.ok === true));
    return { spec, pipeline, engine: engineFor(pipeline), source, target, sameDatabase: readable };
  } catch (error) {
    await Promise.all([target.end(), source.end()].map((p) => p.catch(() => undefined)));
    throw error;
  }
}

/** The built-in name split runs on raw bytes; a user's transform on decoded values. */
export function engineFor(p: ResolvedPipeline): RowEngine {
  const columns = p.sourceColumns;
  const rejectJson = (row: CopyRow) =>
    `{${columns.map((c, i) => `${JSON.stringify(c.name)}:${jsonForReject(c.type, row.buf, row.start[i]!, row.end[i]!)}`).join(',')}}`;
  if (p.spec.rawTransform !== undefined) return rawEngine(p.spec.rawTransform, rejectJson);
  return decodedEngine({
    sourceColumns: columns,
    keyFields: p.key.names.length,
    targets: p.targets.map((t) => ({ name: t.name, columns: t.columns })),
    singleTarget: p.spec.singleTarget,
    transform: p.spec.transform,
  });
}
