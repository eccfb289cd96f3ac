import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyFormatError } from '../../../lambdas/shared/errors.ts';
import {
  CopyTextWriter,
  NULL_FIELD,
  decodeField,
  decodeFieldText,
  decodeRows,
  encodeField,
  encodeRow,
  escapeInto,
  escapedLength,
  isNullField,
} from '../../../lambdas/transform/copy-text.ts';
import { adversarialNames } from '../../fixtures/adversarial-names.ts';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');
const decode = (copyText: string): Buffer | null => decodeField(Buffer.from(copyText, 'utf8'));

// What PostgreSQL's COPY TO writes for each byte it escapes.
const PG_ESCAPES = new Map<number, string>([
  [0x08, '\\b'],
  [0x09, '\\t'],
  [0x0a, '\\n'],
  [0x0b, '\\v'],
  [0x0c, '\\f'],
  [0x0d, '\\r'],
  [0x5c, '\\\\'],
]);

describe('encodeField', () => {
  it('escapes exactly the bytes PostgreSQL escapes and passes every other byte 0x01-0x7F raw', () => {
    for (let b = 0x01; b <= 0x7f; b++) {
      const expected = PG_ESCAPES.get(b) ?? String.fromCharCode(b);
      assert.equal(encodeField(String.fromCharCode(b)).toString('latin1'), expected, `byte 0x${b.toString(16)}`);
    }
  });

  it('writes NULL as \\N and the text \\N as \\\\N', () => {
    assert.equal(encodeField(null).toString(), '\\N');
    assert.equal(encodeField('\\N').toString(), '\\\\N');
    assert.equal(NULL_FIELD.toString(), '\\N');
  });

  it('writes non-ASCII as its raw UTF-8 bytes', () => {
    assert.deepEqual(encodeField('é中😀'), Buffer.from('é中😀', 'utf8'));
  });
});

