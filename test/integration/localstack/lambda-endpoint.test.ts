// local/lambda-endpoint.ts through the AWS SDK, as the CLI and the e2e script use it: Lambda
// Invoke semantics (payloads, function errors, init errors, timeouts, crashes, throttling, warm
// sandboxes, log tails, the function's environment) and SQS requests forwarded to fauxqs, all on one
// AWS_ENDPOINT_URL as on LocalStack's edge port.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseFunctionName, startLambdaEndpoint, type LambdaEndpoint } from '../../../local/lambda-endpoint.ts';
import { startTestSqs, type TestSqs } from '../../support/sqs.ts';

const PROBE = fileURLToPath(new URL('./fixtures/probe-handler.ts', import.meta.url));
const FAILING_INIT = fileURLToPath(new URL('./fixtures/failing-init-handler.ts', import.meta.url));
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

function payload(r: InvokeCommandOutput): Record<string, unknown> {
  return JSON.parse(Buffer.from(r.Payload ?? new Uint8Array()).toString('utf8')) as Record<string, unknown>;
}

describe('the LocalStack-shaped Lambda endpoint', () => {
  let sqsServer: TestSqs;
  let edge: LambdaEndpoint;
  let lambda: LambdaClient;
  const logs: string[] = [];
  const invoke = (FunctionName: string, event: unknown, extra: Partial<ConstructorParameters<typeof InvokeCommand>[0]> = {}, client = lambda) =>
    client.send(new InvokeCommand({ FunctionName, Payload: Buffer.from(JSON.stringify(event)), ...extra }));

  before(async () => {
    sqsServer = await startTestSqs();
    edge = await startLambdaEndpoint({
      upstream: sqsServer.endpoint,
      functions: {
        probe: { handlerModule: PROBE, env: { PROBE_VALUE: 'from the stack' }, timeoutSeconds: 2 },
        'single-probe': { handlerModule: PROBE, env: {}, reservedConcurrency: 1 },
        'failing-init': { handlerModule: FAILING_INIT, env: {} },
      },
      log: (line) => logs.push(line),
    });
    lambda = new LambdaClient({ endpoint: edge.endpoint, region: 'us-east-1', credentials });
  });
  after(async () => {
    lambda.destroy();
    await edge.stop();
    await sqsServer.stop();
  });

  test('Invoke returns the handler result; the sandbox sees only the function environment plus what Lambda and LocalStack inject', async () => {
    const r = await invoke('probe', { hello: 'world' });
    assert.equal(r.StatusCode, 200);
    assert.equal(r.FunctionError, undefined);
    assert.equal(r.ExecutedVersion, '$LATEST');
    const body = payload(r);
    assert.deepEqual(body.event, { hello: 'world' });
    assert.equal(body.functionName, 'probe');
    assert.equal(body.invokedFunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:probe');
    assert.ok(typeof body.remainingMs === 'number' && body.remainingMs > 1000 && body.remainingMs <= 2000, `remaining ${body.remainingMs}`);
    assert.deepEqual(body.env, {
      PROBE_VALUE: 'from the stack',
      AWS_ENDPOINT_URL: edge.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: 'probe',
      PG_FANOUT_TEST_ADMIN_URL: null,
    });
    assert.ok(logs.some((l) => l.startsWith('[probe] probe invoked ')), 'the sandbox output reaches the log, prefixed with the function');
  });

  test('a warm sandbox is reused; the function can be named by ARN; other qualifiers than $LATEST do not exist', async () => {
    const a = payload(await invoke('probe', {}));
    const b = payload(await invoke('arn:aws:lambda:us-east-1:000000000000:function:probe', {}));
    assert.equal(a.pid, b.pid);
    assert.notEqual(a.requestId, b.requestId);
    await assert.rejects(invoke('probe', {}, { Qualifier: '7' }), { name: 'ResourceNotFoundException', message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:probe:7' });
    await assert.rejects(invoke('nope', {}), { name: 'ResourceNotFoundException', message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope' });
    assert.deepEqual(parseFunctionName('000000000000:function:probe:$LATEST'), { name: 'probe', qualifier: '$LATEST' });
  });

  test('a handler error is an Unhandled function error with the Node.js runtime error payload', async () => {
    const r = await invoke('probe', { throw: 'the probe failed on purpose' });
    assert.equal(r.StatusCode, 200);
    assert.equal(r.FunctionError, 'Unhandled');
    const body = payload(r);
    assert.equal(body.errorType, 'ProbeError');
    assert.equal(body.errorMessage, 'the probe failed on purpose');
    assert.ok(Array.isArray(body.trace));
  });

  test('an init error is reported on every invocation (each starts afresh), with the error type of the module', async () => {
    for (let i = 0; i < 2; i += 1) {
      const r = await invoke('failing-init', {});
      assert.equal(r.FunctionError, 'Unhandled');
      assert.deepEqual({ ...payload(r), trace: undefined }, { errorType: 'ConfigError', errorMessage: 'PROBE_SETTING is not set: the probe cannot start without it.', trace: undefined });
    }
  });

  test('a timed-out invocation is killed (Sandbox.Timedout) and the next one gets a fresh sandbox', async () => {
    const before = payload(await invoke('probe', {})).pid;
    const r = await invoke('probe', { sleepMs: 5000 });
    assert.equal(r.FunctionError, 'Unhandled');
    assert.match(String(payload(r).errorMessage), /Task timed out after 2\.00 seconds$/);
    assert.equal(payload(r).errorType, 'Sandbox.Timedout');
    const after = payload(await invoke('probe', {})).pid;
    assert.notEqual(after, before);
  });

  test('a sandbox that exits mid-invocation is a Runtime.ExitError', async () => {
    const r = await invoke('probe', { exit: 3 });
    assert.equal(r.FunctionError, 'Unhandled');
    assert.equal(payload(r).errorType, 'Runtime.ExitError');
    assert.match(String(payload(r).errorMessage), /Runtime exited with error: exit status 3$/);
    assert.equal(payload(await invoke('probe', { ok: 1 })).event !== undefined, true, 'the function recovers');
  });

  test('beyond reserved concurrency an invocation is throttled with TooManyRequestsException', async () => {
    const once = new LambdaClient({ endpoint: edge.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      const slow = invoke('single-probe', { sleepMs: 1500 }, {}, once);
      await new Promise((r) => setTimeout(r, 500));
      await assert.rejects(invoke('single-probe', {}, {}, once), (error: Error & { Reason?: string }) => {
        assert.equal(error.name, 'TooManyRequestsException');
        assert.equal(error.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
        return true;
      });
      assert.equal((await slow).FunctionError, undefined);
      assert.equal((await invoke('single-probe', {}, {}, once)).FunctionError, undefined, 'the slot is free again');
    } finally {
      once.destroy();
    }
  });

  test('LogType Tail returns the end of the log; Event and DryRun invocations answer 202 and 204', async () => {
    const r = await invoke('probe', {}, { LogType: 'Tail' });
    assert.match(Buffer.from(r.LogResult ?? '', 'base64').toString('utf8'), /probe invoked /);
    assert.equal((await invoke('probe', {}, { InvocationType: 'Event' })).StatusCode, 202);
    assert.equal((await invoke('probe', {}, { InvocationType: 'DryRun' })).StatusCode, 204);
  });

  test('a payload that is not JSON is refused with InvalidRequestContentException', async () => {
    await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'probe', Payload: Buffer.from('{not json') })), { name: 'InvalidRequestContentException' });
  });

  test('SQS requests on the same endpoint reach the SQS server; the health endpoint answers like LocalStack', async () => {
    const sqs = new SQSClient({ endpoint: edge.endpoint, region: 'us-east-1', credentials });
    try {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'edge-probe' }));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'through the edge' }));
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
      assert.equal(got.Messages?.[0]?.Body, 'through the edge');
    } finally {
      sqs.destroy();
    }
    const health = (await (await fetch(`${edge.endpoint}/_localstack/health`)).json()) as { services: Record<string, string> };
    assert.deepEqual(health.services, { lambda: 'running', sqs: 'running' });
    const other = await fetch(`${edge.endpoint}/2015-03-31/functions/probe`);
    assert.equal(other.status, 501);
    assert.equal(other.headers.get('x-amzn-errortype'), 'NotImplementedException');
  });
});
