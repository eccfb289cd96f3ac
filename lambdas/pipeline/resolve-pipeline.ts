// Checks a pipeline against the catalogs of its source and target databases before any data moves:
// tables, declared columns and their types, the key (NOT NULL, a unique index, a btree order), the
// targets (tables, not views; columns pg-fanout must write). Runs only parameterised catalog
// queries, so a hostile name is refused before it reaches SQL text. Read-only on the source.
import { createHash } from 'node:crypto';
import type { PoolClient } from '../shared/db.ts';
import { SchemaError } from '../shared/errors.ts';
import type { KeySql } from '../shared/keys.ts';
import { displayQualified, parseQualifiedName, quoteIdent, quoteQualified, type QualifiedName } from '../shared/sql-identifiers.ts';
import { normalizePgType } from '../transform/values/index.ts';
import type { ColumnSpec, PipelineSpec, TargetSpecNorm } from './pipeline-spec.ts';

/** A declared type the built-in pipeline leaves to the catalog (its key may be of any type). */
export const CATALOG_TYPE = '(as in the catalog)';

export interface TableRef {
  readonly schema: string;
  readonly name: string;
  /** Quoted, schema-qualified. */
  readonly sql: string;
  readonly display: string;
}

export interface ResolvedColumn extends ColumnSpec {
  /** Quoted name. */
  readonly sql: string;
  /** The type to cast text literals to (no modifier). */
  readonly castType: string;
}

export interface ResolvedTarget {
  readonly name: string;
  readonly table: TableRef;
  /** False when pg-fanout has to create it. */
  readonly exists: boolean;
  readonly columns: readonly ResolvedColumn[];
  /** Quoted target columns holding the source key, in key order. */
  readonly sourceKeySql: readonly string[];
  readonly primaryKey: readonly string[];
}

export interface ResolvedPipeline {
  readonly spec: PipelineSpec;
  /** The name runs are recorded under. */
  readonly name: string;
  /** Changes whenever the definition (tables, columns, types, transform) changes. */
  readonly fingerprint: string;
  readonly source: TableRef;
  /** What a chunk selects, in order: the key columns, then the other declared columns. */
  readonly sourceColumns: readonly ResolvedColumn[];
  readonly key: KeySql & { readonly names: readonly string[] };
  readonly targets: readonly ResolvedTarget[];
}

/** Labels for error messages: the built-in pipeline names its settings, a module its fields. */
export interface SpecLabels {
  /** Put before a message: `pipeline "orders": `, or nothing for the built-in pipeline. */
  prefix: string;
  sourceTable: string;
  targetTable: (t: TargetSpecNorm) => string;
  key: string;
  columns: (where: 'source' | TargetSpecNorm) => string;
  /**
   * The columns are declared by pg-fanout itself (the built-in pipeline), not by the user: a fix
   * changes the table or a setting, never a declaration.
   */
  builtIn?: boolean;
}

export function labelsFor(spec: PipelineSpec): SpecLabels {
  const target = (t: TargetSpecNorm) => (spec.singleTarget ? 'target' : `targets.${t.name}`);
  return {
    prefix: `pipeline ${JSON.stringify(spec.name)}: `,
    sourceTable: 'source.table',
    targetTable: (t) => `${target(t)}.table`,
    key: 'source.key',
    columns: (w) => `${w === 'source' ? 'source' : target(w)}.columns`,
  };
}

/**
 * Resolves and checks every name and type. `source` and `target` may be the same connection (one
 * database) or two. Missing targets are reported as `exists: false` for the caller to create.
 */
