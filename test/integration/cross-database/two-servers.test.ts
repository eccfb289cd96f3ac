// From one database to another, across servers of different major versions: the system's
// PostgreSQL 15 server binaries and the embedded PostgreSQL 18. The source is only read — by a role
// that may do nothing but SELECT the source table, and from a hot standby — and the ledger lives
// with the target. examples/orders.ts (two targets) is run as a user runs it and compared row for
// row with what SQL computes from the source; a worker killed mid-COPY of the second target, a
// loading backend terminated and every message delivered twice out of order still end exact.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { demo as ordersDemo } from '../../../examples/orders.ts';
import { demo as eventsDemo } from '../../../examples/events.ts';
import { findPostgresBinaries, startHotStandby, startSystemPostgres, waitForReplay, type SystemPostgres } from '../../../local/system-postgres.ts';
import { runCli, startCli } from '../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { assertOrdersExact, assertSameRows, rowsOf } from '../../support/orders-check.ts';
import { waitFor, workerSandboxPids } from '../../support/processes.ts';
import { startSqsFaultProxy } from '../../support/sqs-fault-proxy.ts';
import { startTestSqs } from '../../support/sqs.ts';

const RUN = ['local', '--pipeline', 'examples/orders.ts', '--chunk-rows', '1500', '--concurrency', '2', '--worker-timeout', '5'];
const pg15 = findPostgresBinaries(15);
const skip = pg15 === undefined && process.env.PG_FANOUT_REQUIRE_SYSTEM_PG !== '1'
  ? 'the PostgreSQL 15 server binaries are not installed (Debian: apt-get install postgresql-15)'
  : false;

/** A database on a system server, as a small client with `query`. */
async function databaseOn(server: SystemPostgres, name: string, user = 'postgres', password = 'pg-fanout'): Promise<{ url: string; query: pg.Pool['query']; end(): Promise<void> }> {
  const admin = new pg.Client(server.url);
  await admin.connect();
  if ((await admin.query('SELECT FROM pg_database WHERE datname = $1', [name])).rowCount === 0) await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = Object.assign(new URL(server.url), { pathname: `/${name}`, username: user, password }).toString();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  return { url, query: pool.query.bind(pool) as pg.Pool['query'], end: () => pool.end() };
}

