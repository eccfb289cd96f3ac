// One isolated worker instance, as Lambda runs it: a child process with its own module scope (its
// own config, pool and connections), reused across invocations, killed and replaced on timeout.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

const CHILD = fileURLToPath(new URL('./worker-sandbox-child.ts', import.meta.url));

export type InvokeOutcome =
  | { kind: 'response'; response: SQSBatchResponse }
  | { kind: 'error'; error: string }
  | { kind: 'timeout' }
  | { kind: 'crashed'; signal: string | null; code: number | null };

export class WorkerSandbox {
  readonly #env: NodeJS.ProcessEnv;
  #child: ChildProcess | undefined;
  #ready: Promise<void> | undefined;
  #nextId = 1;
  #pending = new Map<number, (outcome: InvokeOutcome) => void>();
  /** Largest resident set this instance reported, in bytes (what a Lambda's memory size must hold). */
  peakRssBytes = 0;
  /** CPU time of the instances that ended, and what the running one last reported (ms). */
  #endedCpuMs = 0;
  #runningCpuMs = 0;

  constructor(env: NodeJS.ProcessEnv) {
    this.#env = env;
  }

  /** CPU time this instance's processes used, as last reported after an invocation (init included), in ms. */
  get cpuMs(): number {
    return this.#endedCpuMs + this.#runningCpuMs;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Start the instance ahead of the first event (its init runs now: module scope, connections). */
  warm(): Promise<void> {
    return this.#start().catch(() => undefined);
  }

  async invoke(event: SQSEvent, timeoutMs: number): Promise<InvokeOutcome> {
    try {
      await this.#start();
    } catch (error) {
      return { kind: 'crashed', signal: null, code: null };
    }
    const child = this.#child;
    // Killed between start-up and this invocation (a fault test's SIGKILL, a timeout on another batch).
    if (child === undefined || !running(child)) {
      return { kind: 'crashed', signal: child?.signalCode ?? null, code: child?.exitCode ?? null };
    }
    const id = this.#nextId++;
    return new Promise<InvokeOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        // Lambda ends a timed-out invocation by discarding the environment; so do we.
        this.kill();
        resolve({ kind: 'timeout' });
      }, timeoutMs);
      this.#pending.set(id, (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
      // A child that dies as the message goes out fails the write (EPIPE); its 'exit' settles this
      // invocation as crashed, so the error only needs to be kept from becoming an unhandled event.
      child.send({ id, event, timeoutMs }, (error) => {
        if (error) child.kill('SIGKILL');
      });
    });
  }

  kill(): void {
    this.#child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || !running(child)) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  #start(): Promise<void> {
    if (running(this.#child) && this.#ready) return this.#ready;
    const child = fork(CHILD, [], { env: this.#env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    this.#child = child;
    this.#ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: { ready?: boolean; id?: number; ok?: boolean; response?: SQSBatchResponse; error?: string; maxRssKb?: number; cpuMs?: number }) => {
        if (m.ready) return resolve();
        if (m.maxRssKb !== undefined) this.peakRssBytes = Math.max(this.peakRssBytes, m.maxRssKb * 1024);
        if (m.cpuMs !== undefined) this.#runningCpuMs = m.cpuMs;
        const settle = m.id === undefined ? undefined : this.#pending.get(m.id);
        if (settle === undefined) return;
        this.#pending.delete(m.id!);
        settle(m.ok ? { kind: 'response', response: m.response ?? { batchItemFailures: [] } } : { kind: 'error', error: m.error ?? 'unknown error' });
      };
      child.on('message', onMessage);
      let ended = false;
      const end = (code: number | null, signal: NodeJS.Signals | null) => {
        if (ended) return;
        ended = true;
        reject(new Error(`worker sandbox exited during start-up (code ${code}, signal ${signal})`));
        for (const [id, settle] of this.#pending) {
          this.#pending.delete(id);
          settle({ kind: 'crashed', signal, code });
        }
        if (this.#child === child) this.#child = undefined;
        this.#endedCpuMs += this.#runningCpuMs;
        this.#runningCpuMs = 0;
      };
      child.once('exit', end);
      // 'error' without 'exit' means the process never started (or could not be signalled, which 'exit' follows).
      child.on('error', () => {
        if (child.pid === undefined) end(null, null);
      });
    });
    this.#ready.catch(() => undefined);
    return this.#ready;
  }
}

/** Started and not yet exited or killed. */
function running(child: ChildProcess | undefined): boolean {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}
