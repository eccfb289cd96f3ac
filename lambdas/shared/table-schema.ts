// Resolves the configured source, target and key names against the catalog before any other SQL
// uses them, checks their shape, and creates the target when it is missing.
import type { TableConfig } from './config.ts';
import { inTransaction, type PoolClient } from './db.ts';
import { SchemaError } from './errors.ts';
import { displayQualified, parseColumnName, parseQualifiedName, quoteIdent, quoteQualified, type QualifiedName } from './sql-identifiers.ts';
import type { RowTransform } from '../transform/row-transform.ts';

/** Names checked against the catalog, with their quoted SQL forms. */
export interface ResolvedTables {
  readonly source: { schema: string; name: string; sql: string; display: string };
  readonly target: { schema: string; name: string; sql: string; display: string };
  /** Quoted key column (same name in source and target). */
  readonly keySql: string;
  readonly keyName: string;
  /** Quoted source columns after the key, then quoted target columns after the key. */
  readonly sourceColumnsSql: readonly string[];
  readonly targetColumnsSql: readonly string[];
  /** Identifies the pipeline in the ledger: `source -> target`. */
  readonly pipeline: string;
}

const INTEGER_KEY_TYPES = new Set(['bigint', 'integer', 'smallint']);
const TEXT_TYPES = new Set(['text', 'character varying']);
const INTEGER_TYPES = ['smallint', 'integer', 'bigint'];

interface ColumnInfo {
  name: string;
  type: string;
  /** NOT NULL with no default, identity or generation: a COPY that leaves it out fails. */
  required: boolean;
}

/**
 * Resolve and check every name. Runs only parameterised catalog queries, so a hostile name is
 * refused before it can reach SQL text. With `createTarget`, a missing target is created.
 */
export async function resolveTables(
  client: PoolClient,
  config: TableConfig,
  transform: RowTransform,
  options: { createTarget: boolean },
): Promise<ResolvedTables> {
  const sourceName = parseQualifiedName(config.sourceTable, 'SOURCE_TABLE');
  const targetName = parseQualifiedName(config.targetTable, 'TARGET_TABLE');
  const keyName = parseColumnName(config.keyColumn, 'KEY_COLUMN');

  const source = await findTable(client, sourceName);
  if (source === undefined) {
    throw new SchemaError(
      `SOURCE_TABLE ${displayQualified(sourceName)} does not exist (or is not a table) in database ${await currentDatabase(client)}: create it or set SOURCE_TABLE to an existing table.`,
    );
  }
  const sourceColumns = await columnsOf(client, source);
  const sourceKey = sourceColumns.get(keyName);
  if (sourceKey === undefined) {
    throw new SchemaError(`KEY_COLUMN ${quoteIdent(keyName)} is not a column of ${source.display}: set KEY_COLUMN to its integer key column.`);
  }
  if (!INTEGER_KEY_TYPES.has(sourceKey.type)) {
    throw new SchemaError(`KEY_COLUMN ${quoteIdent(keyName)} of ${source.display} is ${sourceKey.type}: pg-fanout splits on an integer key (bigint, integer or smallint).`);
  }
  if (!(await hasUniqueIndexOn(client, source, keyName))) {
    throw new SchemaError(
      `KEY_COLUMN ${quoteIdent(keyName)} of ${source.display} has no unique index: pg-fanout splits the table into ranges of that key and needs ` +
        `each key once (and an index to read a range). Add one: ALTER TABLE ${source.sql} ADD PRIMARY KEY (${quoteIdent(keyName)}), or set KEY_COLUMN to a unique key.`,
    );
  }
  for (const column of transform.sourceColumns) {
    if (!sourceColumns.has(column)) {
      throw new SchemaError(`${source.display} has no column ${quoteIdent(column)}, which the transform reads: add it or point SOURCE_TABLE at a table that has it.`);
    }
  }

  // Columns the transform passes through (same name on both sides) must fit the target's type.
  for (const column of transform.targetColumns) {
    const from = sourceColumns.get(column.name);
    if (from !== undefined && !fitsInto(from.type, column.type)) {
      throw new SchemaError(
        `${source.display}.${quoteIdent(column.name)} is ${from.type}, which does not fit the target's ${column.type} ${quoteIdent(column.name)}: ` +
          `convert it (ALTER TABLE ${source.sql} ALTER COLUMN ${quoteIdent(column.name)} TYPE ${column.type}) or point SOURCE_TABLE at a view that casts it.`,
      );
    }
  }

  let target = await findTable(client, targetName);
  if (target === undefined) {
    if (!options.createTarget) {
      throw new SchemaError(`TARGET_TABLE ${displayQualified(targetName)} does not exist: run the coordinator first (it creates it) or create it.`);
    }
    target = await createTarget(client, targetName, keyName, transform);
  }
  const targetColumns = await columnsOf(client, target);
  checkTargetColumn(target.display, targetColumns, keyName, ['bigint', 'numeric', sourceKey.type], 'the key');
  for (const column of transform.targetColumns) {
    const allowed = TEXT_TYPES.has(column.type) ? [...TEXT_TYPES] : INTEGER_TYPES.includes(column.type) ? INTEGER_TYPES.slice(INTEGER_TYPES.indexOf(column.type)).concat('numeric') : [column.type];
    checkTargetColumn(target.display, targetColumns, column.name, allowed, column.type);
  }
  const written = new Set([keyName, ...transform.targetColumns.map((c) => c.name)]);
  for (const column of targetColumns.values()) {
    if (column.required && !written.has(column.name)) {
      throw new SchemaError(
        `${target.display}.${quoteIdent(column.name)} is NOT NULL without a default, and pg-fanout does not write it: every chunk would fail. ` +
          `Give it a default (ALTER TABLE ${target.sql} ALTER COLUMN ${quoteIdent(column.name)} SET DEFAULT …) or drop NOT NULL.`,
      );
    }
  }

  return {
    source,
    target,
    keySql: quoteIdent(keyName),
    keyName,
    sourceColumnsSql: transform.sourceColumns.map(quoteIdent),
    targetColumnsSql: transform.targetColumns.map((c) => quoteIdent(c.name)),
    pipeline: `${source.display} -> ${target.display}`,
  };
}