describe('decodeField', () => {
  it('round-trips every byte 0x01-0x7F alone and between other bytes', () => {
    for (let b = 0x01; b <= 0x7f; b++) {
      const text = String.fromCharCode(b);
      assert.deepEqual(decodeField(encodeField(text)), Buffer.from([b]), `byte 0x${b.toString(16)}`);
      const padded = `a${text}${text}b`;
      assert.equal(decodeFieldText(encodeField(padded)), padded, `byte 0x${b.toString(16)} padded`);
    }
  });

  it('decodes every letter escape', () => {
    assert.deepEqual(decode('\\b\\f\\n\\r\\t\\v\\\\'), Buffer.from([0x08, 0x0c, 0x0a, 0x0d, 0x09, 0x0b, 0x5c]));
  });

  it('decodes 1 to 3 octal digits, keeping only the low 8 bits as PostgreSQL does', () => {
    assert.deepEqual(decode('\\101'), bytes('A'));
    assert.deepEqual(decode('\\7'), Buffer.from([7]));
    assert.deepEqual(decode('\\77'), bytes('?'));
    assert.deepEqual(decode('\\1011'), bytes('A1'), 'a fourth digit is text');
    assert.deepEqual(decode('\\18'), Buffer.from([1, 0x38]), '8 is not octal');
    assert.deepEqual(decode('\\0'), Buffer.from([0]));
    assert.deepEqual(decode('\\400'), Buffer.from([0]));
    assert.deepEqual(decode('\\777'), Buffer.from([0xff]));
    assert.deepEqual(decode('\\303\\251'), Buffer.from('é', 'utf8'));
  });

  it('decodes \\x with 1 or 2 hex digits, and \\x without one as x', () => {
    assert.deepEqual(decode('\\x41'), bytes('A'));
    assert.deepEqual(decode('\\x4'), Buffer.from([4]));
    assert.deepEqual(decode('\\x414'), bytes('A4'));
    assert.deepEqual(decode('\\xFf'), Buffer.from([0xff]));
    assert.deepEqual(decode('\\xaB\\xC3\\xa9'), Buffer.from([0xab, 0xc3, 0xa9]));
    assert.deepEqual(decode('\\xg'), bytes('xg'));
    assert.deepEqual(decode('\\x'), bytes('x'));
  });

  it('decodes \\c as c for any other character, multi-byte ones included', () => {
    assert.deepEqual(decode('\\q\\"\\ \\\'\\.'), bytes('q" \'.'));
    assert.deepEqual(decode('a\\Nb'), bytes('aNb'));
    assert.equal(decodeFieldText(Buffer.from('\\é\\😀', 'utf8')), 'é😀');
  });

  it('tells NULL (\\N) from the text \\N (\\\\N) and from \\N inside text', () => {
    assert.equal(decode('\\N'), null);
    assert.equal(decodeFieldText(bytes('\\\\N')), '\\N');
    assert.equal(decodeFieldText(bytes('\\Nx')), 'Nx');
    assert.equal(decodeFieldText(bytes('x\\N')), 'xN');
    assert.equal(isNullField(bytes('\\N'), 0, 2), true);
    assert.equal(isNullField(bytes('\\\\N'), 0, 3), false);
    assert.equal(isNullField(bytes('\\n'), 0, 2), false);
    assert.equal(isNullField(bytes('N'), 0, 1), false);
  });

  it('decodes the empty field as empty text', () => {
    assert.equal(decodeFieldText(Buffer.alloc(0)), '');
  });

  it('reads only inside [start, end) even when the next byte would extend an escape', () => {
    const buf = bytes('X\\x4' + '1' + '\\10' + '1' + '\\N' + 'Z');
    assert.deepEqual(decodeField(buf, 1, 4), Buffer.from([4]));
    assert.deepEqual(decodeField(buf, 5, 8), Buffer.from([8]));
    assert.equal(decodeField(buf, 9, 11), null);
    assert.deepEqual(decodeField(buf, 0, 1), bytes('X'));
  });

  it('returns a copy, not a view of the input', () => {
    const buf = bytes('plain');
    const decoded = decodeField(buf)!;
    buf[0] = 0x78;
    assert.equal(decoded.toString(), 'plain');
  });

  it('refuses a field ending in a lone backslash, naming the fix', () => {
    assert.throws(() => decode('Anna\\'), (error: unknown) => {
      assert.ok(error instanceof CopyFormatError);
      assert.match(error.message, /lone backslash .*"Anna\\\\".*escape backslashes/);
      return true;
    });
    assert.equal(decodeFieldText(bytes('Anna\\\\')), 'Anna\\');
  });

  it('round-trips multi-byte UTF-8 and every corpus name, 10,000+ character ones included', () => {
    for (const text of ['é', 'ß', '中', '😀', '👩‍👩‍👧‍👦', '\u{10ffff}', 'Zoe\u0308']) {
      assert.equal(decodeFieldText(encodeField(text)), text);
    }
    for (const { label, name } of adversarialNames) {
      const encoded = encodeField(name);
      assert.equal(decodeFieldText(encoded), name, label);
      if (name !== null) {
        assert.equal(encoded.includes(0x09), false, `${label}: no raw tab`);
        assert.equal(encoded.includes(0x0a), false, `${label}: no raw newline`);
      }
    }
  });

  it('round-trips a 30,000 character field of escapes, controls and emoji', () => {
    let text = '';
    for (let i = 0; i < 15_000; i++) text += String.fromCharCode(1 + (i % 0x7f)) + (i % 7 === 0 ? '😀' : 'é');
    assert.ok(text.length >= 30_000);
    const encoded = encodeField(text);
    assert.equal(decodeFieldText(encoded), text);
  });
});

describe('escapedLength and escapeInto', () => {
  it('agree with encodeField', () => {
    const raw = Buffer.from('a\\b\tc\nd\re\bf\fg\vh é 😀', 'utf8');
    const out = Buffer.alloc(escapedLength(raw, 0, raw.length) + 4, 0x2e);
    const end = escapeInto(raw, 0, raw.length, out, 2);
    assert.equal(end, 2 + escapedLength(raw, 0, raw.length));
    assert.deepEqual(out.subarray(2, end), encodeField(raw.toString('utf8')));
    assert.equal(out.toString('latin1', 0, 2), '..');
    assert.equal(out.toString('latin1', end), '..');
  });
});

