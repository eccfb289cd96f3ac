// An SQS-compatible server (fauxqs) speaking the AWS wire protocol, bound to loopback only, for the
// local main job and the tests when no SQS endpoint is configured.
import { buildApp } from 'fauxqs';

export interface EmbeddedSqs {
  /** http://127.0.0.1:PORT — use it as AWS_ENDPOINT_URL_SQS. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startEmbeddedSqs(options: { port?: number } = {}): Promise<EmbeddedSqs> {
  // fauxqs's own startFauxqs listens on every interface; build the app and bind loopback instead.
  const app = buildApp({ logger: false, host: '127.0.0.1' });
  const address = await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  return {
    endpoint: address,
    stop: async () => {
      await app.close();
    },
  };
}
