// Pure argument handling for the CLI: flags to typed options, one-line errors that name the flag.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../lambdas/shared/errors.ts';
import { parseRunMode, parseWholeNumber, type RunMode } from '../lambdas/shared/config.ts';

export class UsageError extends ConfigError {
  override name = 'UsageError';
}

export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, command: string, positionals = 0) {
  try {
    const parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: positionals > 0, strict: true });
    if (parsed.positionals.length > positionals) {
      throw new UsageError(`${command}: unexpected argument ${JSON.stringify(parsed.positionals[positionals])}; see \`pg-fanout ${command} --help\`.`);
    }
    return parsed;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${command}: ${(error as Error).message.split('\n')[0]}; see \`pg-fanout ${command} --help\`.`);
  }
}

export function wholeNumberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseWholeNumber(value.replaceAll('_', ''), flag);
  } catch {
    throw new UsageError(`${flag} is ${JSON.stringify(value)}: give a whole number, e.g. ${flag} 100000.`);
  }
}

export function runModeFlag(value: string | undefined): RunMode | undefined {
  if (value === undefined) return undefined;
  try {
    return parseRunMode(value, '--mode');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function refreshFlag(value: string | undefined): 'shadow' | 'in-place' | undefined {
  if (value === undefined) return undefined;
  if (value === 'shadow' || value === 'in-place') return value;
  throw new UsageError(`--refresh ${JSON.stringify(value)}: use shadow or in-place.`);
}
