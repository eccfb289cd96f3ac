// A LocalStack-shaped edge endpoint for the embedded stack: one loopback port that answers the
// Lambda Invoke API by running the real handler modules in isolated child processes (one warm
// sandbox per concurrent invocation, as Lambda runs execution environments) and forwards every
// other request (the SQS JSON protocol) to an SQS-compatible server. With
// AWS_ENDPOINT_URL=<this endpoint>, the AWS SDK reaches Lambda and SQS here exactly as it reaches
// LocalStack's edge port 4566, so the CLI and the e2e script run unchanged against either.
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The coordinator Lambda's entry point, for `functions` below. */
export const COORDINATOR_HANDLER = fileURLToPath(new URL('../lambdas/coordinator/handler.ts', import.meta.url));
/** The worker Lambda's entry point. */
export const WORKER_HANDLER = fileURLToPath(new URL('../lambdas/worker/handler.ts', import.meta.url));

const THIS_FILE = fileURLToPath(import.meta.url);
const SANDBOX_FLAG = '--lambda-sandbox';
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const LAMBDA_API_PATH = /^\/20\d\d-\d\d-\d\d\//;
/** Synchronous invocation payload limit of Lambda, both ways. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Lambda returns at most the last 4 KB of the log with `LogType: Tail`. */
const LOG_TAIL_BYTES = 4096;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

export interface LambdaFunctionDefinition {
  /** Path of the module that exports `handler`. */
  readonly handlerModule: string;
  /**
   * The function's environment variables, as the stack sets them. The sandbox gets only these plus
   * what Lambda itself sets (region, credentials, function name) and what LocalStack injects
   * (AWS_ENDPOINT_URL, pointing back at this endpoint).
   */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Invocation timeout; the sandbox is killed and replaced when it is exceeded.
   * @default 300
   */
  readonly timeoutSeconds?: number;
  /**
   * Reserved concurrency: invocations beyond it are throttled (HTTP 429 TooManyRequestsException),
   * which the AWS SDK retries with backoff, as it does against Lambda.
   * @default 10
   */
  readonly reservedConcurrency?: number;
  /**
   * Memory reported to the handler's context (nothing is enforced).
   * @default 512
   */
  readonly memoryMb?: number;
}

export interface LambdaEndpointOptions {
  /** Functions by name. */
  readonly functions: Readonly<Record<string, LambdaFunctionDefinition>>;
  /** The SQS-compatible server (fauxqs) that every non-Lambda request is forwarded to. */
  readonly upstream: string;
  /** @default 0 (any free port) */
  readonly port?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '000000000000' (LocalStack's default account) */
  readonly accountId?: string;
  /**
   * Where the sandboxes' stdout/stderr go, line by line, prefixed with the function name.
   * @default writes to process.stderr
   */
  readonly log?: (line: string) => void;
}

export interface LambdaEndpoint {
  /** http://127.0.0.1:PORT — use it as AWS_ENDPOINT_URL. */
  readonly endpoint: string;
  /** Invocations answered so far, per function name. */
  readonly invocations: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

/** The error payload a Node.js Lambda runtime returns (`X-Amz-Function-Error: Unhandled`). */
export interface FunctionErrorPayload {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export async function startLambdaEndpoint(options: LambdaEndpointOptions): Promise<LambdaEndpoint> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const upstream = new URL(options.upstream);
  const hosts = new Map<string, FunctionHost>();
  const invocations: Record<string, number> = {};
  let endpoint = '';

