// The 12-column source of the benchmark's user pipeline (bench/pipelines/wide.ts), generated in
// the database.
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { plainPipe } from './peers/copy-pipe.ts';

export const WIDE_PIPELINE = fileURLToPath(new URL('./pipelines/wide.ts', import.meta.url));

export async function seedWide(url: string, rows: number): Promise<void> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    await c.query('DROP TABLE IF EXISTS wide_src');
    await c.query(`CREATE TABLE wide_src (id bigint PRIMARY KEY, account uuid, amount numeric(12,2), currency text, created_at timestamptz, valid_on date,
                     payload jsonb, tags text[], blob bytea, active boolean, score double precision, qty integer)`);
    await c.query(
      `INSERT INTO wide_src
       SELECT g, md5(g::text)::uuid, round((g % 100000) / 7.0, 2), (ARRAY['eur', 'usd', 'chf'])[1 + g % 3],
              timestamptz '2026-01-01 00:00:00.123456+00' + g * interval '1.000317 seconds', date '2020-01-01' + g % 2000,
              jsonb_build_object('source', 'web', 'n', g, 'ok', g % 2 = 0), ARRAY['a' || g % 7, 'b', NULL],
              decode(lpad(to_hex(g), 8, '0'), 'hex'), g % 3 = 0, (g % 1000) / 1000.0, g % 500
         FROM generate_series(1, $1::int) g`,
      [rows],
    );
    await c.query('VACUUM ANALYZE wide_src');
  } finally {
    await c.end();
  }
}

/**
 * What PostgreSQL itself takes to move the wide source's rows, no transform: psql COPY (the 12
 * columns) TO STDOUT | psql COPY FROM STDIN into a fresh unindexed table of the same columns, as
 * the worker's chunk writes into an unindexed shadow table. Returns rows per second, whole pipe.
 */
export async function wideCopyFloor(psql: string, url: string, rows: number): Promise<number> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    await c.query('DROP TABLE IF EXISTS wide_floor');
    await c.query('CREATE TABLE wide_floor (LIKE wide_src)');
    await c.query('CHECKPOINT');
    const started = performance.now();
    await plainPipe(psql, { source: url, target: url }, 'COPY wide_src TO STDOUT', 'COPY wide_floor FROM STDIN');
    const seconds = (performance.now() - started) / 1000;
    const [{ n }] = (await c.query<{ n: string }>('SELECT count(*)::text AS n FROM wide_floor')).rows as [{ n: string }];
    if (Number(n) !== rows) throw new Error(`the floor pipe moved ${n} of ${rows} rows`);
    await c.query('DROP TABLE wide_floor');
    return rows / seconds;
  } finally {
    await c.end();
  }
}
