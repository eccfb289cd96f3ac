// The swap step of a shadow full refresh: in one short transaction, every target of the pipeline
// is replaced by its shadow table, now loaded and indexed. Readers see the old tables until it
// commits and the new ones after: never a mix, never an empty table. The new tables get back what
// the old ones had: constraint and index names, triggers, row-level security and its policies,
// grants, owner, comment, replica identity, serial sequences, identity values, publications; and
// they come with planner statistics. Runs inside the step's transaction (its ledger row locked),
// which commits it.
import type { PoolClient } from '../shared/db.ts';
import { sqlLiteral } from '../shared/db.ts';
import { SchemaError } from '../shared/errors.ts';
import type { SwapTarget } from './shadow-plan.ts';
import { quoteIdent, readCarriedOver, readTargetObjectsHere } from './target-catalog.ts';

/** How long the swap waits for readers' locks before it gives up this attempt (and retries). */
export const SWAP_LOCK_TIMEOUT_MS = 10_000;

export async function swapShadows(client: PoolClient, pipeline: string, runId: string, swaps: readonly SwapTarget[]): Promise<void> {
  await client.query(`SET LOCAL lock_timeout = ${SWAP_LOCK_TIMEOUT_MS}`);
  // Definitions read from here on name every object with its schema.
  await client.query('SET LOCAL search_path = pg_catalog');
  const ordered = [...swaps].sort((a, b) => `${a.schema}.${a.table}`.localeCompare(`${b.schema}.${b.table}`));
  // Statistics before the new tables go live (after their indexes: expression indexes get theirs
  // too), and before any lock on the old ones: the first queries on a swapped-in table are planned
  // from its own rows, not from the defaults of a never-analyzed table (a hash of every row where a
  // range of an index will do). A sample of 30,000 rows whatever the size: ~0.3 s at 10M.
  for (const s of ordered) await client.query(`ANALYZE ${quoteIdent(s.schema)}.${quoteIdent(s.shadow)}`);
  for (const s of ordered) {
    const shadow = `${quoteIdent(s.schema)}.${quoteIdent(s.shadow)}`;
    const exists = await client.query(`SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`, [s.schema, s.table]);
    if (exists.rowCount! > 0) await client.query(`LOCK TABLE ${quoteIdent(s.schema)}.${quoteIdent(s.table)} IN ACCESS EXCLUSIVE MODE`);
    await client.query(`LOCK TABLE ${shadow} IN ACCESS EXCLUSIVE MODE`);
  }
  for (const s of ordered) await swapOne(client, s);
  await client.query(`DELETE FROM etl.rejects WHERE pipeline = $1 AND run_id <> $2`, [pipeline, runId]);
}

async function swapOne(client: PoolClient, s: SwapTarget): Promise<void> {
  const target = `${quoteIdent(s.schema)}.${quoteIdent(s.table)}`;
  const shadow = `${quoteIdent(s.schema)}.${quoteIdent(s.shadow)}`;
  // A target dropped during the refresh has nothing left to carry over: the new table takes its place.
  const old = await readTargetObjectsHere(client, s.schema, s.table);
  if (old !== undefined && !s.replaces) {
    throw new SchemaError(`${target} was created while the full refresh built its replacement: nothing was swapped; run the refresh again.`);
  }
  const carried = old === undefined ? undefined : await readCarriedOver(client, old.oid);
  if (old !== undefined) {
    if (old.dependents.length > 0) {
      throw new SchemaError(
        `${target} cannot be replaced: ${old.dependents.join('; ')} came to depend on it during the refresh. Nothing was swapped; ` +
          'drop or re-point them and run the refresh again, or run it with --in-place.',
      );
    }
    for (const o of carried!.ownedSequences) await client.query(`ALTER SEQUENCE ${o.sequence} OWNED BY ${shadow}.${quoteIdent(o.column)}`);
    await client.query(`DROP TABLE ${target}`);
  }
  await client.query(`ALTER TABLE ${shadow} RENAME TO ${quoteIdent(s.table)}`);
  // Identity sequences were created with the shadow table's name: they take the target's.
  const named = await client.query<{ name: string }>(
    `SELECT s.relname AS name FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
      WHERE d.refobjid = $1::regclass AND d.refclassid = 'pg_class'::regclass AND starts_with(s.relname, $2)`,
    [target, `${s.shadow}_`],
  );
  for (const { name } of named.rows) {
    await client.query(`ALTER SEQUENCE ${quoteIdent(s.schema)}.${quoteIdent(name)} RENAME TO ${quoteIdent(s.table + name.slice(s.shadow.length))}`);
  }
  const here = (sql: string) => sql.replaceAll('%T', target);
  for (const action of s.actions) await client.query(here(action));
  if (carried === undefined) return;
  for (const trigger of carried.triggers) await client.query(trigger);
  for (const policy of carried.policies) await client.query(here(policy));
  if (carried.rowSecurity.enabled) await client.query(`ALTER TABLE ${target} ENABLE ROW LEVEL SECURITY`);
  if (carried.rowSecurity.forced) await client.query(`ALTER TABLE ${target} FORCE ROW LEVEL SECURITY`);
  if (carried.comment !== null) await client.query(`COMMENT ON TABLE ${target} IS ${sqlLiteral(carried.comment)}`);
  for (const grant of carried.grants) await client.query(here(grant));
  if (carried.replicaIdentity.mode === 'f') await client.query(`ALTER TABLE ${target} REPLICA IDENTITY FULL`);
  if (carried.replicaIdentity.mode === 'n') await client.query(`ALTER TABLE ${target} REPLICA IDENTITY NOTHING`);
  if (carried.replicaIdentity.mode === 'i' && carried.replicaIdentity.index !== null) {
    await client.query(`ALTER TABLE ${target} REPLICA IDENTITY USING INDEX ${quoteIdent(carried.replicaIdentity.index)}`);
  }
  // The new identity sequence has counted the rows loaded; it continues from the larger of that and the old one.
  for (const i of carried.identities) {
    if (i.lastValue === null) continue;
    const seq = (await client.query<{ s: string | null }>(`SELECT pg_get_serial_sequence($1, $2) AS s`, [target, i.column])).rows[0]?.s;
    if (seq == null) continue;
    const old = BigInt(i.lastValue) - (i.isCalled ? 0n : 1n);
    const now = (await client.query<{ v: string }>(`SELECT (CASE WHEN is_called THEN last_value ELSE last_value - 1 END)::text AS v FROM ${seq}`)).rows[0]!.v;
    const next = old > BigInt(now) ? old : BigInt(now);
    if (next >= 1n) await client.query(`SELECT setval($1::regclass, $2::bigint, true)`, [seq, next.toString()]);
  }
  for (const pub of carried.publications) await client.query(`ALTER PUBLICATION ${quoteIdent(pub)} ADD TABLE ${target}`);
  const owner = (await client.query<{ me: string }>('SELECT current_user AS me')).rows[0]?.me;
  if (carried.owner !== '' && carried.owner !== owner) await client.query(`ALTER TABLE ${target} OWNER TO ${quoteIdent(carried.owner)}`);
}