export async function resolvePipeline(
  source: PoolClient,
  target: PoolClient,
  spec: PipelineSpec,
  options: { sameDatabase: boolean; labels?: SpecLabels },
): Promise<ResolvedPipeline> {
  const labels = options.labels ?? spec.labels ?? labelsFor(spec);
  const at = labels.prefix;
  const sourceName = parseQualifiedName(spec.source.table, `${at}${labels.sourceTable}`);
  const sourceTable = await findTable(source, sourceName);
  if (sourceTable === undefined) {
    throw new SchemaError(
      `${at}${labels.sourceTable} ${displayQualified(sourceName)} does not exist (or is not a table) in database ${await currentDatabase(source)}: create it or set ${labels.sourceTable} to an existing table.`,
    );
  }
  if (sourceTable.kind === 'v') {
    throw new SchemaError(`${at}${labels.sourceTable} ${sourceTable.display} is a view: pg-fanout splits a table into ranges of a unique key, which needs a table with a unique index.`);
  }
  const catalog = await columnsOf(source, sourceTable.oid);
  for (const k of spec.source.key) {
    if (!catalog.has(k)) {
      throw new SchemaError(
        `${at}${labels.key} ${quoteIdent(k)} is not a column of ${sourceTable.display}: set ${labels.key} to its unique key ` +
          `(it has ${[...catalog.keys()].map(quoteIdent).join(', ')}).`,
      );
    }
  }
  const builtIn = labels.builtIn === true;
  const columns = spec.source.columns.map((c) => checkColumn(c, catalog, sourceTable.display, `${at}${labels.columns('source')}`, 'source', builtIn));
  const keyColumns = spec.source.key.map((k) => columns.find((c) => c.name === k)!);
  for (const k of keyColumns) {
    const info = catalog.get(k.name)!;
    if (!info.notNull) {
      throw new SchemaError(
        `${at}${labels.key} ${quoteIdent(k.name)} of ${sourceTable.display} allows NULL: a row with a NULL key falls in no key range and would never be copied. ` +
          `Make it NOT NULL (ALTER TABLE ${sourceTable.sql} ALTER COLUMN ${quoteIdent(k.name)} SET NOT NULL) or choose a NOT NULL unique key.`,
      );
    }
    if (!info.btree) {
      throw new SchemaError(`${at}${labels.key} ${quoteIdent(k.name)} of ${sourceTable.display} is ${info.type}, which has no btree order: pg-fanout splits on a key it can sort; choose another unique key.`);
    }
  }
  if (!(await hasUniqueIndexOn(source, sourceTable.oid, spec.source.key))) {
    const cols = spec.source.key.map(quoteIdent).join(', ');
    throw new SchemaError(
      `${at}${labels.key} ${spec.source.key.map(quoteIdent).join(', ')} of ${sourceTable.display} has no unique index: pg-fanout splits the table into ranges of that key and needs ` +
        `each key once (and an index to read a range). Add one: ALTER TABLE ${sourceTable.sql} ADD PRIMARY KEY (${cols}), or name a unique key.`,
    );
  }
  const ordered = [...keyColumns, ...columns.filter((c) => !spec.source.key.includes(c.name))];

  const targets: ResolvedTarget[] = [];
  for (const t of spec.targets) {
    const label = `${at}${labels.targetTable(t)}`;
    const name = parseQualifiedName(t.table, label);
    const found = await findTable(target, name);
    if (found?.kind === 'v' || found?.kind === 'm') {
      throw new SchemaError(`${label} ${found.display} is a ${found.kind === 'v' ? 'view' : 'materialized view'}: pg-fanout writes into tables. Point it at a table, or drop the view so pg-fanout creates the table.`);
    }
    if (found !== undefined && options.sameDatabase && found.oid === sourceTable.oid) {
      throw new SchemaError(`${label} ${found.display} is the source table itself: write to another table (pg-fanout would replace the rows it reads). Nothing was changed.`);
    }
    const resolvedColumns = t.columns.map((c) => (c.type === CATALOG_TYPE ? { ...c, ...keyTypeFor(c, t, spec, keyColumns) } : c));
    let ref: TableRef;
    let targetColumns: ResolvedColumn[];
    if (found === undefined) {
      const schema = name.schema ?? (await currentSchema(target));
      ref = tableRef(schema, name.name);
      targetColumns = resolvedColumns.map((c) => ({ ...c, sql: quoteIdent(c.name), castType: castTypeOf(c.type) }));
    } else {
      ref = found;
      const targetCatalog = await columnsOf(target, found.oid);
      targetColumns = resolvedColumns.map((c) => checkColumn(c, targetCatalog, found.display, `${at}${labels.columns(t)}`, 'target', builtIn));
      const written = new Set(t.columns.map((c) => c.name));
      for (const column of targetCatalog.values()) {
        if (column.required && !written.has(column.name)) {
          throw new SchemaError(
            `${found.display}.${quoteIdent(column.name)} is NOT NULL without a default, and pg-fanout does not write it: every chunk would fail. ` +
              `Give it a default (ALTER TABLE ${found.sql} ALTER COLUMN ${quoteIdent(column.name)} SET DEFAULT …)${builtIn ? ' or drop NOT NULL' : `, drop NOT NULL, or declare it in ${labels.columns(t)}`}.`,
          );
        }
      }
    }
    targets.push({
      name: t.name,
      table: ref,
      exists: found !== undefined,
      columns: targetColumns,
      sourceKeySql: t.sourceKey.map(quoteIdent),
      primaryKey: t.primaryKey,
    });
  }
  const key = {
    names: spec.source.key,
    columns: keyColumns.map((c) => c.sql),
    types: keyColumns.map((c) => c.castType),
    collations: spec.source.key.map((k) => catalog.get(k)!.collation),
  };
  const pipelineName = spec.nameFromTables ? `${sourceTable.display} -> ${targets.map((t) => t.table.display).join(', ')}` : spec.name;
  return { spec, name: pipelineName, fingerprint: fingerprintOf(spec, ordered, targets), source: sourceTable, sourceColumns: ordered, key, targets };
}

