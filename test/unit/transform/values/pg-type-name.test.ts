import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../../lambdas/shared/errors.ts';
import { normalizePgType } from '../../../../lambdas/transform/values/pg-type-name.ts';

// Declared -> [base, modifier, arrayDims, canonical]; the canonical names are what format_type
// prints (the integration test checks them against PostgreSQL).
const CASES: [string, string, string | null, number, string][] = [
  ['int8', 'bigint', null, 0, 'bigint'],
  ['BIGINT', 'bigint', null, 0, 'bigint'],
  ['bigserial', 'bigint', null, 0, 'bigint'],
  ['int', 'integer', null, 0, 'integer'],
  ['int4', 'integer', null, 0, 'integer'],
  ['int2', 'smallint', null, 0, 'smallint'],
  ['bool', 'boolean', null, 0, 'boolean'],
  ['float8', 'double precision', null, 0, 'double precision'],
  ['double   precision', 'double precision', null, 0, 'double precision'],
  ['float', 'double precision', null, 0, 'double precision'],
  ['float(24)', 'real', null, 0, 'real'],
  ['float(25)', 'double precision', null, 0, 'double precision'],
  ['float4', 'real', null, 0, 'real'],
  ['decimal', 'numeric', null, 0, 'numeric'],
  ['decimal(12,2)', 'numeric', '12,2', 0, 'numeric(12,2)'],
  ['numeric(5)', 'numeric', '5,0', 0, 'numeric(5,0)'],
  ['numeric( 3 , -1 )', 'numeric', '3,-1', 0, 'numeric(3,-1)'],
  ['varchar', 'character varying', null, 0, 'character varying'],
  ['varchar(10)', 'character varying', '10', 0, 'character varying(10)'],
  ['character varying(40)', 'character varying', '40', 0, 'character varying(40)'],
  ['char', 'character', '1', 0, 'character(1)'],
  ['char(3)', 'character', '3', 0, 'character(3)'],
  ['bpchar', 'bpchar', null, 0, 'bpchar'],
  ['text', 'text', null, 0, 'text'],
  ['timestamp', 'timestamp without time zone', null, 0, 'timestamp without time zone'],
  ['timestamp(3)', 'timestamp without time zone', '3', 0, 'timestamp(3) without time zone'],
  ['timestamptz', 'timestamp with time zone', null, 0, 'timestamp with time zone'],
  ['timestamptz(3)', 'timestamp with time zone', '3', 0, 'timestamp(3) with time zone'],
  ['TIMESTAMP(6) WITH TIME ZONE', 'timestamp with time zone', '6', 0, 'timestamp(6) with time zone'],
  ['timetz', 'time with time zone', null, 0, 'time with time zone'],
  ['time(2)', 'time without time zone', '2', 0, 'time(2) without time zone'],
  ['varbit(8)', 'bit varying', '8', 0, 'bit varying(8)'],
  ['bit', 'bit', '1', 0, 'bit(1)'],
  ['text[]', 'text', null, 1, 'text[]'],
  ['int8[]', 'bigint', null, 1, 'bigint[]'],
  ['numeric[][]', 'numeric', null, 2, 'numeric[]'],
  ['integer[3]', 'integer', null, 1, 'integer[]'],
  ['integer ARRAY', 'integer', null, 1, 'integer[]'],
  ['varchar(5)[]', 'character varying', '5', 1, 'character varying(5)[]'],
  ['timestamptz(0)[]', 'timestamp with time zone', '0', 1, 'timestamp(0) with time zone[]'],
  ['pg_catalog.int4', 'integer', null, 0, 'integer'],
  ['mood', 'mood', null, 0, 'mood'],
  ['Public.Mood', 'public.mood', null, 0, 'public.mood'],
  ['"My Type"', '"My Type"', null, 0, '"My Type"'],
  ['"My Type"[]', '"My Type"', null, 1, '"My Type"[]'],
  ['"char"', '"char"', null, 0, '"char"'],
  ['geometry(Point,4326)', 'geometry', 'Point,4326', 0, 'geometry(Point,4326)'],
  ['interval', 'interval', null, 0, 'interval'],
];

describe('normalizePgType', () => {
  it('gives the name format_type prints, with base, modifier and array depth', () => {
    for (const [declared, base, modifier, arrayDims, canonical] of CASES) {
      assert.deepEqual(normalizePgType(declared), { base, modifier, arrayDims, canonical }, declared);
    }
  });

  it('refuses declarations that do not parse or modifiers PostgreSQL refuses, saying how to write one', () => {
    for (const bad of ['', '  ', 'int8(', 'int8)', '[]', 'varchar(0)', 'varchar(x)', 'numeric(1001)', 'numeric(5,2,1)', 'float(54)', 'float(0)', 'timestamp(7)', 'text[', 'a;b']) {
      assert.throws(() => normalizePgType(bad), (error: Error) => error instanceof ConfigError && error.message.includes(JSON.stringify(bad)) && error.message.includes('e.g. bigint'), bad);
    }
  });
});
