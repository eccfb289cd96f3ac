// The run ledger's DDL, applied idempotently by whoever touches the ledger first. Each migration
// runs once, in order, under an advisory lock so concurrent cold starts do not race.
import { inTransaction, type PoolClient } from './db.ts';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE etl.runs (
     run_id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
     pipeline        text NOT NULL,
     mode            text NOT NULL CHECK (mode IN ('full', 'incremental')),
     status          text NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled')),
     source_table    text NOT NULL,
     target_table    text NOT NULL,
     key_column      text NOT NULL,
     chunk_rows      integer NOT NULL,
     lo              bigint NOT NULL,
     hi              bigint,
     high_water_mark bigint,
     rows_planned    bigint NOT NULL DEFAULT 0,
     chunks_total    integer NOT NULL DEFAULT 0,
     chunks_done     integer NOT NULL DEFAULT 0,
     chunks_failed   integer NOT NULL DEFAULT 0,
     chunks_enqueued integer NOT NULL DEFAULT 0,
     enqueue_complete boolean NOT NULL DEFAULT false,
     rows_read       bigint,
     rows_written    bigint,
     rows_rejected   bigint,
     retries         integer,
     created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
     planned_at      timestamptz,
     enqueued_at     timestamptz,
     heartbeat_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
     finished_at     timestamptz,
     last_error      text
   )`,
  // One active run per pipeline: a second trigger loses this race and joins the active run.
  `CREATE UNIQUE INDEX runs_one_active_per_pipeline ON etl.runs (pipeline) WHERE status = 'running'`,
  `CREATE INDEX runs_by_pipeline ON etl.runs (pipeline, created_at DESC)`,
  `CREATE TABLE etl.chunks (
     run_id        uuid NOT NULL REFERENCES etl.runs ON DELETE CASCADE,
     chunk_no      integer NOT NULL,
     lo            bigint NOT NULL,
     hi            bigint,
     rows_planned  bigint,
     status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
     attempts      integer NOT NULL DEFAULT 0,
     rows_read     bigint,
     rows_written  bigint,
     rows_rejected bigint,
     enqueued_at   timestamptz,
     started_at    timestamptz,
     finished_at   timestamptz,
     duration_ms   integer,
     last_error    text,
     PRIMARY KEY (run_id, chunk_no),
     CHECK (hi IS NULL OR lo < hi)
   )`,
  `CREATE TABLE etl.rejects (
     pipeline    text NOT NULL,
     source_id   bigint NOT NULL,
     run_id      uuid NOT NULL,
     reason      text NOT NULL,
     name        text,
     age         integer,
     rejected_at timestamptz NOT NULL DEFAULT clock_timestamp(),
     PRIMARY KEY (pipeline, source_id)
   )`,
];

/** `hi IS NULL` means the range is unbounded above: 2^63 does not fit a bigint. */
export async function migrateLedger(client: PoolClient): Promise<void> {
  await inTransaction(client, async () => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('pg-fanout ledger'))`);
    await client.query('CREATE SCHEMA IF NOT EXISTS etl');
    await client.query('CREATE TABLE IF NOT EXISTS etl.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ v: number }>('SELECT coalesce(max(version), 0)::int AS v FROM etl.schema_migrations');
    const applied = rows[0]?.v ?? 0;
    for (let version = applied + 1; version <= MIGRATIONS.length; version += 1) {
      await client.query(MIGRATIONS[version - 1]!);
      await client.query('INSERT INTO etl.schema_migrations (version) VALUES ($1)', [version]);
    }
  });
}

/** Whether any pipeline has run against this database yet (the ledger is created on first use). */
export async function ledgerExists(client: PoolClient): Promise<boolean> {
  const { rows } = await client.query<{ present: boolean }>(`SELECT to_regclass('etl.runs') IS NOT NULL AS present`);
  return rows[0]?.present ?? false;
}
