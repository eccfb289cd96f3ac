// Creates the targets that do not exist yet, from their declarations: the declared columns and
// types (NOT NULL where declared `not null`) and the primary key. For runs that write the live
// tables (incremental, append, full in place); a shadow full refresh builds them beside instead.
import { inTransaction, type PoolClient } from '../shared/db.ts';
import { quoteIdent } from '../shared/sql-identifiers.ts';
import type { ResolvedPipeline, ResolvedTarget } from './resolve-pipeline.ts';

/** A target column that holds a source key column gets that column's collation, so both sort alike. */
export function keyCollation(p: ResolvedPipeline, t: ResolvedTarget, column: string): string {
  const i = t.sourceKeySql.indexOf(quoteIdent(column));
  const collation = i === -1 ? null : p.key.collations?.[i];
  return collation ? ` COLLATE ${collation}` : '';
}

export async function createMissingTargets(client: PoolClient, p: ResolvedPipeline): Promise<void> {
  const missing = p.targets.filter((t) => !t.exists);
  if (missing.length === 0) return;
  // Two processes may race to create them: CREATE … IF NOT EXISTS alone can still collide, so serialise.
  await inTransaction(client, async () => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('pg-fanout ddl'))`);
    for (const t of missing) {
      const columns = t.columns.map((c) => `${quoteIdent(c.name)} ${c.type}${keyCollation(p, t, c.name)}${c.notNull ? ' NOT NULL' : ''}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${t.table.sql} (${columns.join(', ')}, PRIMARY KEY (${t.primaryKey.map(quoteIdent).join(', ')}))`);
    }
  });
}
