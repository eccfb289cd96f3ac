// Orders from a shop's database into a reporting database, in two tables: one row per order, and
// its line items exploded from a jsonb array. Keys are uuids; amounts go from numeric to integer
// cents; the customer's e-mail is pulled out of jsonb; orders without an e-mail or with a negative
// amount are rejected; a currency code the target's varchar(3) cannot hold is refused by the target
// itself and set aside with PostgreSQL's message, while the rest of its chunk commits.
//
//   npm start -- --pipeline examples/orders.ts      (two databases, shop and warehouse, on the embedded server)
import { definePipeline, Numeric, reject, type JsonValue } from 'pg-fanout';

export default definePipeline({
  name: 'orders',
  source: {
    table: 'shop.orders',
    key: 'id',
    columns: {
      id: 'uuid not null',
      customer: 'jsonb',
      amount: 'numeric(12,2)',
      currency: 'text',
      placed_at: 'timestamptz',
      items: 'jsonb',
      tags: 'text[]',
    },
  },
  targets: {
    orders: {
      table: 'public.orders',
      columns: {
        id: 'uuid not null',
        customer_email: 'text not null',
        amount_cents: 'bigint not null',
        currency: 'varchar(3) not null',
        placed_at: 'timestamptz',
        placed_on: 'date',
        tags: 'text[]',
      },
    },
    items: {
      table: 'public.order_items',
      columns: {
        order_id: 'uuid not null',
        line_no: 'integer not null',
        sku: 'text not null',
        quantity: 'integer not null',
        unit_price_cents: 'bigint not null',
      },
      sourceKey: ['order_id'],
      primaryKey: ['order_id', 'line_no'],
    },
  },
  transform(order) {
    const email = field(order.customer, 'email');
    if (typeof email !== 'string' || email === '') return reject('customer has no e-mail');
    if (order.amount === null || order.amount.toScaledBigInt(2) < 0n) return reject('amount is missing or negative');
    const items = Array.isArray(order.items) ? order.items : [];
    return {
      orders: {
        id: order.id,
        customer_email: email.toLowerCase(),
        amount_cents: order.amount.toScaledBigInt(2),
        currency: (order.currency ?? 'EUR').toUpperCase(),
        placed_at: order.placed_at,
        // The UTC day: PostgreSQL prints timestamptz in UTC here, and so does toISOString.
        placed_on: order.placed_at === null ? null : order.placed_at.toISOString().slice(0, 10),
        tags: order.tags,
      },
      items: items.map((item, i) => ({
        order_id: order.id,
        line_no: i + 1,
        sku: String(field(item, 'sku')),
        quantity: Number(field(item, 'qty')),
        unit_price_cents: cents(field(item, 'price')),
      })),
    };
  },
});

function field(value: JsonValue | null, name: string): JsonValue | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Numeric) ? (value as Record<string, JsonValue>)[name] : undefined;
}

/** A JSON price (a number, or a Numeric when a double cannot hold it exactly) in integer cents. */
function cents(price: JsonValue | undefined): bigint {
  if (price instanceof Numeric) return price.toScaledBigInt(2);
  if (typeof price === 'number' || typeof price === 'bigint') return Numeric.parse(String(price)).toScaledBigInt(2);
  throw new Error(`item price ${JSON.stringify(price)} is not a number`);
}

/** For `npm start`: the two databases it runs between, and the shop's orders when there are none. */
export const demo = {
  databases: { source: 'shop', target: 'warehouse' },
  async seed(db: { query(sql: string, params?: unknown[]): Promise<unknown> }, rows: number): Promise<void> {
    await db.query('CREATE SCHEMA IF NOT EXISTS shop');
    await db.query(`CREATE TABLE shop.orders (
      id uuid PRIMARY KEY, customer jsonb, amount numeric(12,2), currency text, placed_at timestamptz, items jsonb, tags text[])`);
    await db.query(
      `INSERT INTO shop.orders
       SELECT md5(g::text)::uuid,
              CASE WHEN g % 250 = 0 THEN '{"name": "no mail"}'::jsonb
                   ELSE jsonb_build_object('email', 'Customer' || (g % 997) || '@Example.com', 'name', 'Customer ' || (g % 997)) END,
              CASE WHEN g % 333 = 0 THEN -1.00 ELSE round((g % 50000) / 7.0, 2) END,
              CASE WHEN g % 400 = 0 THEN 'EURO' WHEN g % 3 = 0 THEN 'usd' ELSE 'eur' END,
              timestamptz '2026-01-01 00:00:00+00' + g * interval '37 seconds 123456 microseconds',
              (SELECT jsonb_agg(jsonb_build_object('sku', 'SKU-' || ((g + i) % 100), 'qty', 1 + (g + i) % 4, 'price', round(((g * i) % 10000) / 100.0, 2)))
                 FROM generate_series(1, g % 4) i),
              CASE WHEN g % 5 = 0 THEN ARRAY['gift', NULL, 'express'] WHEN g % 7 = 0 THEN ARRAY[]::text[] END
         FROM generate_series(1, $1::int) g`,
      [rows],
    );
    await db.query('ANALYZE shop.orders');
  },
};