async function readerRole(shop: { query: pg.Pool['query'] }): Promise<void> {
  await shop.query(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shop_reader') THEN CREATE ROLE shop_reader LOGIN PASSWORD 'reader'; END IF; END $$`);
  await shop.query(`REVOKE ALL ON SCHEMA public FROM PUBLIC`);
  await shop.query(`GRANT USAGE ON SCHEMA shop TO shop_reader`);
  await shop.query(`GRANT SELECT ON shop.orders TO shop_reader`);
}

async function change(shop: { query: pg.Pool['query'] }): Promise<void> {
  await shop.query(`UPDATE shop.orders SET amount = amount + 1 WHERE abs(hashtext(id::text)) % 9 = 0`);
  await shop.query(`DELETE FROM shop.orders WHERE abs(hashtext(id::text)) % 17 = 5`);
  await shop.query(`INSERT INTO shop.orders SELECT gen_random_uuid(), '{"email": "late@x.io"}', 1.25, 'gbp', now(), '[{"sku": "Z", "qty": 2, "price": 0.1}]', NULL FROM generate_series(1, 150)`);
}

describe('between two servers: PostgreSQL 15 and 18', { skip }, () => {
  let server: SystemPostgres;
  before(async () => {
    server = await startSystemPostgres({ major: 15, replication: true });
  });
  after(async () => server?.stop());

  test('15 -> 18: a source role with nothing but SELECT on the table; a full run, then an incremental one, exact', async () => {
    const shop = await databaseOn(server, 'shop');
    const warehouse = await createTestDatabase();
    try {
      await ordersDemo.seed(shop, 5000);
      await readerRole(shop);
      const reader = await databaseOn(server, 'shop', 'shop_reader', 'reader');
      await assert.rejects(reader.query(`INSERT INTO shop.orders (id) VALUES (gen_random_uuid())`), /permission denied/);
      const env = { SOURCE_DATABASE_URL: reader.url, DATABASE_URL: warehouse.url };
      const first = await runCli(RUN, env);
      assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
      await assertOrdersExact(shop, warehouse);
      await change(shop);
      const second = await runCli(RUN, env);
      assert.equal(second.code, 0, `${second.stdout}\n${second.stderr}`);
      assert.match(second.stdout, /incremental/);
      await assertOrdersExact(shop, warehouse);
      const verify = await runCli(['verify', /run ([0-9a-f-]{36}): completed/.exec(second.stdout)![1]!, '--pipeline', 'examples/orders.ts'], env);
      assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
      assert.match(verify.stdout, /verified: the targets and etl.rejects hold exactly what the pipeline makes of the source/);
      await reader.end();
    } finally {
      await shop.end();
      await warehouse.drop();
    }
  });

  test('18 -> 15: the ledger and the target on the older server', async () => {
    const source = await createTestDatabase();
    const target = await databaseOn(server, 'events_target');
    try {
      await eventsDemo.seed(source, 4000);
      const r = await runCli(['local', '--pipeline', 'examples/events.ts', '--chunk-rows', '700', '--worker-timeout', '5'], { SOURCE_DATABASE_URL: source.url, DATABASE_URL: target.url });
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const expected = await rowsOf(source, `SELECT tenant_id, event_id::text, occurred_at::text, (extract(epoch FROM received_at - occurred_at) * 1000000)::bigint::text AS latency
          FROM public.events WHERE is_test IS NOT TRUE AND received_at >= occurred_at`);
      const actual = await rowsOf(target, `SELECT tenant_id, event_id::text, occurred_at::text, latency_us::text AS latency FROM public.events_clean`);
      assertSameRows(actual, expected, 'events_clean on PostgreSQL 15');
      assert.equal((await target.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v.slice(0, 2), '15');
    } finally {
      await target.end();
      await source.drop();
    }
  });

  test('a hot standby as the source: read-only runs keep up with the primary', async () => {
    const primaryShop = await databaseOn(server, 'standby_shop');
    await ordersDemo.seed(primaryShop, 4000);
    const standby = await startHotStandby(server);
    const warehouse = await createTestDatabase();
    try {
      const onStandby = await databaseOn(standby, 'standby_shop');
      await assert.rejects(onStandby.query(`DELETE FROM shop.orders`), (e: Error & { code?: string }) => e.code === '25006');
      const env = { SOURCE_DATABASE_URL: onStandby.url, DATABASE_URL: warehouse.url };
      const first = await runCli(RUN, env);
      assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
      await assertOrdersExact(primaryShop, warehouse);
      await change(primaryShop);
      await waitForReplay(standby, server);
      const second = await runCli(RUN, env);
      assert.equal(second.code, 0, `${second.stdout}\n${second.stderr}`);
      assert.match(second.stdout, /incremental/);
      await assertOrdersExact(primaryShop, warehouse);
      await onStandby.end();
    } finally {
      await standby.stop();
      await primaryShop.end();
      await warehouse.drop();
    }
  });
});

describe('two targets under faults', () => {
  let shop: TestDatabase;
  let warehouse: TestDatabase;
  before(async () => {
    shop = await createTestDatabase();
    warehouse = await createTestDatabase();
    await ordersDemo.seed(shop, 9000);
  });
  after(async () => {
    await shop?.drop();
    await warehouse?.drop();
  });

  test('a worker killed mid-COPY of the second target, a backend terminated, every message delivered twice out of order: exact in both', async () => {
    const sqs = await startTestSqs();
    const proxy = await startSqsFaultProxy(sqs.endpoint, { duplicateSends: true, reverseOrder: true });
    try {
      const env = { SOURCE_DATABASE_URL: shop.url, DATABASE_URL: warehouse.url, AWS_ENDPOINT_URL_SQS: proxy.endpoint };
      assert.equal((await runCli(RUN, env)).code, 0);
      await assertOrdersExact(shop, warehouse);
      // The second target's COPY now lasts 0.5 s: the faults land in it on any machine.
      await warehouse.query(`CREATE FUNCTION slow_copy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.5); RETURN NULL; END $$`);
      await warehouse.query(`CREATE TRIGGER slow_copy BEFORE INSERT ON public.order_items FOR EACH STATEMENT EXECUTE FUNCTION slow_copy()`);
      await shop.query(`UPDATE shop.orders SET amount = amount + 2`);
      const items = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pg-fanout-worker' AND state = 'active' AND query LIKE 'COPY "public"."order_items"%'`;
      const run = startCli([...RUN, '--mode', 'full', '--in-place'], env);
      await waitFor('a worker mid-COPY of the second target', async () => (await warehouse.query(items)).rows.length > 0);
      for (const victim of workerSandboxPids(run.child.pid!)) process.kill(victim, 'SIGKILL'); // whichever holds the COPY seen dies mid-COPY
      const pid = await waitFor('a backend mid-COPY of the second target', async () => (await warehouse.query(items)).rows[0]?.pid as number | undefined);
      await warehouse.query('SELECT pg_terminate_backend($1)', [pid]);
      const r = await run.done;
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.ok(proxy.batches > 0);
      await assertOrdersExact(shop, warehouse);
      const retried = await warehouse.query(`SELECT count(*)::int AS n FROM etl.chunks c JOIN etl.runs r USING (run_id) WHERE r.refresh = 'in-place' AND c.attempts > 1`);
      assert.ok(retried.rows[0]!.n >= 1, 'the interrupted chunks were attempted again');
    } finally {
      await proxy.stop();
      await sqs.stop();
    }
  });
});
