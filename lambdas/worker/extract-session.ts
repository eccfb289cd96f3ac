// The reading side of a chunk: one connection to the source in a read-only REPEATABLE READ
// transaction, so every read of the chunk (its rows, a second pass to isolate rows a target refuses,
// the keys for change capture) sees the same snapshot. Read-only: a role with SELECT on the source
// table is enough, and a hot standby serves it.
import { pipeline as streamPipeline, type Transform } from 'node:stream';
import { copyOut } from './copy-out.ts';
import { guardClient, type Pool, type PoolClient } from '../shared/db.ts';

export class ExtractSession {
  readonly #client: PoolClient;
  readonly #errors: Error[];
  #broken = false;
  #closed = false;

  private constructor(client: PoolClient) {
    this.#client = client;
    this.#errors = guardClient(client);
  }

  static async open(pool: Pool): Promise<ExtractSession> {
    const client = await pool.connect();
    const session = new ExtractSession(client);
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    } catch (error) {
      session.#broken = true;
      await session.close();
      throw error;
    }
    return session;
  }

  /**
   * `COPY … TO STDOUT` through `transform`, yielding what the transform outputs. Returns the number
   * of rows PostgreSQL says it sent. A stream abandoned mid-way breaks the session.
   */
  async *through(sql: string, transform: Transform): AsyncGenerator<Buffer, number> {
    const out = this.#client.query(copyOut(sql) as never) as unknown as ReturnType<typeof copyOut>;
    let finished = false;
    try {
      // Errors of the extract reach the loop through the transform, which the pipeline destroys with them.
      const piped = streamPipeline(out, transform, () => undefined);
      for await (const buf of piped) yield buf as Buffer;
      finished = true;
      return out.rowCount;
    } finally {
      if (!finished) this.#broken = true;
    }
  }

  /** `COPY … TO STDOUT` as raw COPY text chunks. */
  async *copyOut(sql: string): AsyncGenerator<Buffer, number> {
    const out = this.#client.query(copyOut(sql) as never) as unknown as ReturnType<typeof copyOut>;
    let finished = false;
    try {
      for await (const buf of out) yield buf as Buffer;
      finished = true;
      return out.rowCount;
    } finally {
      if (!finished) this.#broken = true;
    }
  }

  async query<R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]> {
    try {
      return (await this.#client.query<R>(sql, params)).rows;
    } catch (error) {
      this.#broken = true;
      throw error;
    }
  }

  /** Ends the read-only transaction and returns the connection (destroyed when it broke). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    let broken = this.#broken || this.#errors.length > 0;
    if (!broken) {
      await this.#client.query('COMMIT').catch(() => {
        broken = true;
      });
    }
    this.#client.release(broken ? true : undefined);
  }
}
