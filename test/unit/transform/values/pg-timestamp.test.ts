import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PgTimestamp } from '../../../../lambdas/transform/values/pg-timestamp.ts';
import { prng } from '../../../support/prng.ts';

const micros = (text: string): bigint => PgTimestamp.parse(text).micros;

describe('PgTimestamp', () => {
  it('reads PostgreSQL text to exact microseconds since 1970', () => {
    const cases: [string, bigint][] = [
      ['1970-01-01 00:00:00+00', 0n],
      ['1970-01-01 00:00:00.000001+00', 1n],
      ['1969-12-31 23:59:59.999999+00', -1n],
      ['2024-01-02 03:04:05.123456+00', 1704164645123456n],
      ['2024-01-02 03:04:05.5+00', 1704164645500000n],
      ['2024-01-02 03:04:05', 1704164645000000n],
      ['2024-01-02 08:34:05+05:30', 1704164645000000n],
      ['2024-01-01 23:33:50.5-03:30:15', 1704164645500000n],
      ['2024-01-02 03:04:05+0000', 1704164645000000n],
      ['2024-01-02 13:04:05+10', 1704164645000000n],
      ['2024-01-01 24:00:00+00', 1704153600000000n],
      ['0044-03-15 10:00:00.5+00 BC', -63517787999500000n],
      ['0001-12-31 23:59:59.999999 BC', -62135596800000001n],
      ['4714-11-24 00:00:00+00 BC', -210866803200000000n],
      ['294276-12-31 23:59:59.999999+00', 9224318015999999999n],
      ['12345-06-07 08:09:10+00', 327416976550000000n],
    ];
    for (const [text, expected] of cases) assert.equal(micros(text), expected, text);
  });

  it('reads ISO 8601: T, Z, offsets, expanded years, more than six fractional digits rounded', () => {
    assert.equal(micros('2024-01-02T03:04:05Z'), 1704164645000000n);
    assert.equal(micros('2024-01-02t03:04:05.123456z'), 1704164645123456n);
    assert.equal(micros('2024-01-02T03:04:05.1234565Z'), 1704164645123457n);
    assert.equal(micros('2024-01-02T03:04:05.1234564999Z'), 1704164645123456n);
    assert.equal(micros('2024-01-02T03:04Z'), 1704164640000000n);
    assert.equal(micros('2024-01-02'), 1704153600000000n);
    assert.equal(micros('+012345-06-07T08:09:10Z'), 327416976550000000n);
    assert.equal(micros('-000043-03-15T10:00:00.500000Z'), -63517787999500000n);
    assert.equal(micros('0000-12-31T23:59:59.999999Z'), -62135596800000001n);
  });

  it('has the infinities as PostgreSQL encodes them', () => {
    assert.equal(PgTimestamp.parse('infinity'), PgTimestamp.INFINITY);
    assert.equal(PgTimestamp.parse('-INFINITY'), PgTimestamp.NEG_INFINITY);
    assert.deepEqual([PgTimestamp.INFINITY.micros, PgTimestamp.NEG_INFINITY.micros], [2n ** 63n - 1n, -(2n ** 63n)]);
    assert.deepEqual([PgTimestamp.INFINITY.isFinite, PgTimestamp.NEG_INFINITY.isFinite, PgTimestamp.fromMicros(0n).isFinite], [false, false, true]);
    assert.deepEqual([String(PgTimestamp.INFINITY), String(PgTimestamp.NEG_INFINITY)], ['infinity', '-infinity']);
    assert.equal(PgTimestamp.fromMicros(2n ** 63n - 1n), PgTimestamp.INFINITY);
    assert.throws(() => PgTimestamp.INFINITY.toISOString(), RangeError);
    assert.throws(() => PgTimestamp.NEG_INFINITY.toDate(), RangeError);
    assert.equal(JSON.stringify([PgTimestamp.INFINITY]), '["infinity"]');
  });

  it('refuses text that is no timestamp (TypeError) or outside PostgreSQL range (RangeError)', () => {
    for (const bad of ['2024-13-01 00:00:00', '2023-02-29 00:00:00', '2024-01-01 25:00:00', '2024-01-01 24:00:01', '2024-01-01 10:60:00', '2024-01-01 10:00:61', '2024-01-01 10:00:00+16', '2024-01-01 10:00:00+05:60', '2024-01-01 10:00 Europe/Berlin', '2024-01-01 10:00:00.', '0000-01-01 00:00:00 BC', '2024-01-01 10:00:00 AD', '2024-01-01  10:00:00', 'Zoë', '']) {
      assert.throws(() => PgTimestamp.parse(bad), TypeError, bad);
    }
    for (const out of ['294277-01-01 00:00:00', '4714-11-23 23:59:59.999999 BC', '4714-11-24 00:00:00+01 BC', '294276-12-31 23:00:00-01']) {
      assert.throws(() => PgTimestamp.parse(out), RangeError, out);
    }
    assert.throws(() => PgTimestamp.fromMicros(9224318016000000000n), RangeError);
    assert.throws(() => PgTimestamp.fromMicros(-210866803200000001n), RangeError);
  });

  it("writes PostgreSQL's text in UTC and ISO 8601 with six digits", () => {
    const cases: [bigint, string, string][] = [
      [0n, '1970-01-01 00:00:00+00', '1970-01-01T00:00:00.000000Z'],
      [-1n, '1969-12-31 23:59:59.999999+00', '1969-12-31T23:59:59.999999Z'],
      [1704164645120000n, '2024-01-02 03:04:05.12+00', '2024-01-02T03:04:05.120000Z'],
      [-63517787999500000n, '0044-03-15 10:00:00.5+00 BC', '-000043-03-15T10:00:00.500000Z'],
      [-62135596800000001n, '0001-12-31 23:59:59.999999+00 BC', '0000-12-31T23:59:59.999999Z'],
      [-210866803200000000n, '4714-11-24 00:00:00+00 BC', '-004713-11-24T00:00:00.000000Z'],
      [9224318015999999999n, '294276-12-31 23:59:59.999999+00', '+294276-12-31T23:59:59.999999Z'],
    ];
    for (const [value, pg, iso] of cases) {
      const timestamp = PgTimestamp.fromMicros(value);
      assert.deepEqual([timestamp.toString(), timestamp.toISOString(), timestamp.toJSON()], [pg, iso, iso]);
      assert.equal(PgTimestamp.parse(pg).micros, value);
      assert.equal(PgTimestamp.parse(iso).micros, value);
    }
  });

  it('agrees with Date on random instants, and round-trips its own text, over the whole range', () => {
    const random = prng(29);
    for (let k = 0; k < 20_000; k++) {
      const ms = Math.round((random() - 0.5) * 2 * 8.64e15);
      const date = new Date(ms);
      if (date.getUTCFullYear() < -4712) continue;
      const timestamp = PgTimestamp.fromDate(date);
      assert.equal(timestamp.micros, BigInt(ms) * 1000n);
      assert.equal(timestamp.toISOString(), date.toISOString().replace(/Z$/, '000Z'));
      assert.equal(timestamp.toDate().getTime(), ms);
      assert.equal(PgTimestamp.parse(date.toISOString()).micros, timestamp.micros);
    }
    const min = -210866803200000000n;
    const span = 9224318016000000000n - min;
    for (let k = 0; k < 20_000; k++) {
      const value = min + (BigInt(Math.floor(random() * 2 ** 32)) * BigInt(Math.floor(random() * 2 ** 32)) * 3n) % span;
      const timestamp = PgTimestamp.fromMicros(value);
      assert.equal(PgTimestamp.parse(timestamp.toString()).micros, value);
      assert.equal(PgTimestamp.parse(timestamp.toISOString()).micros, value);
    }
  });

  it('converts to Date losing the microseconds, rounding down', () => {
    assert.equal(PgTimestamp.parse('1969-12-31 23:59:59.9995+00').toDate().toISOString(), '1969-12-31T23:59:59.999Z');
    assert.equal(PgTimestamp.parse('2024-01-02 03:04:05.123999+00').toDate().toISOString(), '2024-01-02T03:04:05.123Z');
    assert.throws(() => PgTimestamp.parse('294276-01-01 00:00:00').toDate(), RangeError);
    assert.throws(() => PgTimestamp.fromDate(new Date(NaN)), RangeError);
    assert.throws(() => PgTimestamp.fromDate(new Date(-8.64e15)), RangeError);
    assert.equal(PgTimestamp.fromMicros(5n).equals(PgTimestamp.parse('1970-01-01 00:00:00.000005')), true);
  });
});