function fitsInto(sourceType: string, targetType: string): boolean {
  if (sourceType === targetType) return true;
  if (TEXT_TYPES.has(targetType)) return TEXT_TYPES.has(sourceType);
  const from = INTEGER_TYPES.indexOf(sourceType);
  const to = INTEGER_TYPES.indexOf(targetType);
  return from !== -1 && to !== -1 && from <= to;
}

function checkTargetColumn(table: string, columns: Map<string, ColumnInfo>, name: string, allowed: string[], wanted: string): void {
  const column = columns.get(name);
  if (column === undefined) {
    throw new SchemaError(`${table} has no column ${quoteIdent(name)} (${wanted}): add it (ALTER TABLE ${table} ADD COLUMN ${quoteIdent(name)} ${allowed[0]}) or drop the table so pg-fanout recreates it.`);
  }
  if (!allowed.includes(column.type)) {
    throw new SchemaError(
      `${table}.${quoteIdent(name)} is ${column.type}, which cannot hold ${wanted}: change it to ${allowed[0]} (ALTER TABLE ${table} ALTER COLUMN ${quoteIdent(name)} TYPE ${allowed[0]}) or drop the table so pg-fanout recreates it.`,
    );
  }
}

interface FoundTable {
  schema: string;
  name: string;
  sql: string;
  display: string;
  oid: number;
}

async function findTable(client: PoolClient, q: QualifiedName): Promise<FoundTable | undefined> {
  const { rows } = await client.query<{ schema: string; name: string; oid: number }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.oid::int8::float8 AS oid
       FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN LATERAL unnest(pg_catalog.current_schemas(false)) WITH ORDINALITY AS s(nsp, ord) ON s.nsp = n.nspname
      WHERE c.relname = $2 AND c.relkind IN ('r', 'p')
        AND (n.nspname = $1 OR ($1::text IS NULL AND s.ord IS NOT NULL))
      ORDER BY s.ord NULLS LAST
      LIMIT 1`,
    [q.schema ?? null, q.name],
  );
  const row = rows[0];
  if (row === undefined) return undefined;
  return { ...row, sql: quoteQualified(row), display: displayQualified(row) };
}

async function columnsOf(client: PoolClient, table: FoundTable): Promise<Map<string, ColumnInfo>> {
  const { rows } = await client.query<ColumnInfo>(
    `SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, NULL) AS type,
            a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = '' AS required
       FROM pg_catalog.pg_attribute a
      WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped`,
    [table.oid],
  );
  return new Map(rows.map((r) => [r.name, r]));
}

async function hasUniqueIndexOn(client: PoolClient, table: FoundTable, column: string): Promise<boolean> {
  const { rows } = await client.query<{ found: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE i.indrelid = $1::oid AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND a.attname = $2) AS found`,
    [table.oid, column],
  );
  return rows[0]?.found ?? false;
}

async function createTarget(client: PoolClient, q: QualifiedName, keyName: string, transform: RowTransform): Promise<FoundTable> {
  const schema = q.schema ?? (await client.query<{ s: string }>('SELECT pg_catalog.current_schema() AS s')).rows[0]?.s;
  if (schema === undefined) throw new SchemaError('no current schema to create TARGET_TABLE in: schema-qualify TARGET_TABLE.');
  const sql = quoteQualified({ schema, name: q.name });
  const columns = transform.targetColumns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
  // Two processes may race to create it: CREATE … IF NOT EXISTS alone can still collide, so serialise.
  await inTransaction(client, async () => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('pg-fanout ddl'))`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${sql} (${quoteIdent(keyName)} bigint PRIMARY KEY, ${columns})`);
  });
  const found = await findTable(client, { schema, name: q.name });
  if (found === undefined) throw new SchemaError(`could not create TARGET_TABLE ${sql}.`);
  return found;
}

async function currentDatabase(client: PoolClient): Promise<string> {
  return (await client.query<{ d: string }>('SELECT pg_catalog.current_database() AS d')).rows[0]?.d ?? '?';
}
