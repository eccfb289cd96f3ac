// Planning a shadow full refresh (the coordinator): for each target a new table beside it with its
// columns, defaults and CHECK / NOT NULL constraints but no index, which the chunks load; then one
// build step per index, unique or primary key, exclusion and foreign key, run in parallel after the
// last chunk; then the swap step. A target other objects depend on (views, foreign keys from other
// tables, functions on its row type), a partitioned one, or one owned by another role is refused up
// front, naming them and the in-place option: nothing is created then.
import type { PoolClient } from '../shared/db.ts';
import { SchemaError } from '../shared/errors.ts';
import type { NewStep, RunTarget } from '../shared/ledger.ts';
import type { ResolvedPipeline, ResolvedTarget } from '../pipeline/resolve-pipeline.ts';
import { keyCollation } from '../pipeline/create-targets.ts';
import { quoteIdent, readTargetObjects, type TargetObjects } from './target-catalog.ts';

export interface IndexBuildSettings {
  /** `maintenance_work_mem` of each build, in MB. */
  readonly memoryMb: number;
  /** `max_parallel_maintenance_workers` of each build. */
  readonly parallelWorkers: number;
}

/** What the swap does per target, recorded in the swap step. `%T` stands for the target, renamed. */
export interface SwapTarget {
  readonly name: string;
  readonly schema: string;
  readonly table: string;
  readonly shadow: string;
  /** Whether a table was there to replace at planning. */
  readonly replaces: boolean;
  readonly actions: readonly string[];
}

export interface ShadowPlan {
  readonly targets: readonly RunTarget[];
  readonly steps: readonly NewStep[];
}

const MAX_NAME_BYTES = 63;

/** A name of at most 63 bytes: `base` cut at a character boundary, then `suffix`. */
export function boundedName(base: string, suffix: string): string {
  let cut = base;
  while (Buffer.byteLength(cut + suffix) > MAX_NAME_BYTES) cut = [...cut].slice(0, -1).join('');
  return cut + suffix;
}

export async function planShadowRefresh(client: PoolClient, p: ResolvedPipeline, runId: string, build: IndexBuildSettings): Promise<ShadowPlan & { objects: Map<string, TargetObjects> }> {
  const tag = runId.replaceAll('-', '').slice(0, 8);
  const settings = [`SET LOCAL maintenance_work_mem = '${Math.floor(build.memoryMb)}MB'`, `SET LOCAL max_parallel_maintenance_workers = ${Math.floor(build.parallelWorkers)}`];
  const targets: RunTarget[] = [];
  const steps: NewStep[] = [];
  const swaps: SwapTarget[] = [];
  const objects = new Map<string, TargetObjects>();
  let n = 0;
  const tmp = () => `pgf_${tag}_${n++}`;
  for (const t of p.targets) {
    const shadow = boundedName(t.table.name, `_pgf_${tag}`);
    const shadowSql = `${quoteIdent(t.table.schema)}.${quoteIdent(shadow)}`;
    targets.push({ name: t.name, schema: t.table.schema, table: t.table.name, shadow });
    const actions: string[] = [];
    const found = await readTargetObjects(client, t.table.schema, t.table.name);
    if (found === undefined) {
      const pk = tmp();
      steps.push({ kind: 'build', target: t.name, description: `primary key of new table ${t.table.display}`, statements: [...settings, `CREATE UNIQUE INDEX ${quoteIdent(pk)} ON ${shadowSql} (${t.primaryKey.map(quoteIdent).join(', ')})`] });
      actions.push(`ALTER TABLE %T ADD CONSTRAINT ${quoteIdent(boundedName(t.table.name, '_pkey'))} PRIMARY KEY USING INDEX ${quoteIdent(pk)}`);
    } else {
      refuseIfNotReplaceable(p, t, found);
      objects.set(t.name, found);
      const exclusions = new Set(found.constraints.filter((c) => c.type === 'x').map((c) => c.name));
      for (const index of found.indexes) {
        if (index.constraint?.type === 'x' || (index.constraint !== null && exclusions.has(index.constraint.name))) continue;
        const name = tmp();
        steps.push({
          kind: 'build', target: t.name, description: `index ${index.name} of ${t.table.display}`,
          statements: [...settings, `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(name)} ON ${shadowSql}${index.tail}`],
        });
        const c = index.constraint;
        if (c === null) actions.push(`ALTER INDEX ${quoteIdent(t.table.schema)}.${quoteIdent(name)} RENAME TO ${quoteIdent(index.name)}`);
        else {
          const timing = c.deferrable ? ` DEFERRABLE INITIALLY ${c.deferred ? 'DEFERRED' : 'IMMEDIATE'}` : '';
          actions.push(`ALTER TABLE %T ADD CONSTRAINT ${quoteIdent(c.name)} ${c.type === 'p' ? 'PRIMARY KEY' : 'UNIQUE'} USING INDEX ${quoteIdent(name)}${timing}`);
        }
      }
      for (const c of found.constraints) {
        const name = tmp();
        steps.push({
          kind: 'build', target: t.name, description: `${c.type === 'f' ? 'foreign key' : 'exclusion constraint'} ${c.name} of ${t.table.display}`,
          statements: [...settings, `ALTER TABLE ${shadowSql} ADD CONSTRAINT ${quoteIdent(name)} ${c.definition}`],
        });
        actions.push(`ALTER TABLE %T RENAME CONSTRAINT ${quoteIdent(name)} TO ${quoteIdent(c.name)}`);
      }
    }
    swaps.push({ name: t.name, schema: t.table.schema, table: t.table.name, shadow, replaces: found !== undefined, actions });
  }
  steps.push({ kind: 'swap', target: null, description: `swap of ${p.targets.map((t) => t.table.display).join(', ')}`, statements: [JSON.stringify(swaps)] });
  return { targets, steps, objects };
}

