import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyFormatError } from '../../../lambdas/shared/errors.ts';
import {
  CopyTextWriter,
  decodeFieldText,
  decodeRows,
  encodeField,
  escapeInto,
  escapedLength,
} from '../../../lambdas/transform/copy-text.ts';
import type { CopyRow } from '../../../lambdas/transform/row-transform.ts';
import { splitNameTransform } from '../../../lambdas/transform/split-name-transform.ts';
import { splitName } from '../../../lambdas/transform/split-name.ts';
import { adversarialNames } from '../../fixtures/adversarial-names.ts';

const KEY = '9223372036854775807';

interface RowResult {
  readonly reason: string | null;
  /** The whole output line (key included), or null when rejected. */
  readonly line: Buffer | null;
}

/**
 * Runs the transform on one row the way the plumbing does: key written first, row view into a
 * bigger buffer. Bytes that look like whitespace surround the row, so a read outside a field shows.
 */
function transformRow(nameField: Buffer, ageField: Buffer): RowResult {
  const before = Buffer.from('\u00a0 \u3000', 'utf8');
  const after = Buffer.from('\u2028 \u00a0', 'utf8');
  const key = Buffer.from(KEY);
  const buf = Buffer.concat([before, key, Buffer.from('\t'), nameField, Buffer.from('\t'), ageField, after]);
  const keyStart = before.length;
  const nameStart = keyStart + key.length + 1;
  const ageStart = nameStart + nameField.length + 1;
  const row: CopyRow = {
    buf,
    start: Int32Array.of(keyStart, nameStart, ageStart),
    end: Int32Array.of(keyStart + key.length, nameStart + nameField.length, ageStart + ageField.length),
  };
  const writer = new CopyTextWriter(8);
  writer.rawField(buf, keyStart, keyStart + key.length);
  const written = writer.pos;
  const reason = splitNameTransform.transformRow(row, writer);
  if (reason !== null) {
    assert.equal(writer.pos, written, 'a rejected row writes nothing');
    return { reason, line: null };
  }
  writer.endLine();
  return { reason, line: writer.take() };
}

/** The line the transform must write for `name` split as `splitName` says, or the reject reason. */
function expectedFor(name: string | null, ageField: Buffer): RowResult {
  const result = splitName(name);
  if ('reject' in result) return { reason: result.reject, line: null };
  const parts = [Buffer.from(KEY), encodeField(result.firstName), encodeField(result.lastName), ageField];
  const line = Buffer.concat(parts.flatMap((part, i) => (i === 0 ? [part] : [Buffer.from('\t'), part])));
  return { reason: null, line: Buffer.concat([line, Buffer.from('\n')]) };
}

