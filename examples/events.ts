// Events keyed by (tenant_id, event_id), a composite key: chunks are ranges of the pair in its
// btree order. Timestamps are exact to the microsecond: the delivery latency is computed from
// them without a Date in sight, the UTC day and hour bucket them. Test events are filtered out
// (counted, not an error); an event received before it happened is rejected.
//
//   npm start -- --pipeline examples/events.ts
import { definePipeline, reject } from 'pg-fanout';

export default definePipeline({
  name: 'events',
  source: {
    table: 'public.events',
    key: ['tenant_id', 'event_id'],
    columns: {
      tenant_id: 'integer not null',
      event_id: 'bigint not null',
      kind: 'text',
      occurred_at: 'timestamptz not null',
      received_at: 'timestamptz not null',
      payload: 'jsonb',
      is_test: 'boolean',
    },
  },
  target: {
    table: 'public.events_clean',
    columns: {
      tenant_id: 'integer not null',
      event_id: 'bigint not null',
      kind: 'text not null',
      occurred_at: 'timestamptz not null',
      occurred_day: 'date not null',
      occurred_hour: 'smallint not null',
      latency_us: 'bigint not null',
      payload: 'jsonb',
    },
  },
  transform(e) {
    if (e.is_test === true) return null;
    const latency = e.received_at.micros - e.occurred_at.micros;
    if (latency < 0n) return reject('received before it occurred');
    const iso = e.occurred_at.toISOString();
    return {
      tenant_id: e.tenant_id,
      event_id: e.event_id,
      kind: e.kind ?? 'unknown',
      occurred_at: e.occurred_at,
      occurred_day: iso.slice(0, 10),
      occurred_hour: Number(iso.slice(11, 13)),
      latency_us: latency,
      payload: e.payload,
    };
  },
});

/** For `npm start`: events of 50 tenants when there are none. */
export const demo = {
  async seed(db: { query(sql: string, params?: unknown[]): Promise<unknown> }, rows: number): Promise<void> {
    await db.query(`CREATE TABLE public.events (
      tenant_id integer NOT NULL, event_id bigint NOT NULL, kind text, occurred_at timestamptz NOT NULL, received_at timestamptz NOT NULL,
      payload jsonb, is_test boolean, PRIMARY KEY (tenant_id, event_id))`);
    await db.query(
      `INSERT INTO public.events
       SELECT 1 + g % 50, g, (ARRAY['click', 'view', 'buy', NULL])[1 + g % 4],
              timestamptz '2025-12-31 22:00:00.000001+00' + g * interval '1.234567 seconds',
              timestamptz '2025-12-31 22:00:00.000001+00' + g * interval '1.234567 seconds' + CASE WHEN g % 211 = 0 THEN -interval '3 ms' ELSE (g % 977) * interval '1.5 ms' END,
              jsonb_build_object('n', g, 'path', '/p/' || (g % 13)),
              g % 97 = 0
         FROM generate_series(1, $1::int) g`,
      [rows],
    );
    await db.query('ANALYZE public.events');
  },
};
