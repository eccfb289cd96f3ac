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
  // Version 2: keys of any type (text arrays: each key column's value as PostgreSQL prints it), user
  // pipelines (their definition's fingerprint, several targets, filtered rows), change capture (the
  // source snapshot each run read after), full refreshes into shadow tables finished by steps.
  `ALTER TABLE etl.runs
     ALTER COLUMN lo DROP NOT NULL,
     ALTER COLUMN lo TYPE text[] USING ARRAY[lo::text],
     ALTER COLUMN hi TYPE text[] USING CASE WHEN hi IS NULL THEN NULL ELSE ARRAY[hi::text] END,
     ALTER COLUMN high_water_mark TYPE text[] USING CASE WHEN high_water_mark IS NULL THEN NULL ELSE ARRAY[high_water_mark::text] END,
     DROP CONSTRAINT IF EXISTS runs_mode_check,
     ADD CONSTRAINT runs_mode_check CHECK (mode IN ('full', 'incremental', 'append')),
     ADD COLUMN fingerprint text,
     ADD COLUMN refresh text CHECK (refresh IN ('shadow', 'in-place')),
     ADD COLUMN phase text NOT NULL DEFAULT 'copy' CHECK (phase IN ('copy', 'build', 'swap')),
     ADD COLUMN targets jsonb NOT NULL DEFAULT '[]',
     ADD COLUMN source_snapshot text,
     ADD COLUMN baseline_snapshot text,
     ADD COLUMN rows_filtered bigint,
     ADD COLUMN rows_deleted bigint,
     ADD COLUMN steps_total integer NOT NULL DEFAULT 0,
     ADD COLUMN steps_done integer NOT NULL DEFAULT 0`,
  `ALTER TABLE etl.chunks
     DROP CONSTRAINT IF EXISTS chunks_check,
     ALTER COLUMN lo DROP NOT NULL,
     ALTER COLUMN lo TYPE text[] USING CASE WHEN lo = -9223372036854775808 THEN NULL ELSE ARRAY[lo::text] END,
     ALTER COLUMN hi TYPE text[] USING CASE WHEN hi IS NULL THEN NULL ELSE ARRAY[hi::text] END,
     ADD COLUMN rows_filtered bigint,
     ADD COLUMN rows_deleted bigint,
     ADD COLUMN target_rows jsonb`,
  `CREATE TABLE etl.run_steps (
     run_id       uuid NOT NULL REFERENCES etl.runs ON DELETE CASCADE,
     step_no      integer NOT NULL,
     kind         text NOT NULL CHECK (kind IN ('build', 'swap')),
     target       text,
     description  text NOT NULL,
     statements   text[] NOT NULL DEFAULT '{}',
     status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
     attempts     integer NOT NULL DEFAULT 0,
     enqueued_at  timestamptz,
     started_at   timestamptz,
     finished_at  timestamptz,
     duration_ms  integer,
     last_error   text,
     PRIMARY KEY (run_id, step_no)
   )`,
  `ALTER TABLE etl.rejects
     ADD COLUMN source_key text[],
     ADD COLUMN source_row jsonb,
     ADD COLUMN chunk_no integer,
     ADD COLUMN target text`,
  `UPDATE etl.rejects SET source_key = ARRAY[source_id::text], source_row = jsonb_build_object('name', name, 'age', age)`,
  `ALTER TABLE etl.rejects
     DROP CONSTRAINT rejects_pkey,
     ALTER COLUMN source_key SET NOT NULL,
     DROP COLUMN source_id,
     DROP COLUMN name,
     DROP COLUMN age,
     ADD PRIMARY KEY (pipeline, source_key, run_id)`,
  `CREATE INDEX rejects_by_run ON etl.rejects (run_id, chunk_no)`,
];

/** `lo`/`hi` NULL mean a range unbounded below/above. */
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
