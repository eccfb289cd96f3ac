// The benchmark's user pipeline: twelve source columns of the types users bring (uuid, numeric,
// timestamptz, date, jsonb, text[], bytea, …), every one read, mapped and renamed.
import { definePipeline } from 'pg-fanout';

export default definePipeline({
  name: 'bench wide',
  source: {
    table: 'public.wide_src',
    key: 'id',
    columns: {
      id: 'bigint not null', account: 'uuid', amount: 'numeric(12,2)', currency: 'text', created_at: 'timestamptz', valid_on: 'date',
      payload: 'jsonb', tags: 'text[]', blob: 'bytea', active: 'boolean', score: 'double precision', qty: 'integer',
    },
  },
  target: {
    table: 'public.wide_out',
    columns: {
      id: 'bigint not null', account_id: 'uuid', amount_cents: 'bigint', currency_code: 'text', created: 'timestamptz', valid_from: 'date',
      payload: 'jsonb', labels: 'text[]', attachment: 'bytea', is_active: 'boolean', score_pct: 'double precision', quantity: 'integer',
    },
  },
  transform(r) {
    return {
      id: r.id,
      account_id: r.account,
      amount_cents: r.amount === null ? null : r.amount.toScaledBigInt(2),
      currency_code: r.currency === null ? null : r.currency.toUpperCase(),
      created: r.created_at,
      valid_from: r.valid_on,
      payload: r.payload,
      labels: r.tags,
      attachment: r.blob,
      is_active: r.active,
      score_pct: r.score === null ? null : r.score * 100,
      quantity: r.qty,
    };
  },
});
