// Each test file gets its own database on the server the runner started (or DATABASE_URL).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  readonly url: string;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  drop(): Promise<void>;
  /**
   * Waits until every transaction on the server that began before this call has ended. A run's
   * baseline is its snapshot's xmin, the oldest transaction then running anywhere on the server, so
   * a test file writing elsewhere on the shared server makes the next incremental run read rows
   * again (harmless, by design). Call it before a run whose next run's counts are asserted exactly.
   */
  settle(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.PG_FANOUT_TEST_ADMIN_URL ?? process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('no database: run the tests with `npm test`, which starts one, or set DATABASE_URL');
  const name = `pgfanout_test_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  return {
    url: url.toString(),
    query: (sql, params) => pool.query(sql, params),
    async settle() {
      const mine = BigInt((await pool.query<{ x: string }>('SELECT pg_current_xact_id()::text AS x')).rows[0]!.x);
      const deadline = Date.now() + 120_000;
      for (;;) {
        const xmin = BigInt((await pool.query<{ x: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x')).rows[0]!.x);
        if (xmin > mine) return;
        if (Date.now() > deadline) throw new Error(`a transaction older than ${mine} is still running on the server after 2 minutes (xmin ${xmin})`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async drop() {
      await pool.end();
      const a = new pg.Client(adminUrl);
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
