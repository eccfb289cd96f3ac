import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { civilFromDays, daysFromCivil } from '../../../../lambdas/transform/values/calendar.ts';
import { PgDate } from '../../../../lambdas/transform/values/pg-date.ts';
import { prng } from '../../../support/prng.ts';

const MS_PER_DAY = 86_400_000;

/** The day number JavaScript's own (proleptic Gregorian) calendar gives, for years Date can hold. */
function dateDays(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return d.getTime() / MS_PER_DAY;
}

describe('calendar', () => {
  it('agrees with Date on every day of 1600-2400 and on random days over ±270000 years', () => {
    for (let days = dateDays(1600, 1, 1); days <= dateDays(2400, 12, 31); days++) {
      const d = new Date(days * MS_PER_DAY);
      assert.deepEqual(civilFromDays(days), { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
    }
    const random = prng(11);
    for (let k = 0; k < 20_000; k++) {
      const year = Math.floor(random() * 540_000) - 270_000;
      const month = 1 + Math.floor(random() * 12);
      const day = 1 + Math.floor(random() * 28);
      const days = daysFromCivil(year, month, day);
      assert.equal(days, dateDays(year, month, day), `${year}-${month}-${day}`);
      assert.deepEqual(civilFromDays(days), { year, month, day });
    }
  });
});

describe('PgDate', () => {
  it('reads and writes PostgreSQL text: BC, years past 9999, the range ends, infinity', () => {
    const cases: [string, number, number, number, number][] = [
      ['1970-01-01', 0, 1970, 1, 1],
      ['1969-12-31', -1, 1969, 12, 31],
      ['2024-02-29', 19782, 2024, 2, 29],
      ['0001-01-01', -719162, 1, 1, 1],
      ['0001-12-31 BC', -719163, 0, 12, 31],
      ['0044-03-15 BC', -735160, -43, 3, 15],
      ['4714-11-24 BC', -2440588, -4713, 11, 24],
      ['12345-06-07', 3789548, 12345, 6, 7],
      ['5874897-12-31', 2145042905, 5874897, 12, 31],
    ];
    for (const [text, days, year, month, day] of cases) {
      const date = PgDate.parse(text);
      assert.deepEqual([date.days, date.year, date.month, date.day, date.isFinite, date.toString()], [days, year, month, day, true, text]);
    }
    assert.equal(PgDate.parse('infinity'), PgDate.INFINITY);
    assert.equal(PgDate.parse('-Infinity'), PgDate.NEG_INFINITY);
    assert.deepEqual([PgDate.INFINITY.days, PgDate.NEG_INFINITY.days, PgDate.INFINITY.isFinite], [Infinity, -Infinity, false]);
    assert.deepEqual([PgDate.INFINITY.toString(), PgDate.NEG_INFINITY.toString(), PgDate.INFINITY.year], ['infinity', '-infinity', NaN]);
  });

  it('refuses dates that do not exist or PostgreSQL cannot hold', () => {
    for (const bad of ['4714-11-23 BC', '5874898-01-01', '2023-02-29', '2024-13-01', '2024-00-10', '2024-01-32', '24-01-01', '2024-1-1', '0000-01-01 BC', '2024-01-02 10:00', '2024-01-02x', '', 'today']) {
      assert.throws(() => PgDate.parse(bad), TypeError, bad);
    }
    assert.throws(() => PgDate.fromDays(-2440589), RangeError);
    assert.throws(() => PgDate.fromDays(1.5), RangeError);
    assert.throws(() => PgDate.fromParts(2023, 2, 29), RangeError);
  });

  it('has ISO 8601 text with astronomical years that parse back', () => {
    const cases: [string, string][] = [
      ['2024-01-02', '2024-01-02'],
      ['0001-12-31 BC', '0000-12-31'],
      ['0044-03-15 BC', '-000043-03-15'],
      ['12345-06-07', '+012345-06-07'],
      ['5874897-12-31', '+5874897-12-31'],
    ];
    for (const [pg, iso] of cases) {
      assert.equal(PgDate.parse(pg).toISOString(), iso);
      assert.equal(PgDate.parse(iso).toString(), pg);
      assert.equal(JSON.stringify(PgDate.parse(pg)), JSON.stringify(iso));
    }
    assert.throws(() => PgDate.INFINITY.toISOString(), RangeError);
    assert.equal(JSON.stringify(PgDate.NEG_INFINITY), '"-infinity"');
  });

  it('converts to and from Date at UTC midnight', () => {
    assert.equal(PgDate.fromDate(new Date('2024-05-06T23:59:59.999Z')).toString(), '2024-05-06');
    assert.equal(PgDate.fromDate(new Date('1969-12-31T00:00:00.001Z')).toString(), '1969-12-31');
    assert.equal(PgDate.parse('0044-03-15 BC').toDate().toISOString(), '-000043-03-15T00:00:00.000Z');
    assert.throws(() => PgDate.parse('5874897-12-31').toDate(), RangeError);
    assert.throws(() => PgDate.INFINITY.toDate(), RangeError);
    assert.throws(() => PgDate.fromDate(new Date(NaN)), RangeError);
    assert.equal(PgDate.fromParts(0, 2, 29).toString(), '0001-02-29 BC');
    assert.equal(PgDate.fromParts(2024, 2, 29).equals(PgDate.parse('2024-02-29')), true);
  });
});
