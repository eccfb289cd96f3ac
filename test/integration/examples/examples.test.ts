// The example pipelines (examples/), each run end to end as a user runs it — `pg-fanout local
// --pipeline examples/…` in a real process, workers in their own processes, a real PostgreSQL and
// SQS server — then compared row by row with what SQL computes independently from the source.
// Orders run between two databases and into two tables; after the first (full) run, inserts,
// updates and deletes are made and an incremental run must bring the targets exactly up to date.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { splitName } from '../../../lambdas/transform/split-name.ts';

import { demo as eventsDemo } from '../../../examples/events.ts';
import { assertOrdersExact, assertSameRows, rowsOf } from '../../support/orders-check.ts';

const FAST = ['--concurrency', '2', '--chunk-rows', '700', '--worker-timeout', '60'];

describe('examples/orders.ts: uuid keys, numeric, jsonb, two targets, two databases', () => {
  let shop: TestDatabase;
  let warehouse: TestDatabase;
  let env: Record<string, string>;
  before(async () => {
    shop = await createTestDatabase();
    warehouse = await createTestDatabase();
    env = { SOURCE_DATABASE_URL: shop.url, DATABASE_URL: warehouse.url };
  });
  after(async () => {
    await shop?.drop();
    await warehouse?.drop();
  });

  test('a first run moves every order exactly; a later incremental run brings inserts, updates and deletes', async () => {
    const first = await runCli(['local', '--pipeline', 'examples/orders.ts', '--rows', '6000', ...FAST], env);
    assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
    assert.match(first.stdout, /seeding shop\.orders with 6,000 rows of the pipeline module's demo data/);
    assert.match(first.stdout, /run [0-9a-f-]+: completed \(full refresh: built beside the targets, indexed, swapped in\)/);
    const counts = await assertOrdersExact(shop, warehouse);
    assert.ok(counts.orders > 5000 && counts.items > 7000 && counts.rejects > 30, JSON.stringify(counts));
    const refused = await warehouse.query(`SELECT count(*)::int AS n FROM etl.rejects WHERE target = 'orders'`);
    assert.ok(refused.rows[0]!.n >= 10, 'rows the target refused were set aside, their chunk-mates committed');

    await shop.query(`UPDATE shop.orders SET amount = amount + 1, items = '[{"sku": "NEW", "qty": 9, "price": 0.05}]' WHERE abs(hashtext(id::text)) % 10 = 0`);
    await shop.query(`UPDATE shop.orders SET currency = 'eur' WHERE currency = 'EURO' AND abs(hashtext(id::text)) % 2 = 0`);
    await shop.query(`UPDATE shop.orders SET customer = '{}' WHERE abs(hashtext(id::text)) % 50 = 1`);
    await shop.query(`DELETE FROM shop.orders WHERE abs(hashtext(id::text)) % 20 = 3`);
    await shop.query(`INSERT INTO shop.orders SELECT gen_random_uuid(), '{"email": "new@x.io"}', 12.34, 'chf', now(), '[{"sku": "A", "qty": 1, "price": 1.5}]', NULL FROM generate_series(1, 300)`);
    const second = await runCli(['local', '--pipeline', 'examples/orders.ts', ...FAST], env);
    assert.equal(second.code, 0, `${second.stdout}\n${second.stderr}`);
    assert.match(second.stdout, /completed \(incremental: every change since the last run\)/);
    await assertOrdersExact(shop, warehouse);
  });
});

describe('examples/events.ts: a composite key, exact timestamps, filtered and rejected rows', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    await eventsDemo.seed(db, 9000);
  });
  after(async () => db?.drop());

  test('every event lands exactly as SQL computes it; test events are filtered, impossible ones rejected', async () => {
    const r = await runCli(['local', '--pipeline', 'examples/events.ts', ...FAST], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /rows read 9,000, written \d[\d,]*, rejected \d+ \(see etl.rejects\), filtered 92/);
    const expected = await rowsOf(db, `SELECT tenant_id, event_id::text, coalesce(kind, 'unknown') AS kind, occurred_at::text,
        (occurred_at AT TIME ZONE 'UTC')::date::text AS day, extract(hour FROM occurred_at AT TIME ZONE 'UTC')::int AS hour,
        (extract(epoch FROM received_at - occurred_at) * 1000000)::bigint::text AS latency, payload::text
        FROM public.events WHERE is_test IS NOT TRUE AND received_at >= occurred_at`);
    const actual = await rowsOf(db, `SELECT tenant_id, event_id::text, kind, occurred_at::text, occurred_day::text AS day, occurred_hour AS hour,
        latency_us::text AS latency, payload::text FROM public.events_clean`);
    assertSameRows(actual, expected, 'public.events_clean');
    const expectedRejects = await rowsOf(db, `SELECT ARRAY[tenant_id::text, event_id::text]::text AS key FROM public.events WHERE is_test IS NOT TRUE AND received_at < occurred_at`);
    const actualRejects = await rowsOf(db, `SELECT source_key::text AS key FROM etl.rejects WHERE pipeline = 'events' AND reason = 'received before it occurred'`);
    assertSameRows(actualRejects, expectedRejects, 'etl.rejects');
    const chunks = await db.query(`SELECT count(*)::int AS n FROM etl.chunks c JOIN etl.runs r USING (run_id) WHERE r.pipeline = 'events'`);
    assert.ok(chunks.rows[0]!.n >= 12, 'the composite key was split into many chunks');
  });
});

describe('examples/name-split.ts: the name split as a module, on decoded values', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    await db.query(`CREATE TABLE input_table (id bigint PRIMARY KEY, name text, age int)`);
    await db.query(`INSERT INTO input_table SELECT g, CASE WHEN g % 97 = 0 THEN '  ' WHEN g % 89 = 0 THEN NULL WHEN g % 83 = 0 THEN ''
                      WHEN g % 13 = 0 THEN 'Solo' || g WHEN g % 31 = 0 THEN E'Zoë\\u00a0van  der Berg\\t' || g ELSE 'First' || g || ' Last ' || g END,
                      CASE WHEN g % 11 = 0 THEN NULL ELSE g % 90 END FROM generate_series(1, 5000) g`);
  });
  after(async () => db?.drop());

  test('agrees with the built-in split on every row', async () => {
    const r = await runCli(['local', '--pipeline', 'examples/name-split.ts', ...FAST], { DATABASE_URL: db.url });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const input = await db.query<{ id: string; name: string | null; age: number | null }>('SELECT id::text, name, age FROM input_table');
    const out = new Map((await db.query<{ id: string; first_name: string; last_name: string | null; age: number | null }>('SELECT id::text, first_name, last_name, age FROM people')).rows.map((x) => [x.id, x]));
    const rej = new Map((await db.query<{ id: string; reason: string }>(`SELECT source_key[1] AS id, reason FROM etl.rejects WHERE pipeline = 'name split'`)).rows.map((x) => [x.id, x]));
    for (const row of input.rows) {
      const expected = splitName(row.name);
      if ('reject' in expected) {
        assert.equal(rej.get(row.id)?.reason, expected.reject, `reject of ${row.id}`);
        assert.equal(out.has(row.id), false);
      } else {
        assert.deepEqual(out.get(row.id), { id: row.id, first_name: expected.firstName, last_name: expected.lastName, age: row.age }, `row ${row.id}`);
        assert.equal(rej.has(row.id), false);
      }
    }
    assert.equal(out.size + rej.size, input.rows.length);
  });
});


