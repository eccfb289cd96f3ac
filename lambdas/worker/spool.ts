// Holds COPY text a chunk cannot send yet — its rejects, the lines of its second and further
// targets, all of an incremental chunk's lines — until the connection is free for that COPY (one
// connection runs one COPY at a time). Memory stays bounded: past a few MB it spills to a temporary
// file, so a chunk whose every row is rejected cannot exhaust a 256 MB Lambda.
import { createReadStream, createWriteStream, mkdtempSync, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

const MEMORY_LIMIT_BYTES = 4 * 1024 * 1024;

export class Spool {
  /** Bytes held in memory before spilling to a file. */
  static readonly MEMORY_LIMIT_BYTES = MEMORY_LIMIT_BYTES;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #file: { dir: string; path: string; stream: WriteStream } | undefined;

  get isEmpty(): boolean {
    return this.#bytes === 0;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Called synchronously from the transform stream; `lines` may be reused by the caller, so copy. */
  add(lines: Buffer): void {
    this.#bytes += lines.length;
    if (this.#file === undefined && this.#bytes <= MEMORY_LIMIT_BYTES) {
      this.#chunks.push(Buffer.from(lines));
      return;
    }
    if (this.#file === undefined) {
      const dir = mkdtempSync(join(tmpdir(), 'pg-fanout-rejects-'));
      const path = join(dir, 'rejects.copy');
      const stream = createWriteStream(path);
      for (const c of this.#chunks) stream.write(c);
      this.#chunks = [];
      this.#file = { dir, path, stream };
    }
    this.#file.stream.write(Buffer.from(lines));
  }

  /** The spooled lines, in order. */
  async readable(): Promise<Readable> {
    if (this.#file === undefined) return Readable.from(this.#chunks);
    this.#file.stream.end();
    await finished(this.#file.stream);
    return createReadStream(this.#file.path, { highWaterMark: 256 * 1024 });
  }

  async dispose(): Promise<void> {
    this.#chunks = [];
    const file = this.#file;
    this.#file = undefined;
    if (file !== undefined) {
      file.stream.destroy();
      await rm(file.dir, { recursive: true, force: true });
    }
  }
}