/** The built-in pipeline declares its key's type as the catalog's: the target key column gets the source key's type. */
function keyTypeFor(c: ColumnSpec, t: TargetSpecNorm, spec: PipelineSpec, keyColumns: readonly ResolvedColumn[]): Partial<ColumnSpec> {
  const i = t.sourceKey.indexOf(c.name);
  const k = keyColumns[i];
  if (k === undefined) throw new SchemaError(`target column ${c.name} of ${spec.name} has no declared type.`);
  return { type: k.type, baseType: k.baseType, arrayDims: k.arrayDims };
}

/** A hash of everything that decides what a run writes: a run is only resumed by the definition that started it. */
export function fingerprintOf(spec: PipelineSpec, sourceColumns: readonly ResolvedColumn[], targets: readonly ResolvedTarget[]): string {
  const doc = {
    format: 1,
    name: spec.name,
    source: { table: spec.source.table, key: spec.source.key, columns: sourceColumns.map((c) => [c.name, c.type]) },
    targets: targets.map((t) => ({ name: t.name, table: t.table.display, sourceKey: t.sourceKeySql, columns: t.columns.map((c) => [c.name, c.type, c.notNull]) })),
    transform: spec.rawTransform !== undefined ? `builtin:${spec.rawTransform.id}` : (spec.transformSource ?? String(spec.transform)),
  };
  return createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 16);
}

interface FoundTable extends TableRef {
  oid: number;
  kind: string;
}

interface ColumnInfo {
  name: string;
  /** format_type with modifier, e.g. `numeric(12,2)`. */
  type: string;
  /** format_type without modifier: what literals are cast to. */
  bareType: string;
  /** For a domain, its base type (with modifier). */
  baseType: string | null;
  /** The column's collation, quoted and qualified, when it is not the type's default. */
  collation: string | null;
  notNull: boolean;
  /** NOT NULL with no default, identity or generation: a COPY that leaves it out fails. */
  required: boolean;
  generated: boolean;
  btree: boolean;
}

function tableRef(schema: string, name: string): TableRef {
  return { schema, name, sql: quoteQualified({ schema, name }), display: displayQualified({ schema, name }) };
}