// Other spellings PostgreSQL accepts for the same text. Any backslash sends the name down the
// decoded path, so each one checks that path against the byte path the canonical spelling takes.
const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
const spellings: Readonly<Record<string, (text: string) => Buffer>> = {
  canonical: (text) => encodeField(text),
  'all octal': (text) => utf8([...utf8(text)].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('')),
  'all hex': (text) => utf8([...utf8(text)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')),
  'first byte escaped': (text) => {
    const raw = utf8(text);
    if (raw.length === 0) return raw;
    const head = utf8(`\\${raw[0]!.toString(8)}`);
    const out = Buffer.alloc(head.length + escapedLength(raw, 1, raw.length));
    head.copy(out);
    escapeInto(raw, 1, raw.length, out, head.length);
    return out;
  },
};

function checkAgainstSplitName(name: string | null, nameField: Buffer, ageField: Buffer, label: string): void {
  assert.equal(decodeFieldText(nameField), name, `${label}: the spelling decodes back`);
  const actual = transformRow(nameField, ageField);
  const expected = expectedFor(name, ageField);
  assert.equal(actual.reason, expected.reason, label);
  assert.deepEqual(actual.line?.toString('utf8') ?? null, expected.line?.toString('utf8') ?? null, label);
  assert.deepEqual(actual.line, expected.line, `${label}: byte-exact`);
}

describe('splitNameTransform', () => {
  it('declares (name, age) in and (first_name text, last_name text, age integer) out', () => {
    assert.deepEqual(splitNameTransform.sourceColumns, ['name', 'age']);
    assert.deepEqual(splitNameTransform.targetColumns, [
      { name: 'first_name', type: 'text' },
      { name: 'last_name', type: 'text' },
      { name: 'age', type: 'integer' },
    ]);
  });

  it('gives the corpus answers on the byte path and the decoded path, byte-exact', () => {
    for (const { label, name, age, expected } of adversarialNames) {
      const ageField = encodeField(age === null ? null : String(age));
      if (name === null) {
        assert.deepEqual(transformRow(encodeField(null), ageField), { reason: 'name is NULL', line: null }, label);
        continue;
      }
      for (const [spelling, encode] of Object.entries(spellings)) {
        const nameField = encode(name);
        const actual = transformRow(nameField, ageField);
        if ('reject' in expected) {
          assert.deepEqual(actual, { reason: expected.reject, line: null }, `${label} (${spelling})`);
          continue;
        }
        assert.equal(actual.reason, null, `${label} (${spelling})`);
        assert.deepEqual(
          decodeRows(actual.line!),
          [[KEY, expected.firstName, expected.lastName, age === null ? null : String(age)]],
          `${label} (${spelling})`,
        );
        checkAgainstSplitName(name, nameField, ageField, `${label} (${spelling})`);
      }
    }
  });

  it('agrees with splitName for every Unicode code point alone, inside a word and around words', () => {
    const ageField = utf8('33');
    for (let cp = 1; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      // Beyond the BMP no character is whitespace; a sample of each plane keeps the test quick.
      if (cp > 0xffff && cp % 97 !== 0) continue;
      const c = String.fromCodePoint(cp);
      for (const name of [c, `a${c}b`, `${c}a${c}b${c}`, `${c}${c} ${c}`]) {
        const actual = transformRow(encodeField(name), ageField);
        const expected = expectedFor(name, ageField);
        const sameLine = actual.line === null ? expected.line === null : expected.line !== null && actual.line.equals(expected.line);
        if (actual.reason !== expected.reason || !sameLine) {
          const show = (r: RowResult): string => r.reason ?? JSON.stringify(r.line!.toString('utf8'));
          assert.fail(`U+${cp.toString(16).toUpperCase()} in ${JSON.stringify(name)}: got ${show(actual)}, want ${show(expected)}`);
        }
      }
    }
  });

  it('agrees with splitName on 20,000 random names over an alphabet of troublemakers', () => {
    const alphabet = ['a', 'b', 'Z', 'N', 'é', '中', '😀', ' ', ' ', '\t', '\n', '\r', '\v', '\f', '\b', '\\', '"', "'", '\u00a0', '\u3000', '\u2028', '\ufeff', '\u180e', '\u200b', '\u0085', '\u0001', '\u1680', '\u205f'];
    let seed = 20240601;
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    for (let n = 0; n < 20_000; n++) {
      let name = '';
      const length = Math.floor(random() * 12);
      for (let i = 0; i < length; i++) name += alphabet[Math.floor(random() * alphabet.length)]!;
      checkAgainstSplitName(name, encodeField(name), utf8('\\N'), `${JSON.stringify(name)} canonical`);
      if (name !== '') checkAgainstSplitName(name, spellings['first byte escaped']!(name), utf8('5'), `${JSON.stringify(name)} escaped`);
    }
  });

  it('copies the age field verbatim, NULL and odd spellings included', () => {
    for (const age of ['\\N', '0', '-2147483648', '007', '+5', '\\061']) {
      const { line } = transformRow(utf8('Anna Smith'), utf8(age));
      assert.equal(line!.toString(), `${KEY}\tAnna\tSmith\t${age}\n`);
      const decoded = transformRow(utf8('Anna\\tSmith'), utf8(age));
      assert.equal(decoded.line!.toString(), `${KEY}\tAnna\tSmith\t${age}\n`);
    }
  });

  it('writes NULL for the last name of a one-token name and keeps the last name\'s inner whitespace', () => {
    assert.equal(transformRow(utf8('  Cher  '), utf8('1')).line!.toString(), `${KEY}\tCher\t\\N\t1\n`);
    assert.equal(
      transformRow(utf8('Anna  Maria\\tvon Trapp'), utf8('1')).line!.toString(),
      `${KEY}\tAnna\tMaria\\tvon Trapp\t1\n`,
    );
    assert.equal(transformRow(utf8('\\\\N'), utf8('1')).line!.toString(), `${KEY}\t\\\\N\t\\N\t1\n`);
  });

  it('rejects with the exact reasons', () => {
    assert.deepEqual(transformRow(utf8('\\N'), utf8('1')), { reason: 'name is NULL', line: null });
    assert.deepEqual(transformRow(utf8(''), utf8('1')), { reason: 'name is empty', line: null });
    assert.deepEqual(transformRow(utf8('   '), utf8('1')), { reason: 'name is whitespace only', line: null });
    assert.deepEqual(transformRow(utf8('\\t\\n \u3000'), utf8('1')), { reason: 'name is whitespace only', line: null });
    assert.deepEqual(transformRow(utf8('\\040'), utf8('1')), { reason: 'name is whitespace only', line: null });
  });

  it('fails on a name that ends in a lone backslash instead of guessing', () => {
    assert.throws(() => transformRow(utf8('Anna\\'), utf8('1')), CopyFormatError);
  });
});