  const server: Server = createServer((req, res) => {
    void route(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'ServiceException', `pg-fanout lambda endpoint: ${(error as Error).message}`, 'Service');
      else res.destroy();
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://edge');
    const body = await readBody(req);
    const invoke = INVOKE_PATH.exec(url.pathname);
    if (invoke && req.method === 'POST') return handleInvoke(decodeURIComponent(invoke[1]!), url.searchParams.get('Qualifier'), req, body, res);
    if (url.pathname === '/_localstack/health' && req.method === 'GET') {
      // The shape of LocalStack's health endpoint, so a readiness check works against both.
      return sendJson(res, 200, { services: { lambda: 'running', sqs: 'running' }, edition: 'pg-fanout-embedded', version: 'embedded' });
    }
    if (LAMBDA_API_PATH.test(url.pathname)) {
      return sendError(res, 501, 'NotImplementedException', `${req.method} ${url.pathname} is not emulated by the pg-fanout embedded endpoint: only Invoke is (deploy to LocalStack for the full Lambda API).`, 'Service');
    }
    return forward(req, body, res);
  }

  async function handleInvoke(nameOrArn: string, qualifier: string | null, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const parsed = parseFunctionName(nameOrArn);
    const version = qualifier ?? parsed.qualifier;
    const arn = `arn:aws:lambda:${region}:${accountId}:function:${parsed.name}`;
    const definition = options.functions[parsed.name];
    if (definition === undefined || (version !== undefined && version !== '$LATEST')) {
      return sendError(res, 404, 'ResourceNotFoundException', `Function not found: ${arn}${version !== undefined ? `:${version}` : ''}`);
    }
    if (body.length > MAX_PAYLOAD_BYTES) {
      return sendError(res, 413, 'RequestTooLargeException', `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation`);
    }
    let event: unknown;
    try {
      event = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch (error) {
      return sendError(res, 400, 'InvalidRequestContentException', `Could not parse request body into json: ${(error as Error).message}`);
    }
    const invocationType = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
    if (invocationType !== 'RequestResponse' && invocationType !== 'Event' && invocationType !== 'DryRun') {
      return sendError(res, 400, 'InvalidParameterValueException', `InvocationType ${JSON.stringify(invocationType)} is not one of RequestResponse, Event, DryRun.`);
    }
    if (invocationType === 'DryRun') {
      res.writeHead(204, { 'x-amzn-requestid': randomUUID() });
      res.end();
      return;
    }
    let host = hosts.get(parsed.name);
    if (host === undefined) {
      host = new FunctionHost(parsed.name, arn, definition, { ...definition.env, AWS_ENDPOINT_URL: definition.env.AWS_ENDPOINT_URL ?? endpoint }, region, log);
      hosts.set(parsed.name, host);
    }
    const requestId = randomUUID();
    if (invocationType === 'Event') {
      // Asynchronous: accepted now, run when a sandbox is free; the outcome only reaches the log.
      res.writeHead(202, { 'x-amzn-requestid': requestId });
      res.end();
      void host.invokeWhenFree(event, requestId).then((outcome) => {
        invocations[parsed.name] = (invocations[parsed.name] ?? 0) + 1;
        if (!outcome.ok) log(`[${parsed.name}] async invocation ${requestId} failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
      });
      return;
    }
    const outcome = await host.invoke(event, requestId);
    if (outcome === 'throttled') {
      res.setHeader('x-amzn-requestid', requestId);
      return sendJson(res, 429, { Type: 'User', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', message: 'Rate Exceeded.' }, 'TooManyRequestsException');
    }
    invocations[parsed.name] = (invocations[parsed.name] ?? 0) + 1;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST', 'x-amzn-requestid': requestId };
    if (header(req, 'x-amz-log-type') === 'Tail') headers['x-amz-log-result'] = outcome.logTail.toString('base64');
    let payload = outcome.ok ? outcome.payload : JSON.stringify(outcome.error);
    if (outcome.ok && Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
      payload = JSON.stringify({ errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).` });
      headers['x-amz-function-error'] = 'Unhandled';
    }
    if (!outcome.ok) headers['x-amz-function-error'] = 'Unhandled';
    res.writeHead(200, headers);
    res.end(payload);
  }

  function forward(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.length) };
      const upstreamRequest = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (upstreamResponse) => {
        const chunks: Buffer[] = [];
        upstreamResponse.on('data', (c: Buffer) => chunks.push(c));
        upstreamResponse.on('end', () => {
          const payload = Buffer.concat(chunks);
          const out: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(upstreamResponse.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
          out['content-length'] = String(payload.length);
          res.writeHead(upstreamResponse.statusCode ?? 502, out);
          res.end(payload);
          resolve();
        });
        upstreamResponse.on('error', () => {
          res.destroy();
          resolve();
        });
      });
      upstreamRequest.on('error', (error) => {
        sendError(res, 502, 'ServiceUnavailable', `the SQS server at ${upstream.origin} did not answer (${error.message}): is it running?`, 'Service');
        resolve();
      });
      upstreamRequest.end(body);
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    invocations,
    async stop() {
      await Promise.all([...hosts.values()].map((h) => h.stop()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** `name`, `name:qualifier`, `arn:aws:lambda:region:account:function:name[:qualifier]` or `account:function:name`. */
export function parseFunctionName(value: string): { name: string; qualifier?: string } {
  const arn = /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:)?\d{12}:function:([A-Za-z0-9_-]+)(?::([A-Za-z0-9$_-]+))?$/.exec(value);
  if (arn) return arn[2] === undefined ? { name: arn[1]! } : { name: arn[1]!, qualifier: arn[2] };
  const [name, qualifier] = value.split(':', 2) as [string, string | undefined];
  return qualifier === undefined ? { name } : { name, qualifier };
}

type InvokeOutcome = { ok: true; payload: string; logTail: Buffer } | { ok: false; error: FunctionErrorPayload; logTail: Buffer };

/** The sandboxes of one function: warm ones are reused, at most `reservedConcurrency` at once. */
class FunctionHost {
  readonly #idle: Sandbox[] = [];
  readonly #waiting: (() => void)[] = [];
  #busy = 0;
  readonly #limit: number;
  readonly #make: () => Sandbox;
  readonly #all = new Set<Sandbox>();

  constructor(name: string, arn: string, definition: LambdaFunctionDefinition, env: Record<string, string>, region: string, log: (line: string) => void) {
    this.#limit = definition.reservedConcurrency ?? 10;
    const timeoutMs = (definition.timeoutSeconds ?? 300) * 1000;
    const memoryMb = definition.memoryMb ?? 512;
    // What Lambda sets in every execution environment, and the credentials LocalStack hands out.
    const sandboxEnv = {
      ...env,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
    };
    this.#make = () => {
      const sandbox = new Sandbox({ name, arn, handlerModule: definition.handlerModule, env: sandboxEnv, timeoutMs, memoryMb, log });
      this.#all.add(sandbox);
      return sandbox;
    };
  }

  /** Runs the invocation, or answers 'throttled' when every reserved slot is busy. */
  async invoke(event: unknown, requestId: string): Promise<InvokeOutcome | 'throttled'> {
    if (this.#busy >= this.#limit) return 'throttled';
    return this.#run(event, requestId);
  }

  /** Waits for a free slot instead of throttling (asynchronous invocations queue in Lambda). */
  async invokeWhenFree(event: unknown, requestId: string): Promise<InvokeOutcome> {
    while (this.#busy >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    return this.#run(event, requestId);
  }

  async #run(event: unknown, requestId: string): Promise<InvokeOutcome> {
    this.#busy += 1;
    let sandbox = this.#idle.pop();
    while (sandbox !== undefined && !sandbox.alive) {
      this.#all.delete(sandbox);
      sandbox = this.#idle.pop();
    }
    sandbox ??= this.#make();
    try {
      return await sandbox.invoke(event, requestId);
    } finally {
      this.#busy -= 1;
      if (sandbox.alive) this.#idle.push(sandbox);
      else this.#all.delete(sandbox);
      this.#waiting.shift()?.();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#all].map((s) => s.stop()));
  }
}

interface SandboxOptions {
  name: string;
  arn: string;
  handlerModule: string;
  env: Record<string, string>;
  timeoutMs: number;
  memoryMb: number;
  log: (line: string) => void;
}

type ChildMessage =
  | { type: 'ready' }
  | { type: 'init-error'; error: FunctionErrorPayload }
  | { type: 'result'; id: string; payload: string }
  | { type: 'error'; id: string; error: FunctionErrorPayload };

/** One execution environment: a child process that imports the handler once and serves invocations. */
class Sandbox {
  readonly #options: SandboxOptions;
  #child: ChildProcess | undefined;
  #ready: Promise<FunctionErrorPayload | undefined> | undefined;
  #settle: ((message: ChildMessage | { type: 'exit'; detail: string }) => void) | undefined;
  #logTail: Buffer[] = [];
  #logBytes = 0;
  #killed = false;

  constructor(options: SandboxOptions) {
    this.#options = options;
  }

  get alive(): boolean {
    const c = this.#child;
    return c === undefined || (!this.#killed && c.exitCode === null && c.signalCode === null);
  }

  /** Discard the environment; `alive` is false from now on, not only once the exit is seen. */
  #kill(): void {
    this.#killed = true;
    this.#child?.kill('SIGKILL');
  }

  async invoke(event: unknown, requestId: string): Promise<InvokeOutcome> {
    const { timeoutMs, name } = this.#options;
    this.#logTail = [];
    this.#logBytes = 0;
    const deadline = Date.now() + timeoutMs;
    const initError = await this.#start();
    if (initError !== undefined) {
      // A failed init is reported on the invocation that caused it; the next one starts afresh.
      this.#kill();
      return { ok: false, error: initError, logTail: this.#tail() };
    }
    const child = this.#child!;
    const answer = new Promise<ChildMessage | { type: 'exit'; detail: string }>((resolve) => (this.#settle = resolve));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()))));
    child.send({ type: 'invoke', id: requestId, event, deadline }, (error) => {
      if (error) this.#settle?.({ type: 'exit', detail: `the sandbox could not be reached (${error.message})` });
    });
    const result = await Promise.race([answer, timedOut]);
    clearTimeout(timer);
    this.#settle = undefined;
    if (result === 'timeout') {
      // Lambda ends a timed-out invocation by discarding the environment; so does this.
      this.#kill();
      return { ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds` }, logTail: this.#tail() };
    }
    if (result.type === 'result') return { ok: true, payload: result.payload, logTail: this.#tail() };
    if (result.type === 'error') return { ok: false, error: result.error, logTail: this.#tail() };
    if (result.type === 'exit') {
      this.#kill();
      return { ok: false, error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${result.detail}` }, logTail: this.#tail() };
    }
    return { ok: false, error: { errorType: 'Runtime.Unknown', errorMessage: `unexpected message from ${name}'s sandbox: ${result.type}` }, logTail: this.#tail() };
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.alive) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  #start(): Promise<FunctionErrorPayload | undefined> {
    if (this.#child !== undefined && this.alive && this.#ready !== undefined) return this.#ready;
    const { handlerModule, env, name, arn, memoryMb, log } = this.#options;
    const child = fork(THIS_FILE, [SANDBOX_FLAG, handlerModule, name, arn, String(memoryMb)], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
    this.#child = child;
    this.#killed = false;
    // IPC errors (a send racing the child's exit) surface through the invocation, not as a crash.
    child.on('error', (error) => log(`[${name}] sandbox: ${error.message}`));
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        this.#remember(chunk);
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) log(`[${name}] ${line}`);
      });
      stream.on('end', () => partial && log(`[${name}] ${partial}`));
    }
    this.#ready = new Promise((resolve) => {
      child.on('message', (message: ChildMessage) => {
        if (message.type === 'ready') resolve(undefined);
        else if (message.type === 'init-error') resolve(message.error);
        else this.#settle?.(message);
      });
      child.once('exit', (code, signal) => {
        const detail = signal !== null ? `signal: ${signal === 'SIGKILL' ? 'killed' : signal}` : `exit status ${code}`;
        resolve({ errorType: 'Runtime.ExitError', errorMessage: `Runtime exited during init: ${detail}` });
        this.#settle?.({ type: 'exit', detail });
      });
    });
    return this.#ready;
  }

  #remember(chunk: Buffer): void {
    this.#logTail.push(chunk);
    this.#logBytes += chunk.length;
    while (this.#logBytes - (this.#logTail[0]?.length ?? 0) >= LOG_TAIL_BYTES && this.#logTail.length > 1) this.#logBytes -= this.#logTail.shift()!.length;
  }

  #tail(): Buffer {
    const all = Buffer.concat(this.#logTail);
    return all.subarray(Math.max(0, all.length - LOG_TAIL_BYTES));
  }
}

// ---- inside a sandbox (the child process) ----

function errorPayload(error: unknown): FunctionErrorPayload {
  if (error instanceof Error) return { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  return { errorType: 'Error', errorMessage: String(error) };
}

async function serveSandbox(handlerModule: string, functionName: string, functionArn: string, memoryMb: string): Promise<void> {
  type Handler = (event: unknown, context: unknown) => Promise<unknown>;
  let handler: Handler;
  try {
    const loaded = (await import(pathToFileURL(handlerModule).href)) as { handler?: unknown };
    if (typeof loaded.handler !== 'function') throw Object.assign(new Error(`${handlerModule} does not export a function named handler`), { name: 'Runtime.HandlerNotFound' });
    handler = loaded.handler as Handler;
  } catch (error) {
    process.send?.({ type: 'init-error', error: errorPayload(error) });
    process.disconnect?.();
    return;
  }
  process.on('message', async (message: { type: 'invoke'; id: string; event: unknown; deadline: number }) => {
    const context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: functionArn,
      memoryLimitInMB: memoryMb,
      awsRequestId: message.id,
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: `local/${process.pid}`,
      getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    };
    try {
      const result = await handler(message.event, context);
      process.send?.({ type: 'result', id: message.id, payload: JSON.stringify(result ?? null) });
    } catch (error) {
      process.send?.({ type: 'error', id: message.id, error: errorPayload(error) });
    }
  });
  // The endpoint that owns this sandbox is gone: end too, as an execution environment would.
  process.on('disconnect', () => process.exit(1));
  process.send?.({ type: 'ready' });
}

if (process.argv[1] === THIS_FILE && process.argv[2] === SANDBOX_FLAG) {
  const [, , , handlerModule, functionName, functionArn, memoryMb] = process.argv as string[];
  await serveSandbox(handlerModule!, functionName!, functionArn!, memoryMb!);
}

// ---- HTTP helpers ----

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) };
  if (errorType !== undefined) headers['x-amzn-errortype'] = errorType;
  res.writeHead(status, headers);
  res.end(text);
}

/** Lambda's REST-JSON error shape: the type in `x-amzn-ErrorType`, the message in the body. */
function sendError(res: ServerResponse, status: number, type: string, message: string, fault: 'User' | 'Service' = 'User'): void {
  sendJson(res, status, { Type: fault, message }, type);
}