async function findTable(client: PoolClient, q: QualifiedName): Promise<FoundTable | undefined> {
  const { rows } = await client.query<{ schema: string; name: string; oid: number; kind: string }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.oid::int8::float8 AS oid, c.relkind::text AS kind
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN LATERAL unnest(pg_catalog.current_schemas(false)) WITH ORDINALITY AS s(nsp, ord) ON s.nsp = n.nspname
      WHERE c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
        AND (n.nspname = $1 OR ($1::text IS NULL AND s.ord IS NOT NULL))
      ORDER BY s.ord NULLS LAST
      LIMIT 1`,
    [q.schema ?? null, q.name],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  return { ...tableRef(row.schema, row.name), oid: row.oid, kind: row.kind };
}

async function columnsOf(client: PoolClient, oid: number): Promise<Map<string, ColumnInfo>> {
  const { rows } = await client.query<ColumnInfo>(
    `SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, pg_catalog.format_type(a.atttypid, NULL) AS "bareType",
            CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END AS "baseType",
            (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_catalog.pg_collation co
               JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
              WHERE co.oid = a.attcollation AND a.attcollation <> t.typcollation) AS collation,
            a.attnotnull AS "notNull",
            a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = '' AS required,
            a.attgenerated <> '' AS generated,
            EXISTS (SELECT FROM pg_catalog.pg_opclass o JOIN pg_catalog.pg_am m ON m.oid = o.opcmethod
                     WHERE m.amname = 'btree' AND o.opcdefault
                       AND o.opcintype IN (a.atttypid, t.typbasetype, CASE WHEN t.typcategory = 'A' THEN 'anyarray'::regtype END,
                                           CASE WHEN t.typtype = 'e' THEN 'anyenum'::regtype END)) AS btree
       FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped`,
    [oid],
  );
  return new Map(rows.map((r) => [r.name, r]));
}

/**
 * A declared column against the catalog: it exists and has the declared type (a declaration without
 * modifier matches any). `builtIn`: the declaration is pg-fanout's, so the fix offered changes the table.
 */
function checkColumn(c: ColumnSpec, catalog: Map<string, ColumnInfo>, table: string, label: string, side: 'source' | 'target', builtIn = false): ResolvedColumn {
  const info = catalog.get(c.name);
  if (info === undefined) {
    const near = [...catalog.keys()].find((n) => n.toLowerCase() === c.name.toLowerCase());
    throw new SchemaError(
      `${label}.${c.name}: ${table} has no column ${quoteIdent(c.name)}${near ? ` (there is ${quoteIdent(near)}: column names are exact, as if quoted)` : ''}: ` +
        (side === 'source'
          ? builtIn ? `add it or set ${label} to a table that has it (it has ${[...catalog.keys()].join(', ')}).` : `declare only columns the table has (it has ${[...catalog.keys()].join(', ')}).`
          : `add it (ALTER TABLE ${table} ADD COLUMN ${quoteIdent(c.name)} ${c.type === CATALOG_TYPE ? 'bigint' : c.type}) or drop the table so pg-fanout creates it.`),
    );
  }
  if (side === 'target' && info.generated) {
    throw new SchemaError(`${label}.${c.name}: ${table}.${quoteIdent(c.name)} is a generated column, which COPY cannot write: leave it out of the declaration.`);
  }
  const resolvedType = c.type === CATALOG_TYPE ? info.type : c.type;
  if (c.type !== CATALOG_TYPE && !typeMatches(c, info)) {
    const change = `(ALTER TABLE ${table} ALTER COLUMN ${quoteIdent(c.name)} TYPE ${c.type})`;
    throw new SchemaError(
      `${label}.${c.name} is declared ${c.type} but ${table}.${quoteIdent(c.name)} is ${info.type}: ` +
        (builtIn
          ? side === 'target' ? `change the column ${change} or drop the table so pg-fanout creates it.` : `convert it ${change} or set ${label} to a table whose ${quoteIdent(c.name)} is ${c.type}.`
          : `declare it as ${info.type}${side === 'target' ? ` or change the column ${change}.` : '.'}`),
    );
  }
  if (side === 'source' && c.notNull && !info.notNull) {
    throw new SchemaError(`${label}.${c.name} is declared not null but ${table}.${quoteIdent(c.name)} allows NULL: drop "not null" from the declaration or add the constraint.`);
  }
  const t = c.type === CATALOG_TYPE ? normalizePgType(info.type) : undefined;
  return {
    ...c,
    ...(t === undefined ? {} : { type: resolvedType, baseType: t.base, arrayDims: t.arrayDims }),
    sql: quoteIdent(c.name),
    castType: info.bareType,
  };
}

function typeMatches(c: ColumnSpec, info: ColumnInfo): boolean {
  for (const actual of [info.type, info.baseType]) {
    if (actual === null) continue;
    if (actual === c.type) return true;
    // A declaration without a modifier accepts any modifier: `numeric` matches numeric(12,2).
    const a = normalizePgType(actual);
    if (a.base === c.baseType && a.arrayDims === c.arrayDims && !/\(/.test(c.type)) return true;
  }
  return false;
}

/** The type text literals are cast to, for a column pg-fanout creates. */
function castTypeOf(type: string): string {
  const t = normalizePgType(type);
  return `${t.base}${'[]'.repeat(t.arrayDims)}`;
}

async function hasUniqueIndexOn(client: PoolClient, oid: number, columns: readonly string[]): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>(
    `SELECT EXISTS (
       SELECT FROM pg_catalog.pg_index i
        WHERE i.indrelid = $1::oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
          AND i.indnkeyatts = cardinality($2::text[])
          AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text) FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey[0:i.indnkeyatts - 1]))
              = (SELECT array_agg(c ORDER BY c) FROM unnest($2::text[]) c)) AS found`,
    [oid, columns],
  );
  return rows[0]?.found ?? false;
}

async function currentSchema(client: PoolClient): Promise<string> {
  const s = (await client.query<{ s: string | null }>('SELECT pg_catalog.current_schema() AS s')).rows[0]?.s;
  if (s == null) throw new SchemaError('no current schema to create the target in: schema-qualify the target table.');
  return s;
}

async function currentDatabase(client: PoolClient): Promise<string> {
  return (await client.query<{ d: string }>('SELECT pg_catalog.current_database() AS d')).rows[0]?.d ?? '?';
}
