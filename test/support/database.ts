// Each test file gets its own database on the server the runner started (or DATABASE_URL).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  readonly url: string;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  drop(): Promise<void>;
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
    async drop() {
      await pool.end();
      const a = new pg.Client(adminUrl);
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
