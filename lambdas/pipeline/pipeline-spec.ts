// A pipeline definition checked and normalised into the form the rest of pg-fanout works with:
// columns in declared order with canonical PostgreSQL types, the key as a list, targets as a list.
// Pure; every problem is a ConfigError that names the field and the fix.
import { ConfigError } from '../shared/errors.ts';
import { parseColumnName, parseQualifiedName } from '../shared/sql-identifiers.ts';
import type { RowTransform } from '../transform/row-transform.ts';
import type { SpecLabels } from './resolve-pipeline.ts';
import { normalizePgType } from '../transform/values/index.ts';

export interface ColumnSpec {
  readonly name: string;
  /** As the user wrote it, e.g. `numeric(12,2) not null`. */
  readonly declared: string;
  /** As `format_type` prints it, e.g. `numeric(12,2)`, `text[]`, `timestamp with time zone`. */
  readonly type: string;
  /** The type without modifier or array brackets, e.g. `numeric`, `text`. */
  readonly baseType: string;
  readonly arrayDims: number;
  readonly notNull: boolean;
}

export interface TargetSpecNorm {
  /** The key of `targets` (for a single `target`: the table as written). */
  readonly name: string;
  readonly table: string;
  readonly columns: readonly ColumnSpec[];
  /** Target columns holding the source key, in source key order. */
  readonly sourceKey: readonly string[];
  /** Primary key of a target pg-fanout creates. */
  readonly primaryKey: readonly string[];
}

export interface PipelineSpec {
  readonly name: string;
  readonly source: {
    readonly table: string;
    readonly key: readonly string[];
    /** Every column read, key columns included, in declared order. */
    readonly columns: readonly ColumnSpec[];
  };
  readonly targets: readonly TargetSpecNorm[];
  /** Declared with `target` (the transform returns rows) rather than `targets` (rows by name). */
  readonly singleTarget: boolean;
  readonly transform: (row: never) => unknown;
  readonly fullRefresh: 'shadow' | 'in-place';
  /**
   * The built-in name split's byte-level transform, used instead of decoding rows: it reads the
   * key then `sourceColumns` as raw COPY text and writes the single target's columns after the key.
   */
  readonly rawTransform?: RowTransform;
  /**
   * The transform's source text as Node.js reads the module (what `String(transform)` gives outside a
   * bundle), when the running code is a bundle: minified, its text names imported bindings
   * differently in every bundle, so the worker's and the coordinator's would never agree.
   */
  readonly transformSource?: string;
  /** Recorded under `source -> target` as the catalog names them (the built-in pipeline), not `name`. */
  readonly nameFromTables?: boolean;
  /** How error messages name the fields (the built-in pipeline names its settings). */
  readonly labels?: SpecLabels;
}

const NAME = /^[\p{L}\p{N}_\-.:>/ ]{1,120}$/u;

