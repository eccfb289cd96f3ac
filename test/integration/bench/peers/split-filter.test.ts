// The benchmark's C filter gives pg-fanout's answer: every adversarial name goes through it as
// COPY text and comes out split as the spec says (rejected rows dropped), byte for byte what
// PostgreSQL's COPY TO would send. Skips when there is no C compiler.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ensureSplitFilter } from '../../../../bench/peers/split-filter.ts';
import { encodeRow } from '../../../../lambdas/transform/copy-text.ts';
import { adversarialNames } from '../../../fixtures/adversarial-names.ts';

const compiler = process.env.CC ?? 'cc';
const hasCompiler = spawnSync(compiler, ['--version']).status === 0;

function runFilter(input: Buffer): { stdout: Buffer; stderr: string; status: number | null } {
  const r = spawnSync(ensureSplitFilter(compiler), [], { input, maxBuffer: 1 << 30 });
  return { stdout: r.stdout, stderr: r.stderr.toString(), status: r.status };
}

test('the C split filter agrees with the spec on every adversarial name', { skip: hasCompiler ? false : `no C compiler (${compiler}) here` }, () => {
  const input = Buffer.concat(adversarialNames.map((n, i) => encodeRow([String(i + 1), n.name, n.age === null ? null : String(n.age)])));
  const { stdout, stderr, status } = runFilter(input);
  assert.equal(status, 0, stderr);

  const expected = adversarialNames.flatMap((n, i) =>
    'reject' in n.expected ? [] : [encodeRow([String(i + 1), n.expected.firstName, n.expected.lastName, n.age === null ? null : String(n.age)])],
  );
  const got = stdout.toString('utf8').split('\n').slice(0, -1);
  const want = Buffer.concat(expected).toString('utf8').split('\n').slice(0, -1);
  assert.equal(got.length, want.length, 'one row out per accepted name, none for a rejected one');
  for (const [i, line] of want.entries()) {
    const label = adversarialNames[Number(line.split('\t')[0]) - 1]!.label;
    assert.equal(got[i], line, label);
  }
  assert.ok(adversarialNames.some((n) => 'reject' in n.expected), 'the corpus has rejects to drop');
});

test('the C split filter handles rows longer than its buffers and input without a final newline', { skip: hasCompiler ? false : `no C compiler (${compiler}) here` }, () => {
  const long = `${'x'.repeat(9 << 20)}\t${'y\\z '.repeat(1 << 20)}`;
  const input = Buffer.concat([encodeRow(['1', `  ${long}  `, '5']), Buffer.from('2\tAnna Smith\t\\N')]);
  const { stdout, stderr, status } = runFilter(input);
  assert.equal(status, 0, stderr);
  const want = Buffer.concat([encodeRow(['1', 'x'.repeat(9 << 20), `${'y\\z '.repeat(1 << 20)}`.trimEnd(), '5']), Buffer.from('2\tAnna\tSmith\t\\N\n')]);
  assert.equal(stdout.length, want.length);
  assert.ok(stdout.equals(want));
});

test('the C split filter refuses a row that is not (id, name, age) and says what to send', { skip: hasCompiler ? false : `no C compiler (${compiler}) here` }, () => {
  const { status, stderr } = runFilter(Buffer.from('1\tAnna Smith\t42\n2\tonly two\n'));
  assert.equal(status, 65);
  assert.match(stderr, /line 2: expected 3 tab-separated fields/);
});
