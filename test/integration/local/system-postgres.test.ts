// Throw-away servers from the system's PostgreSQL 15 binaries: one answers as 15, and a hot
// standby copied from a primary serves what the primary wrote and refuses writes. Without the
// binaries the tests skip, unless PG_FANOUT_REQUIRE_SYSTEM_PG=1 (CI) makes that a failure.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { findPostgresBinaries, startHotStandby, startSystemPostgres, waitForReplay, type SystemPostgres } from '../../../local/system-postgres.ts';

const MAJOR = 15;
const binaries = findPostgresBinaries(MAJOR);
const required = process.env.PG_FANOUT_REQUIRE_SYSTEM_PG === '1';
const skip = binaries || required ? false : `PostgreSQL ${MAJOR} binaries not found (apt-get install postgresql-${MAJOR}, or set PG_FANOUT_PG${MAJOR}_BIN); PG_FANOUT_REQUIRE_SYSTEM_PG=1 makes this a failure`;

const started: SystemPostgres[] = [];
after(async () => {
  for (const server of started.reverse()) await server.stop();
});

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe(`system PostgreSQL ${MAJOR}`, { skip }, () => {
  test(`the binaries are installed (required by PG_FANOUT_REQUIRE_SYSTEM_PG=1)`, () => {
    assert.ok(binaries, `PostgreSQL ${MAJOR} binaries not found in /usr/lib/postgresql/${MAJOR}/bin: install postgresql-${MAJOR}`);
  });

  test('a started server answers as PostgreSQL 15, with UTF8, C collation and room for 100 connections', async () => {
    const server = await startSystemPostgres({ major: MAJOR });
    started.push(server);
    const [row] = await query<{ v: string; enc: string; coll: string; conns: string }>(
      server.url,
      `SELECT current_setting('server_version_num') AS v, pg_encoding_to_char(encoding) AS enc, datcollate AS coll,
              current_setting('max_connections') AS conns FROM pg_database WHERE datname = 'postgres'`,
    );
    assert.match(row!.v, /^15\d{4}$/);
    assert.equal(row!.enc, 'UTF8');
    assert.equal(row!.coll, 'C');
    assert.ok(Number(row!.conns) >= 100, `max_connections ${row!.conns}`);
    assert.ok(existsSync(join(server.dataDir, `.s.PGSQL.${server.port}`)), 'the unix socket is inside the data directory');

    await server.stop();
    assert.equal(existsSync(server.dataDir), false, 'stop() removes the temporary data directory');
  });

  test('a hot standby serves what the primary wrote after waitForReplay and refuses writes with 25006', async () => {
    const primary = await startSystemPostgres({ major: MAJOR, replication: true });
    started.push(primary);
    const standby = await startHotStandby(primary);
    started.push(standby);
    assert.deepEqual(await query(standby.url, 'SELECT pg_is_in_recovery() AS r'), [{ r: true }]);

    await query(primary.url, `CREATE TABLE written_on_primary AS SELECT g AS id, 'row ' || g AS label FROM generate_series(1, 1000) g`);
    await waitForReplay(standby, primary);
    const rows = await query<{ n: string; last: string }>(standby.url, `SELECT count(*) AS n, max(label) FILTER (WHERE id = 1000) AS last FROM written_on_primary`);
    assert.deepEqual(rows, [{ n: '1000', last: 'row 1000' }]);

    await assert.rejects(query(standby.url, `INSERT INTO written_on_primary VALUES (1001, 'nope')`), (error: { code?: string }) => {
      assert.equal(error.code, '25006', 'read_only_sql_transaction');
      return true;
    });
  });
});
