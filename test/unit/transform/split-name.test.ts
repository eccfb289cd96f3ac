import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  NAME_IS_EMPTY,
  NAME_IS_NULL,
  NAME_IS_WHITESPACE_ONLY,
  isRejectedName,
  splitName,
} from '../../../lambdas/transform/split-name.ts';
import { JS_WHITESPACE, NOT_WHITESPACE, adversarialNames } from '../../fixtures/adversarial-names.ts';

describe('splitName', () => {
  it('gives the hand-worked answer for every adversarial corpus entry', () => {
    for (const entry of adversarialNames) {
      assert.deepEqual(splitName(entry.name), entry.expected, entry.label);
    }
  });

  it('has a corpus with unique labels that covers every outcome', () => {
    const labels = new Set(adversarialNames.map((e) => e.label));
    assert.equal(labels.size, adversarialNames.length);
    const outcomes = new Set(
      adversarialNames.map((e) => ('reject' in e.expected ? e.expected.reject : e.expected.lastName === null ? 'one token' : 'two parts')),
    );
    assert.deepEqual([...outcomes].sort(), ['name is NULL', 'name is empty', 'name is whitespace only', 'one token', 'two parts']);
    assert.ok(adversarialNames.some((e) => e.name !== null && e.name.length >= 10_000));
    assert.ok(adversarialNames.some((e) => e.age === null));
  });

  it('rejects NULL, empty and whitespace-only names with the exact reasons', () => {
    assert.deepEqual(splitName(null), { reject: 'name is NULL' });
    assert.deepEqual(splitName(''), { reject: 'name is empty' });
    assert.deepEqual(splitName(' \t\u3000'), { reject: 'name is whitespace only' });
    assert.equal(NAME_IS_NULL, 'name is NULL');
    assert.equal(NAME_IS_EMPTY, 'name is empty');
    assert.equal(NAME_IS_WHITESPACE_ONLY, 'name is whitespace only');
  });

  it('keeps the inner whitespace of the last name verbatim', () => {
    assert.deepEqual(splitName('Anna  Maria\tvon Trapp'), { firstName: 'Anna', lastName: 'Maria\tvon Trapp' });
    assert.deepEqual(splitName(' a \u00a0 b \u3000\u3000 c '), { firstName: 'a', lastName: 'b \u3000\u3000 c' });
  });

  it('gives one token a NULL last name', () => {
    assert.deepEqual(splitName('\u2028Cher\u2029'), { firstName: 'Cher', lastName: null });
  });

  it('tells a reject from a split with isRejectedName', () => {
    assert.equal(isRejectedName(splitName(null)), true);
    assert.equal(isRejectedName(splitName('A B')), false);
  });

  it('lists exactly the characters this runtime\'s /\\s/ matches as JS_WHITESPACE', () => {
    const matched: number[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      if (/\s/u.test(String.fromCodePoint(cp))) matched.push(cp);
    }
    assert.deepEqual(
      matched,
      JS_WHITESPACE.map((w) => w.char.codePointAt(0)!),
    );
    for (const { label, char } of NOT_WHITESPACE) assert.equal(/\s/.test(char), false, label);
    assert.equal(/\s/.test('\u180e'), false, 'U+180E is not whitespace since Unicode 6.3');
  });

  it('trims exactly the characters it splits on', () => {
    for (const { label, char } of JS_WHITESPACE) {
      assert.equal(`${char}a${char}`.trim(), 'a', label);
      assert.deepEqual(splitName(`${char}a${char}b${char}`), { firstName: 'a', lastName: 'b' }, label);
    }
  });
});
