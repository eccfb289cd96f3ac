import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFlags, UsageError, wholeNumberFlag } from '../../../local/cli-args.ts';
import { ConfigError, PgFanoutError } from '../../../lambdas/shared/errors.ts';

const OPTIONS = {
  rows: { type: 'string' },
  'chunk-rows': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
} as const;

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof UsageError, `expected UsageError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a UsageError');
}

/** One line, starting with the command and ending with where to get help. */
function assertOneLineUsage(error: UsageError, command: string): void {
  assert.equal(error.message.includes('\n'), false, error.message);
  assert.ok(error.message.startsWith(`${command}: `), error.message);
  assert.ok(error.message.endsWith(`; see \`pg-fanout ${command} --help\`.`), error.message);
}

describe('parseFlags', () => {
  it('parses the declared flags', () => {
    const { values, positionals } = parseFlags(['--rows', '500', '--chunk-rows=100', '-v'], OPTIONS, 'local');
    assert.deepEqual({ ...values }, { rows: '500', 'chunk-rows': '100', verbose: true });
    assert.deepEqual(positionals, []);
  });

  it('leaves flags that were not given undefined', () => {
    const { values } = parseFlags([], OPTIONS, 'local');
    assert.equal(values.rows, undefined);
    assert.equal(values.verbose, undefined);
    assert.equal(values.help, undefined);
  });

  it('adds --help and -h to every command', () => {
    assert.equal(parseFlags(['--help'], OPTIONS, 'local').values.help, true);
    assert.equal(parseFlags(['-h'], {}, 'status').values.help, true);
  });

  it('takes up to the allowed number of positionals', () => {
    assert.deepEqual(parseFlags(['abc'], OPTIONS, 'resume', 1).positionals, ['abc']);
    assert.deepEqual(parseFlags(['a', '--rows', '1', 'b'], OPTIONS, 'resume', 2).positionals, ['a', 'b']);
    assert.deepEqual(parseFlags([], OPTIONS, 'resume', 1).positionals, []);
  });

  it('rejects an unknown flag in one line naming the command and the flag', () => {
    const error = usageError(() => parseFlags(['--nope'], OPTIONS, 'local'));
    assertOneLineUsage(error, 'local');
    assert.match(error.message, /'--nope'/);
  });

  it('rejects a positional for a command that takes none, in one line naming it', () => {
    const error = usageError(() => parseFlags(['extra'], OPTIONS, 'local'));
    assertOneLineUsage(error, 'local');
    assert.match(error.message, /'extra'/);
  });

  it('rejects a positional beyond the allowed count, naming the first extra one', () => {
    const error = usageError(() => parseFlags(['a', 'b', 'c'], OPTIONS, 'resume', 1));
    assert.equal(error.message, 'resume: unexpected argument "b"; see `pg-fanout resume --help`.');
  });

  it('rejects a string flag without a value in one line', () => {
    const error = usageError(() => parseFlags(['--rows'], OPTIONS, 'local'));
    assertOneLineUsage(error, 'local');
    assert.match(error.message, /--rows/);
  });

  it('rejects a value given to a boolean flag in one line', () => {
    const error = usageError(() => parseFlags(['--verbose=yes'], OPTIONS, 'local'));
    assertOneLineUsage(error, 'local');
    assert.match(error.message, /--verbose/);
  });

  it('throws a UsageError that is a ConfigError and a PgFanoutError', () => {
    const error = usageError(() => parseFlags(['--nope'], OPTIONS, 'local'));
    assert.equal(error.name, 'UsageError');
    assert.ok(error instanceof ConfigError);
    assert.ok(error instanceof PgFanoutError);
  });
});

describe('wholeNumberFlag', () => {
  it('is undefined when the flag was not given', () => {
    assert.equal(wholeNumberFlag(undefined, '--rows'), undefined);
  });

  it('parses whole numbers, allowing _ as a digit separator', () => {
    assert.equal(wholeNumberFlag('0', '--rows'), 0);
    assert.equal(wholeNumberFlag('100000', '--rows'), 100_000);
    assert.equal(wholeNumberFlag('100_000', '--rows'), 100_000);
    assert.equal(wholeNumberFlag('1_000_000', '--rows'), 1_000_000);
    assert.equal(wholeNumberFlag('007', '--rows'), 7);
  });

  it('rejects anything else, naming the flag and value and giving an example', () => {
    for (const value of ['abc', '', '_', '1e5', '-1', '1.5', ' 5', '0x10', '+3', '99999999999999999999']) {
      assert.throws(() => wholeNumberFlag(value, '--chunk-rows'), {
        name: 'UsageError',
        message: `--chunk-rows is ${JSON.stringify(value)}: give a whole number, e.g. --chunk-rows 100000.`,
      });
    }
  });
});