function refuseIfNotReplaceable(p: ResolvedPipeline, t: ResolvedTarget, found: TargetObjects): void {
  const inPlace = p.spec.rawTransform !== undefined ? 'run it with --in-place' : `set fullRefresh: 'in-place' in the pipeline or run it with --in-place`;
  if (found.partitioned) {
    throw new SchemaError(`${t.table.display} is partitioned (or a partition): a full refresh cannot build a new table beside it and swap it in; ${inPlace} (each chunk's rows are rewritten in place).`);
  }
  if (found.dependents.length > 0) {
    throw new SchemaError(
      `${t.table.display} cannot be replaced by a new table: ${found.dependents.join('; ')} depend${found.dependents.length === 1 ? 's' : ''} on it and would be dropped or broken. ` +
        `Nothing was changed. Drop or re-point them, or ${inPlace} (each chunk's rows are rewritten in the live table).`,
    );
  }
  if (!found.ownedByUs) {
    throw new SchemaError(
      `${t.table.display} is owned by ${found.owner}: a full refresh replaces the table, which only its owner may do. ` +
        `Connect as ${found.owner} (or a member of it), transfer it (ALTER TABLE ${t.table.sql} OWNER TO current_user), or ${inPlace}.`,
    );
  }
}

/** Creates the shadow tables if missing (idempotent: a coordinator that died after recording the run is taken over). */
export async function createShadowTables(client: PoolClient, p: ResolvedPipeline, targets: readonly RunTarget[]): Promise<void> {
  const version = Number((await client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]?.v ?? 0);
  for (const rt of targets) {
    const t = p.targets.find((x) => x.name === rt.name);
    if (t === undefined || rt.shadow === null) continue;
    const shadowSql = `${quoteIdent(rt.schema)}.${quoteIdent(rt.shadow)}`;
    const exists = await client.query(`SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`, [rt.schema, rt.table]);
    if (exists.rowCount === 0) {
      // The primary key's columns are NOT NULL from the start: a NULL is refused row by row as it is
      // loaded (set aside into etl.rejects), not found by a scan of the whole table when the key is
      // added in the swap, under its lock, failing the run.
      const columns = t.columns
        .map((c) => `${quoteIdent(c.name)} ${c.type}${keyCollation(p, t, c.name)}${c.notNull || t.primaryKey.includes(c.name) ? ' NOT NULL' : ''}`)
        .join(', ');
      await client.query(`CREATE TABLE IF NOT EXISTS ${shadowSql} (${columns})`);
      continue;
    }
    const including = ['DEFAULTS', 'GENERATED', 'IDENTITY', 'CONSTRAINTS', 'COMMENTS', 'STORAGE', 'STATISTICS', ...(version >= 140000 ? ['COMPRESSION'] : [])];
    const options = (await client.query<{ o: string[] | null }>(
      `SELECT c.reloptions AS o FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`, [rt.schema, rt.table],
    )).rows[0]?.o;
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${shadowSql} (LIKE ${quoteIdent(rt.schema)}.${quoteIdent(rt.table)} ${including.map((i) => `INCLUDING ${i}`).join(' ')})` +
        (options && options.length > 0 ? ` WITH (${options.join(', ')})` : ''),
    );
  }
}

/** Drops a run's shadow tables (a failed or cancelled shadow refresh); the targets are untouched. */
export async function dropShadowTables(client: PoolClient, targets: readonly RunTarget[]): Promise<void> {
  for (const t of targets) {
    if (t.shadow !== null) await client.query(`DROP TABLE IF EXISTS ${quoteIdent(t.schema)}.${quoteIdent(t.shadow)}`);
  }
}
