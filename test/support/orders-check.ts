// The whole expected state of examples/orders.ts' two targets and its rejects, computed in SQL on
// the source's side (independently of the pipeline's code) and compared row for row.
import assert from 'node:assert/strict';

interface Db {
  query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

/** Rows as sorted JSON lines, for an exact multiset comparison with a readable diff. */
export async function rowsOf(db: Db, sql: string): Promise<string[]> {
  return (await db.query(sql)).rows.map((r) => JSON.stringify(r)).sort();
}

export function assertSameRows(actual: string[], expected: string[], what: string): void {
  const a = new Set(actual);
  const e = new Set(expected);
  const missing = expected.filter((r) => !a.has(r)).slice(0, 5);
  const extra = actual.filter((r) => !e.has(r)).slice(0, 5);
  assert.deepEqual({ missing, extra, count: actual.length }, { missing: [], extra: [], count: expected.length }, `${what}: rows differ`);
}

export async function assertOrdersExact(shop: Db, warehouse: Db): Promise<{ orders: number; items: number; rejects: number }> {
  const classified = `SELECT o.*, upper(coalesce(currency, 'EUR')) AS cur,
      CASE WHEN coalesce(customer->>'email', '') = '' THEN 'customer has no e-mail'
           WHEN amount IS NULL OR amount < 0 THEN 'amount is missing or negative'
           WHEN length(upper(coalesce(currency, 'EUR'))) > 3 THEN 'refused' END AS why
      FROM shop.orders o`;
  const expectedOrders = await rowsOf(shop, `SELECT id::text, lower(customer->>'email') AS email, (amount * 100)::bigint::text AS cents, cur,
      placed_at::text, (placed_at AT TIME ZONE 'UTC')::date::text AS day, tags::text FROM (${classified}) c WHERE why IS NULL`);
  const actualOrders = await rowsOf(warehouse, `SELECT id::text, customer_email AS email, amount_cents::text AS cents, currency AS cur,
      placed_at::text, placed_on::text AS day, tags::text FROM public.orders`);
  assertSameRows(actualOrders, expectedOrders, 'public.orders');
  const expectedItems = await rowsOf(shop, `SELECT c.id::text, i.n::int AS line, i.item->>'sku' AS sku, (i.item->>'qty')::int AS qty,
      round((i.item->>'price')::numeric * 100)::bigint::text AS cents
      FROM (${classified}) c, jsonb_array_elements(coalesce(c.items, '[]')) WITH ORDINALITY AS i(item, n) WHERE c.why IS NULL`);
  const actualItems = await rowsOf(warehouse, `SELECT order_id::text AS id, line_no AS line, sku, quantity AS qty, unit_price_cents::text AS cents FROM public.order_items`);
  assertSameRows(actualItems, expectedItems, 'public.order_items');
  const expectedRejects = await rowsOf(shop, `SELECT id::text, why FROM (${classified}) c WHERE why IS NOT NULL`);
  const rejects = await warehouse.query<{ id: string; reason: string; target: string | null; source_row: Record<string, unknown> }>(
    `SELECT source_key[1] AS id, reason, target, source_row FROM etl.rejects WHERE pipeline = 'orders'`,
  );
  const actualRejects = rejects.rows.map((r) => JSON.stringify({ id: r.id, why: r.target === null ? r.reason : 'refused' })).sort();
  assertSameRows(actualRejects, expectedRejects, 'etl.rejects');
  for (const r of rejects.rows.filter((x) => x.target !== null)) {
    assert.equal(r.target, 'orders');
    assert.match(r.reason, /^orders refused the row: value too long for type character varying\(3\) \(column currency\)$/);
  }
  for (const r of rejects.rows) assert.equal(r.source_row.id, r.id, 'the raw source row is kept with the reject');
  return { orders: actualOrders.length, items: actualItems.length, rejects: rejects.rows.length };
}
