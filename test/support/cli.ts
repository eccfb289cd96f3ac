// Runs the pg-fanout CLI as a real child process, as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../local/cli.ts', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startCli(args: string[], env: Record<string, string | undefined>): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', CLI, ...args], {
    env: { ...withoutPipelineEnv(process.env), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return startCli(args, env).done;
}

/** The runner's DATABASE_URL must not leak into a CLI run that a test points elsewhere. */
function withoutPipelineEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const k of ['DATABASE_URL', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_SQS', 'SOURCE_TABLE', 'TARGET_TABLE', 'KEY_COLUMN', 'WORK_QUEUE_URL', 'DEAD_LETTER_QUEUE_URL', 'COORDINATOR_FUNCTION', 'AWS_ENDPOINT_URL_LAMBDA']) delete copy[k];
  return copy;
}
