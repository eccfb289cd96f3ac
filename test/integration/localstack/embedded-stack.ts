// The embedded stand-in for a LocalStack deployment, for tests: fauxqs behind the LocalStack-shaped
// edge endpoint (Lambda Invoke runs the real coordinator handler in a sandbox), the queues the
// stack would create, and the workers played by LocalEventSource (the real worker handler in
// sandboxes) polling the queue through the same endpoint. One AWS_ENDPOINT_URL reaches it all.
import type { SQSClient } from '@aws-sdk/client-sqs';
import { backpressureToEnv, resolveBackpressure, type BackpressureConfig } from '../../../lambdas/shared/config.ts';
import { createSqsClient } from '../../../lambdas/shared/queue.ts';
import { LocalEventSource } from '../../../local/event-source.ts';
import { COORDINATOR_HANDLER, startLambdaEndpoint, type LambdaEndpoint } from '../../../local/lambda-endpoint.ts';
import { ensureQueues, type LocalQueues } from '../../../local/queues.ts';
import { startTestSqs, type TestSqs } from '../../support/sqs.ts';

export const COORDINATOR_FUNCTION = 'PgFanout-CoordinatorFunction';
export const REGION = 'us-east-1';

export interface EmbeddedLocalStack {
  /** AWS_ENDPOINT_URL for everything (Lambda and SQS). */
  readonly endpoint: string;
  readonly lambda: LambdaEndpoint;
  readonly queues: LocalQueues;
  readonly sqs: SQSClient;
  readonly backpressure: BackpressureConfig;
  /** The environment the stack gives the functions. */
  readonly functionEnv: Record<string, string>;
  /** The AWS variables a client (the CLI, the e2e script) needs to reach this stack. */
  readonly clientEnv: Record<string, string>;
  /** Starts the workers (the SQS event source mapping); stop them with the returned source. */
  startWorkers(): LocalEventSource;
  stop(): Promise<void>;
}

export async function startEmbeddedLocalStack(options: { databaseUrl: string; backpressure?: Partial<BackpressureConfig>; extraFunctions?: Parameters<typeof startLambdaEndpoint>[0]['functions'] }): Promise<EmbeddedLocalStack> {
  const backpressure = resolveBackpressure({ chunkRows: 5000, workerTimeoutSeconds: 10, ...options.backpressure });
  const sqsServer: TestSqs = await startTestSqs();
  const functionEnv: Record<string, string> = {
    DATABASE_URL: options.databaseUrl,
    DATABASE_TLS: 'disable',
    SOURCE_TABLE: 'public.input_table',
    TARGET_TABLE: 'public.output_table',
    KEY_COLUMN: 'id',
    EMIT_METRICS: 'false',
    LOG_LEVEL: 'warn',
    ...backpressureToEnv(backpressure),
  };
  // The queues exist before the functions learn their URLs, as in the stack.
  const bootstrapSqs = createSqsClient({ sqsEndpoint: sqsServer.endpoint, region: REGION });
  const queues = await ensureQueues(bootstrapSqs, backpressure);
  bootstrapSqs.destroy();
  functionEnv.WORK_QUEUE_URL = queues.queueUrl;
  functionEnv.DEAD_LETTER_QUEUE_URL = queues.deadLetterQueueUrl;

  const lambda = await startLambdaEndpoint({
    upstream: sqsServer.endpoint,
    region: REGION,
    functions: {
      [COORDINATOR_FUNCTION]: { handlerModule: COORDINATOR_HANDLER, env: functionEnv, timeoutSeconds: 60, reservedConcurrency: 1 },
      ...options.extraFunctions,
    },
    log: () => {},
  });
  const sqs = createSqsClient({ sqsEndpoint: lambda.endpoint, region: REGION });
  const sources: LocalEventSource[] = [];
  return {
    endpoint: lambda.endpoint,
    lambda,
    queues,
    sqs,
    backpressure,
    functionEnv,
    clientEnv: { AWS_ENDPOINT_URL: lambda.endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: REGION },
    startWorkers() {
      const source = new LocalEventSource({
        sqs,
        queueUrl: queues.queueUrl,
        backpressure,
        // LocalStack injects AWS_ENDPOINT_URL into every function's environment; so does this.
        env: { ...functionEnv, AWS_ENDPOINT_URL: lambda.endpoint, AWS_REGION: REGION, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
      });
      source.start();
      sources.push(source);
      return source;
    },
    async stop() {
      await Promise.all(sources.map((s) => s.stop()));
      sqs.destroy();
      await lambda.stop();
      await sqsServer.stop();
    },
  };
}
