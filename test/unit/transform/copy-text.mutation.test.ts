// Edges of the COPY text codec that copy-text.test.ts leaves open: escapes at the end of a field
// range inside a bigger buffer, the hex digit bounds, and CopyTextWriter filling its buffer exactly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyTextWriter, decodeField, decodeRows, encodeRow, isNullField } from '../../../lambdas/transform/copy-text.ts';

describe('decodeField within a range', () => {
  it('stops an octal or hex escape at the end of the range, whatever digits follow it', () => {
    assert.deepEqual([...decodeField(Buffer.from('\\17'), 0, 2)!], [0o1]);
    assert.deepEqual([...decodeField(Buffer.from('\\127'), 0, 3)!], [0o12]);
    assert.deepEqual([...decodeField(Buffer.from('\\x4f'), 0, 3)!], [0x4]);
    assert.deepEqual([...decodeField(Buffer.from('a\\x4f'), 1, 4)!], [0x4]);
  });

  it('takes only 0-9, A-F and a-f as hex digits', () => {
    assert.equal(decodeField(Buffer.from('\\x:'))!.toString(), 'x:');
    assert.equal(decodeField(Buffer.from('\\x/'))!.toString(), 'x/');
    assert.equal(decodeField(Buffer.from('\\x@'))!.toString(), 'x@');
    assert.equal(decodeField(Buffer.from('\\xG'))!.toString(), 'xG');
    assert.deepEqual([...decodeField(Buffer.from('\\x9'))!], [9]);
    assert.deepEqual([...decodeField(Buffer.from('\\xAf'))!], [0xaf]);
    assert.deepEqual([...decodeField(Buffer.from('\\x4g'))!], [0x4, 0x67]);
  });
});

describe('decodeRows', () => {
  it('refuses text that does not end in a newline, counting the rows before and the bytes left', () => {
    assert.throws(() => decodeRows(Buffer.from('a\tb\nc\td')), {
      name: 'CopyFormatError',
      message: 'COPY text ends without a newline after row 1: 3 bytes of an incomplete row; pass whole rows, each ending in \\n',
    });
  });
});

describe('CopyTextWriter', () => {
  it('starts a new line with no tab after reset, forgetting what was written', () => {
    const w = new CopyTextWriter(64);
    w.textField('old');
    w.reset(10);
    w.textField('new');
    w.endLine();
    assert.equal(w.take().toString(), 'new\n');
  });

  it('separates a field after a NULL with a tab', () => {
    assert.equal(encodeRow([null, 'x', null]).toString(), '\\N\tx\t\\N\n');
    const w = new CopyTextWriter(64);
    w.nullField();
    w.rawField(Buffer.from('y'), 0, 1);
    assert.equal(w.take().toString(), '\\N\ty');
  });

  it('grows for raw bytes, raw fields, text and a newline that do not fit, losing none', () => {
    const raw = new CopyTextWriter(0);
    raw.appendRaw(Buffer.alloc(300, 0x61));
    assert.equal(raw.take().toString(), 'a'.repeat(300));

    const field = new CopyTextWriter(0);
    field.rawField(Buffer.from('a'), 0, 1);
    field.rawField(Buffer.alloc(257, 0x62), 0, 257);
    field.endLine();
    assert.equal(field.take().toString(), `a\t${'b'.repeat(257)}\n`);

    const text = new CopyTextWriter(0);
    text.appendRaw(Buffer.alloc(249, 0x61));
    text.textField('€€€');
    assert.equal(text.take().toString(), `${'a'.repeat(249)}€€€`);

    const line = new CopyTextWriter(0);
    line.appendRaw(Buffer.alloc(256, 0x61));
    line.endLine();
    assert.equal(line.take().toString(), `${'a'.repeat(256)}\n`);
  });

  it('grows for an ASCII field that ends past the buffer, at every fill level near the end', () => {
    for (let fill = 240; fill <= 256; fill++) {
      const w = new CopyTextWriter(0);
      w.appendRaw(Buffer.alloc(fill, 0x61));
      w.asciiField('1234567');
      w.endLine();
      assert.equal(w.take().toString(), `${'a'.repeat(fill)}1234567\n`, `after ${fill} bytes`);
    }
  });

  it('separates the field after one an encoder wrote through openField/closeField', () => {
    const w = new CopyTextWriter(0);
    const at = w.openField(3);
    w.buf.write('abc', at, 'latin1');
    w.closeField(at + 3);
    w.rawField(Buffer.from('d'), 0, 1);
    w.endLine();
    assert.equal(w.take().toString(), 'abc\td\n');
  });
});

describe('isNullField', () => {
  it('is true only for a backslash followed by N', () => {
    assert.equal(isNullField(Buffer.from('\\N'), 0, 2), true);
    assert.equal(isNullField(Buffer.from('AN'), 0, 2), false);
    assert.equal(isNullField(Buffer.from('\\n'), 0, 2), false);
    assert.equal(isNullField(Buffer.from('x\\N'), 1, 3), true);
  });
});