/** Checks a definition as `definePipeline` received it (plain JS, so every field is checked). */
export function normalizeDefinition(def: Record<string, unknown>): PipelineSpec {
  if (typeof def !== 'object' || def === null) throw new ConfigError('definePipeline: pass an object with name, source, target (or targets) and transform.');
  const name = def.name;
  if (typeof name !== 'string' || !NAME.test(name) || name.trim() !== name) {
    throw new ConfigError(`definePipeline: name ${JSON.stringify(name)} is not a pipeline name: use 1 to 120 letters, digits, spaces and _ - . : > /, e.g. name: 'orders'.`);
  }
  const where = `pipeline ${JSON.stringify(name)}`;
  const source = objectField(def, 'source', where);
  const sourceTable = tableField(source, 'source.table', where);
  const sourceColumns = columnsField(source, 'source.columns', where);
  const rawKey = source.key;
  const key = typeof rawKey === 'string' ? [rawKey] : Array.isArray(rawKey) ? rawKey : undefined;
  if (key === undefined || key.length === 0 || key.some((k) => typeof k !== 'string')) {
    throw new ConfigError(`${where}: source.key must name the key column, or list the columns of a composite key, e.g. key: 'id' or key: ['tenant_id', 'event_id'].`);
  }
  for (const k of key as string[]) {
    if (!sourceColumns.some((c) => c.name === k)) {
      throw new ConfigError(`${where}: source.key column ${JSON.stringify(k)} is not in source.columns (${sourceColumns.map((c) => c.name).join(', ')}): declare it there with its type, e.g. ${k}: 'bigint'.`);
    }
  }
  if (new Set(key).size !== key.length) throw new ConfigError(`${where}: source.key lists a column twice (${key.join(', ')}).`);
  const keyColumns = (key as string[]).map((k) => sourceColumns.find((c) => c.name === k)!);

  const hasTarget = def.target !== undefined;
  const hasTargets = def.targets !== undefined;
  if (hasTarget === hasTargets) {
    throw new ConfigError(`${where}: declare exactly one of target (one table) or targets (several tables by name), not ${hasTarget ? 'both' : 'neither'}.`);
  }
  const targetEntries: [string, Record<string, unknown>][] = hasTarget
    ? [[String((def.target as Record<string, unknown>)?.table ?? 'target'), objectField(def, 'target', where)]]
    : Object.entries(objectField(def, 'targets', where)).map(([n, t]) => {
      if (typeof t !== 'object' || t === null) throw new ConfigError(`${where}: targets.${n} must be an object with table and columns.`);
      return [n, t as Record<string, unknown>];
    });
  if (targetEntries.length === 0) throw new ConfigError(`${where}: targets is empty: declare at least one target table.`);
  const targets = targetEntries.map(([targetName, t]) => {
    const at = hasTarget ? 'target' : `targets.${targetName}`;
    if (!hasTarget && !NAME.test(targetName)) throw new ConfigError(`${where}: target name ${JSON.stringify(targetName)} is not a name: use letters, digits and _ - . :`);
    const table = tableField(t, `${at}.table`, where);
    const columns = columnsField(t, `${at}.columns`, where);
    const sourceKey = listField(t, 'sourceKey', at, where) ?? key as string[];
    if (sourceKey.length !== key.length) {
      throw new ConfigError(`${where}: ${at}.sourceKey has ${sourceKey.length} column(s) but source.key has ${key.length}: list the target columns that hold ${key.join(', ')}, in that order.`);
    }
    sourceKey.forEach((column, i) => {
      const c = columns.find((x) => x.name === column);
      if (c === undefined) {
        throw new ConfigError(
          `${where}: ${at}.columns has no ${JSON.stringify(column)}, which ${at}.sourceKey needs to hold source key ${key[i]}: declare it (e.g. ${column}: '${keyColumns[i]!.type}') or set ${at}.sourceKey to the columns that hold the source key.`,
        );
      }
      if (c.type !== keyColumns[i]!.type) {
        throw new ConfigError(`${where}: ${at}.columns.${column} is declared ${c.type} but holds source key ${key[i]}, which is ${keyColumns[i]!.type}: declare the same type on both sides.`);
      }
    });
    const primaryKey = listField(t, 'primaryKey', at, where) ?? sourceKey;
    for (const column of primaryKey) {
      if (!columns.some((c) => c.name === column)) throw new ConfigError(`${where}: ${at}.primaryKey column ${JSON.stringify(column)} is not in ${at}.columns.`);
    }
    return Object.freeze({ name: targetName, table, columns, sourceKey: Object.freeze(sourceKey), primaryKey: Object.freeze(primaryKey) });
  });
  const tables = new Set<string>();
  for (const t of targets) {
    const id = normalizedTable(t.table);
    if (tables.has(id)) throw new ConfigError(`${where}: two targets write ${t.table}: give each target its own table.`);
    if (id === normalizedTable(sourceTable)) {
      throw new ConfigError(`${where}: target ${t.table} is the source table itself: write to another table (pg-fanout would replace the rows it reads).`);
    }
    tables.add(id);
  }
  if (typeof def.transform !== 'function') {
    throw new ConfigError(`${where}: transform must be a function (row) => target row(s), null or reject(reason).`);
  }
  const fullRefresh = def.fullRefresh ?? 'shadow';
  if (fullRefresh !== 'shadow' && fullRefresh !== 'in-place') {
    throw new ConfigError(`${where}: fullRefresh is ${JSON.stringify(fullRefresh)}: use 'shadow' or 'in-place'.`);
  }
  return Object.freeze({
    name,
    source: Object.freeze({ table: sourceTable, key: Object.freeze([...(key as string[])]), columns: sourceColumns }),
    targets: Object.freeze(targets),
    singleTarget: hasTarget,
    transform: def.transform as (row: never) => unknown,
    fullRefresh,
  });
}

function objectField(o: Record<string, unknown>, field: string, where: string): Record<string, unknown> {
  const value = o[field];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${where}: ${field} must be an object.`);
  return value as Record<string, unknown>;
}

function tableField(o: Record<string, unknown>, field: string, where: string): string {
  const value = o[field.split('.').pop()!];
  if (typeof value !== 'string') throw new ConfigError(`${where}: ${field} must be a table name such as 'public.orders'.`);
  parseQualifiedName(value, `${where}: ${field}`);
  return value;
}

function columnsField(o: Record<string, unknown>, field: string, where: string): readonly ColumnSpec[] {
  const value = o[field.split('.').pop()!];
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length === 0) {
    throw new ConfigError(`${where}: ${field} must map each column name to its PostgreSQL type, e.g. { id: 'bigint', name: 'text' }.`);
  }
  return Object.freeze(Object.entries(value as Record<string, unknown>).map(([column, declared]) => {
    parseColumnName(`"${column.replaceAll('"', '""')}"`, `${where}: ${field}`);
    if (typeof declared !== 'string' || declared.trim() === '') {
      throw new ConfigError(`${where}: ${field}.${column} must be a PostgreSQL type name such as 'text' or 'numeric(12,2) not null'.`);
    }
    return columnSpec(column, declared, `${where}: ${field}.${column}`);
  }));
}

export function columnSpec(name: string, declared: string, where: string): ColumnSpec {
  const notNullMatch = /\s+not\s+null\s*$/i.exec(declared);
  const typeText = notNullMatch === null ? declared.trim() : declared.slice(0, notNullMatch.index).trim();
  let t: ReturnType<typeof normalizePgType>;
  try {
    t = normalizePgType(typeText);
  } catch (error) {
    throw new ConfigError(`${where}: ${(error as Error).message}`);
  }
  return Object.freeze({ name, declared, type: t.canonical, baseType: t.base, arrayDims: t.arrayDims, notNull: notNullMatch !== null });
}

function listField(o: Record<string, unknown>, field: string, at: string, where: string): string[] | undefined {
  const value = o[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string')) {
    throw new ConfigError(`${where}: ${at}.${field} must list column names, e.g. ['order_id', 'line_no'].`);
  }
  return [...value] as string[];
}

/** A table name compared the way PostgreSQL resolves it (unqualified means public here: only to catch obvious clashes). */
function normalizedTable(table: string): string {
  const q = parseQualifiedName(table, 'table');
  return `${q.schema ?? 'public'}.${q.name}`;
}