describe('CopyTextWriter', () => {
  it('puts tabs between fields and a newline at the end of each line', () => {
    const writer = new CopyTextWriter(16);
    writer.rawField(bytes('xx12yy'), 2, 4);
    writer.textField('a\tb');
    writer.nullField();
    writer.textField('');
    writer.endLine();
    writer.nullField();
    writer.endLine();
    assert.equal(writer.take().toString(), '12\ta\\tb\t\\N\t\n\\N\n');
  });

  it('appendRaw adds bytes without a tab and leaves the next field unseparated', () => {
    const writer = new CopyTextWriter(16);
    writer.appendRaw(bytes('run\t'));
    writer.rawField(bytes('7'), 0, 1);
    writer.textField('why');
    writer.endLine();
    assert.equal(writer.take().toString(), 'run\t7\twhy\n');
  });

  it('escapes text fields in place exactly like encodeField, for every corpus name', () => {
    const writer = new CopyTextWriter(16);
    for (const { label, name } of adversarialNames) {
      if (name === null) continue;
      writer.textField(name);
      assert.deepEqual(writer.take(), encodeField(name), label);
    }
  });

  it('grows from a tiny buffer without corrupting what it wrote', () => {
    const writer = new CopyTextWriter(1);
    const long = 'ü\\'.repeat(20_000);
    writer.rawField(bytes('key'), 0, 3);
    writer.textField(long);
    writer.rawField(bytes(`..${'r'.repeat(5_000)}..`), 2, 5_002);
    writer.nullField();
    writer.endLine();
    assert.deepEqual(decodeRows(writer.take()), [['key', long, 'r'.repeat(5_000), null]]);
  });

  it('take hands over the bytes and never writes into them again', () => {
    const writer = new CopyTextWriter(64);
    writer.textField('first');
    writer.endLine();
    const first = writer.take();
    writer.textField('second line that is longer than the first');
    writer.endLine();
    writer.reset(10);
    writer.textField('third');
    assert.equal(first.toString(), 'first\n');
  });

  it('asciiField writes short and long ASCII as it is, with the tab', () => {
    const writer = new CopyTextWriter(1);
    const long = '0123456789'.repeat(1_000);
    writer.asciiField('2024-01-02');
    writer.asciiField(long);
    writer.asciiField('');
    writer.endLine();
    assert.equal(writer.take().toString(), `2024-01-02\t${long}\t\n`);
  });

  it('openField/closeField: bytes written in place count only once closed', () => {
    const writer = new CopyTextWriter(1);
    writer.textField('a');
    let at = writer.openField(3);
    writer.buf.write('xyz', at, 'latin1');
    // Given up: not closed, so nothing of it shows, and the next field is separated as usual.
    at = writer.openField(2000);
    writer.buf.write('b'.repeat(2000), at, 'latin1');
    writer.closeField(at + 2000);
    writer.endLine();
    at = writer.openField(1);
    writer.buf.write('c', at, 'latin1');
    writer.closeField(at + 1);
    writer.endLine();
    assert.equal(writer.take().toString(), `a\t${'b'.repeat(2000)}\nc\n`);
  });

  it('rewind drops a half-written line', () => {
    const writer = new CopyTextWriter(64);
    writer.textField('kept');
    writer.endLine();
    const mark = writer.pos;
    writer.textField('dropped');
    writer.textField('too');
    writer.rewind(mark);
    writer.textField('next');
    writer.endLine();
    assert.equal(writer.take().toString(), 'kept\nnext\n');
  });
});

describe('encodeRow and decodeRows', () => {
  it('round-trip rows of text and NULLs', () => {
    const rows = [
      ['1', 'Anna\tMaria', null],
      ['2', '\\N', '\n'],
      ['3', '', 'é😀'],
    ];
    const text = Buffer.concat(rows.map(encodeRow));
    assert.equal(text.toString(), '1\tAnna\\tMaria\t\\N\n2\t\\\\N\t\\n\n3\t\té😀\n');
    assert.deepEqual(decodeRows(text), rows);
  });

  it('decodeRows refuses text that ends without a newline', () => {
    assert.throws(() => decodeRows(bytes('1\ta\n2\tb')), (error: unknown) => {
      assert.ok(error instanceof CopyFormatError);
      assert.match(error.message, /without a newline after row 1: 3 bytes/);
      return true;
    });
  });
});
