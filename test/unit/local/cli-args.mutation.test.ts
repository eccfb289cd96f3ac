// The CLI's --mode and --refresh flags (cli-args.test.ts covers parseFlags and wholeNumberFlag).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refreshFlag, runModeFlag, UsageError } from '../../../local/cli-args.ts';

describe('runModeFlag', () => {
  it('is undefined when the flag was not given, and the mode when it was', () => {
    assert.equal(runModeFlag(undefined), undefined);
    for (const mode of ['full', 'incremental', 'append']) assert.equal(runModeFlag(mode), mode);
  });

  it('refuses another mode with a UsageError naming the flag and the choices', () => {
    assert.throws(() => runModeFlag('Full'), (error: Error) => error instanceof UsageError && error.name === 'UsageError' && error.message === '--mode is "Full": use "incremental", "full" or "append".');
  });
});

describe('refreshFlag', () => {
  it('is undefined when the flag was not given, and the refresh when it was', () => {
    assert.equal(refreshFlag(undefined), undefined);
    assert.equal(refreshFlag('shadow'), 'shadow');
    assert.equal(refreshFlag('in-place'), 'in-place');
  });

  it('refuses anything else with a UsageError naming the value and the choices', () => {
    assert.throws(() => refreshFlag('inplace'), (error: Error) => error instanceof UsageError && error.message === '--refresh "inplace": use shadow or in-place.');
  });
});
