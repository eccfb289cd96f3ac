import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Numeric } from '../../../../lambdas/transform/values/numeric.ts';

const text = (input: string): string => new Numeric(input).toString();

describe('Numeric', () => {
  it('keeps the text PostgreSQL prints, scale included', () => {
    for (const t of ['0', '12.50', '-12.50', '0.000000000000000000001', '123456789012345678901234567890.123456789', 'NaN', 'Infinity', '-Infinity']) {
      assert.equal(text(t), t);
    }
    const thousandDigits = `${'9'.repeat(600)}.${'1'.repeat(400)}`;
    assert.equal(text(thousandDigits), thousandDigits);
    assert.equal(text(`-${thousandDigits}`), `-${thousandDigits}`);
  });

  it('normalises other input as numeric_in does', () => {
    const cases: [string, string][] = [
      ['007.50', '7.50'],
      ['-0', '0'],
      ['-0.00', '0.00'],
      ['+1.5', '1.5'],
      ['.5', '0.5'],
      ['5.', '5'],
      ['1.50e1', '15.0'],
      ['1e-3', '0.001'],
      ['1.5E+3', '1500'],
      ['-1.5e-3', '-0.0015'],
      ['0.0e5', '0'],
      ['12e-1', '1.2'],
      ['nan', 'NaN'],
      ['inf', 'Infinity'],
      ['+infinity', 'Infinity'],
      ['-INF', '-Infinity'],
    ];
    for (const [input, expected] of cases) assert.equal(text(input), expected, input);
  });

  it('takes the whole range of numeric and refuses beyond it', () => {
    assert.equal(text('1e131071').length, 131072);
    assert.equal(text('1e-16383'), `0.${'0'.repeat(16382)}1`);
    assert.throws(() => new Numeric('1e131072'), { name: 'RangeError', message: /"1e131072" is out of numeric's range/ });
    assert.throws(() => new Numeric('1e-16384'), { name: 'RangeError' });
    assert.throws(() => new Numeric('0.1e-16383'), { name: 'RangeError' });
  });

  it('refuses text that is not a decimal with a TypeError naming it', () => {
    for (const bad of ['', '-', '.', 'e5', '1e', '1.2.3', ' 1', '1 ', '0x10', '1_000', 'abc', '--1', '1e1.5']) {
      assert.throws(() => Numeric.parse(bad), (error: Error) => error instanceof TypeError && error.message.includes(JSON.stringify(bad)), bad);
    }
  });

  it('says whether it is NaN or finite', () => {
    assert.deepEqual(
      ['1.5', 'NaN', 'Infinity', '-Infinity'].map((t) => [new Numeric(t).isNaN, new Numeric(t).isFinite]),
      [
        [false, true],
        [true, false],
        [false, false],
        [false, false],
      ],
    );
  });

  it('compares by value in PostgreSQL order: -Infinity < finite < Infinity < NaN, NaN = NaN', () => {
    assert.equal(new Numeric('1.50').equals(new Numeric('1.5')), true);
    assert.equal(new Numeric('0.00').equals(new Numeric('0')), true);
    assert.equal(new Numeric('NaN').equals(new Numeric('NaN')), true);
    assert.equal(new Numeric('1.5').equals(new Numeric('1.51')), false);
    const ordered = ['-Infinity', '-100', '-2.5', '-2.45', '-0.001', '0', '0.001', '0.01', '0.1', '1', '1.05', '1.5', '10', '99.99', '100', 'Infinity', 'NaN'];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        assert.equal(new Numeric(ordered[i]!).compare(new Numeric(ordered[j]!)), Math.sign(i - j), `${ordered[i]} vs ${ordered[j]}`);
      }
    }
  });

  it('scales to a bigint rounding half away from zero, as round(value, scale) does', () => {
    const cases: [string, number, bigint][] = [
      ['12.50', 2, 1250n],
      ['12.345', 2, 1235n],
      ['-12.345', 2, -1235n],
      ['12.344', 2, 1234n],
      ['0.005', 2, 1n],
      ['-0.005', 2, -1n],
      ['0.004', 2, 0n],
      ['2.5', 0, 3n],
      ['-2.5', 0, -3n],
      ['7', 3, 7000n],
      ['995', -1, 100n],
      ['994', -1, 99n],
      ['4.5', -1, 0n],
      ['5', -1, 1n],
      ['123456789012345678901234567890.5', 0, 123456789012345678901234567891n],
      ['0.000000000000000000001', 21, 1n],
    ];
    for (const [input, scale, expected] of cases) assert.equal(new Numeric(input).toScaledBigInt(scale), expected, `${input} at ${scale}`);
    assert.throws(() => new Numeric('NaN').toScaledBigInt(2), RangeError);
    assert.throws(() => new Numeric('1').toScaledBigInt(1.5), RangeError);
  });

  it('builds from a scaled bigint, keeping the scale', () => {
    assert.equal(Numeric.fromScaledBigInt(1250n, 2).toString(), '12.50');
    assert.equal(Numeric.fromScaledBigInt(-5n, 3).toString(), '-0.005');
    assert.equal(Numeric.fromScaledBigInt(0n, 2).toString(), '0.00');
    assert.equal(Numeric.fromScaledBigInt(12n, -2).toString(), '1200');
    assert.equal(Numeric.fromScaledBigInt(2n ** 100n, 0).toString(), (2n ** 100n).toString());
    for (const t of ['12.50', '-0.005', '123456789012345678901234567890.123456789']) {
      const n = new Numeric(t);
      const scale = t.length - t.indexOf('.') - 1;
      assert.equal(Numeric.fromScaledBigInt(n.toScaledBigInt(scale), scale).toString(), t);
    }
  });

  it('converts to a number only when asked, lossy', () => {
    assert.equal(new Numeric('12.50').toNumber(), 12.5);
    assert.equal(new Numeric('0.1000000000000000055511151231257827').toNumber(), 0.1);
    assert.ok(Number.isNaN(new Numeric('NaN').toNumber()));
    assert.equal(new Numeric('-Infinity').toNumber(), -Infinity);
  });

  it('writes its exact digits through JSON.stringify, NaN and infinities as strings', () => {
    assert.equal(JSON.stringify({ a: new Numeric('12.50'), b: new Numeric('0.1000000000000000055511151231257827') }), '{"a":12.50,"b":0.1000000000000000055511151231257827}');
    assert.equal(JSON.stringify([new Numeric('NaN'), new Numeric('-Infinity')]), '["NaN","-Infinity"]');
  });
});
