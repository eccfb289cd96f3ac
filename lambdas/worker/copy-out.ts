// `COPY … TO STDOUT` as a Readable of row bytes, for node-postgres: a submittable query that takes
// over the connection's socket while the copy runs (as pg-copy-streams does) and strips the wire
// protocol in one tight loop. PostgreSQL sends each row as its own CopyData message (a 5-byte header,
// then the row); unwrapping them one by one into Buffers cost more than the transform itself, so
// here each socket chunk's rows are copied into one output Buffer, headers dropped. Error
// responses, CopyDone and everything after go back to node-postgres, which ends the query
// (handleCommandComplete gives the row count; handleError the error).
import { Readable } from 'node:stream';

const COPY_DATA = 0x64; // d
const ERROR_RESPONSE = 0x45; // E
const COPY_OUT_RESPONSE = 0x48; // H
const COPY_DONE = 0x63; // c
// Messages PostgreSQL may interleave with CopyData; any other ends the copy.
const NOTICE = 0x4e;
const NOTIFICATION = 0x41;
const PARAMETER_STATUS = 0x53;

interface PgConnection {
  stream: Omit<NodeJS.ReadableStream, "read" | "listeners"> & { read(): Buffer | null; listeners(e: string): ((b: Buffer) => void)[] };
  query(text: string): void;
}

export class CopyOut extends Readable {
  readonly text: string;
  /** Rows PostgreSQL reported in its CommandComplete (`COPY n`). */
  rowCount = 0;
  #connection: PgConnection | undefined;
  #pgDataHandler: ((b: Buffer) => void) | undefined;
  #onReadable = () => this.#forward();
  #drained = false;
  #forwarding = false;
  #done = false;
  /** Bytes of a message header or message carried over from the last chunk. */
  #pending: Buffer = Buffer.alloc(0);
  /** Payload bytes still to come of the current message (0: at a header). */
  #remaining = 0;
  #code = 0;

  constructor(text: string) {
    super({ highWaterMark: 256 * 1024 });
    this.text = text;
  }

  /** Called by node-postgres when the query's turn comes. */
  submit(connection: PgConnection): void {
    this.#connection = connection;
    const stream = connection.stream;
    const handlers = stream.listeners('data');
    if (handlers.length !== 1) throw new Error(`CopyOut: expected one data listener on the connection, found ${handlers.length}`);
    this.#pgDataHandler = handlers[0]!;
    stream.removeListener('data', this.#pgDataHandler);
    stream.pause();
    stream.on('readable', this.#onReadable);
    connection.query(this.text);
  }

  override _read(): void {
    this.#drained = true;
    this.#forward();
  }

  #forward(): void {
    if (this.#forwarding || !this.#drained || this.#connection === undefined || this.#done) return;
    this.#forwarding = true;
    const stream = this.#connection.stream;
    let chunk: Buffer | null;
    while (this.#drained && !this.#done && (chunk = stream.read()) !== null) this.#drained = this.#parse(chunk);
    this.#forwarding = false;
  }

  /** Unwraps the CopyData messages of `chunk` into one Buffer; hands the rest back at the end. */
  #parse(input: Buffer): boolean {
    const buf = this.#pending.length === 0 ? input : Buffer.concat([this.#pending, input]);
    this.#pending = Buffer.alloc(0);
    const out = Buffer.allocUnsafe(buf.length);
    let o = 0;
    let p = 0;
    const n = buf.length;
    while (p < n) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, n - p);
        if (this.#code === COPY_DATA) {
          buf.copy(out, o, p, p + take);
          o += take;
        }
        p += take;
        this.#remaining -= take;
        continue;
      }
      const code = buf[p]!;
      if (code === ERROR_RESPONSE || (code !== COPY_DATA && code !== COPY_OUT_RESPONSE && code !== NOTICE && code !== NOTIFICATION && code !== PARAMETER_STATUS)) {
        // CopyDone, an error, or anything that ends copy-out mode: node-postgres takes it from here.
        if (o > 0) this.push(out.subarray(0, o));
        this.#finish(buf.subarray(p), code === COPY_DONE);
        return false;
      }
      if (p + 5 > n) {
        this.#pending = Buffer.from(buf.subarray(p));
        break;
      }
      const length = buf.readUInt32BE(p + 1) - 4;
      this.#code = code;
      p += 5;
      if (code === COPY_DATA && p + length <= n) {
        // The common case: a whole row in this chunk.
        buf.copy(out, o, p, p + length);
        o += length;
        p += length;
      } else {
        this.#remaining = length;
      }
    }
    return o > 0 ? this.push(out.subarray(0, o)) : true;
  }

  #finish(rest: Buffer, copyDone: boolean): void {
    this.#done = true;
    const connection = this.#connection!;
    const stream = connection.stream;
    stream.removeListener('readable', this.#onReadable);
    stream.on('data', this.#pgDataHandler!);
    this.#pgDataHandler!(rest);
    // The data handler may have paused the stream (highWaterMark); resume once it returned.
    process.nextTick(() => stream.resume());
    // The stream ends with the CommandComplete that follows CopyDone, so rowCount is known by then.
    void copyDone;
  }

  /** node-postgres: the server reported an error for this query. */
  handleError(error: Error): void {
    this.destroy(error);
  }

  /** node-postgres: CommandComplete (`COPY n`). */
  handleCommandComplete(message: { text?: string } | undefined): void {
    const match = /COPY (\d+)/.exec(message?.text ?? '');
    if (match) this.rowCount = Number(match[1]);
    this.push(null);
  }

  handleReadyForQuery(): void {
    if (!this.readableEnded && !this.destroyed) this.push(null);
  }
}

export function copyOut(text: string): CopyOut {
  return new CopyOut(text);
}
