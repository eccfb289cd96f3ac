// What both Lambdas do once per cold start before touching data: migrate the ledger and resolve
// the configured names against the catalog.
import type { TableConfig } from './config.ts';
import { withClient, type Pool } from './db.ts';
import { migrateLedger } from './ledger-schema.ts';
import { resolveTables, type ResolvedTables } from './table-schema.ts';
import type { RowTransform } from '../transform/row-transform.ts';

export async function preparePipeline(pool: Pool, tables: TableConfig, transform: RowTransform, options: { createTarget: boolean }): Promise<ResolvedTables> {
  return withClient(pool, async (client) => {
    await migrateLedger(client);
    return resolveTables(client, tables, transform, options);
  });
}
