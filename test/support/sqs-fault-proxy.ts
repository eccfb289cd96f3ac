// A fault-injecting proxy in front of a real SQS-compatible server, on loopback. It speaks nothing
// itself: it forwards AWS JSON-protocol requests and, when asked, sends every SendMessageBatch
// twice, in reverse order, or refuses them, so the system under test meets duplicated, out-of-order
// delivery and failed sends.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';

export interface FaultProxy {
  readonly endpoint: string;
  /** SendMessageBatch requests seen. */
  readonly batches: number;
  stop(): Promise<void>;
}

export interface SqsFaults {
  duplicateSends?: boolean;
  reverseOrder?: boolean;
  /** Refuse every SendMessageBatch after this many (HTTP 500, nothing delivered), until cleared. */
  failSendsAfter?: number;
  /** Hold every SendMessageBatch this long before forwarding it (a slow enqueue to kill mid-way). */
  delaySendsMs?: number;
}

export async function startSqsFaultProxy(upstream: string, faults: SqsFaults): Promise<FaultProxy> {
  const target = new URL(upstream);
  let batches = 0;
  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
      const r = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 500, headers: res.headers as Record<string, string>, body: Buffer.concat(chunks) }));
      });
      r.on('error', reject);
      r.end(body);
    });

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body = Buffer.concat(chunks);
    try {
      const isBatchSend = String(req.headers['x-amz-target'] ?? '').endsWith('.SendMessageBatch');
      if (isBatchSend) {
        batches += 1;
        if (faults.failSendsAfter !== undefined && batches > faults.failSendsAfter) {
          res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'injected send failure' }));
          return;
        }
        if (faults.reverseOrder) {
          const parsed = JSON.parse(body.toString('utf8')) as { Entries: unknown[] };
          parsed.Entries.reverse();
          body = Buffer.from(JSON.stringify(parsed));
        }
      }
      if (isBatchSend && faults.delaySendsMs) await new Promise((r) => setTimeout(r, faults.delaySendsMs));
      const first = await forward(req, body);
      if (isBatchSend && faults.duplicateSends) await forward(req, body);
      res.writeHead(first.status, first.headers);
      res.end(first.body);
    } catch (error) {
      res.writeHead(502);
      res.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get batches() {
      return batches;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
