// Micro-benchmark of the transform hot path: ~2M synthetic input_table rows as COPY text, cut into
// 64 KiB chunks like a socket delivers them, through the split-name CopyTransform. Prints rows/s.
// Usage: node bench/transform-micro.ts [rows] [chunkBytes] [repeats] [unusualShare]
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { encodeField } from '../lambdas/transform/copy-text.ts';
import { createCopyTransform } from '../lambdas/transform/copy-transform-stream.ts';
import { nameSplitPipeline } from '../lambdas/pipeline/builtin-name-split.ts';
import { engineFor } from '../lambdas/pipeline/open-pipeline.ts';
import type { ResolvedPipeline } from '../lambdas/pipeline/resolve-pipeline.ts';

// The built-in name split's engine as a worker gets it (engineFor), for input_table(id bigint, name
// text, age integer); only what engineFor reads of a resolved pipeline is given.
const engine = engineFor({
  spec: nameSplitPipeline({ sourceTable: 'input_table', targetTable: 'output_table', keyColumn: 'id' }),
  sourceColumns: [{ name: 'id', type: 'bigint' }, { name: 'name', type: 'text' }, { name: 'age', type: 'integer' }],
} as unknown as ResolvedPipeline);

const rows = Number(process.argv[2] ?? 2_000_000);
const chunkBytes = Number(process.argv[3] ?? 64 * 1024);
const repeats = Number(process.argv[4] ?? 5);
const unusualShare = Number(process.argv[5] ?? 0.02);

const FIRST = ['Anna', 'John', 'Maria', 'Wei', 'Olga', 'Pedro', 'Fatima', 'Liam', 'Noah', 'Emma', 'Sophia', 'Jackson'];
const LAST = ['Smith', 'Johnson', 'van der Berg', 'Nguyen', 'Garcia', 'Mueller-Luedenscheidt', "O'Brien", 'Kowalski', 'Li', 'Brown'];
// ~2% of rows: non-ASCII whitespace, accents and emoji (split on bytes too) and escaped characters
// (decoded, then split by splitName).
const UNUSUAL = ['José\u00a0García', 'Anne\tMarie Dupont', '山田\u3000太郎', 'Zoë 😀 Ngata', 'back\\slash Name', ' \\N '];

// Deterministic (mulberry32), so runs compare.
let seed = 42;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function pick<T>(items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

// COPY text of each name, built once: the input is made as strings, so setup stays quick.
const copyText = (name: string | null): string => encodeField(name).toString('utf8');

function makeInput(): Buffer {
  const batches: Buffer[] = [];
  let lines: string[] = [];
  for (let id = 1; id <= rows; id++) {
    const r = random();
    let name: string;
    if (r < unusualShare) name = copyText(pick(UNUSUAL));
    else if (r < unusualShare + 0.001) name = copyText(null);
    else if (r < unusualShare + 0.18) name = pick(FIRST);
    else name = `${pick(FIRST)} ${copyText(pick(LAST))}`;
    const age = random() < 0.05 ? '\\N' : String(18 + Math.floor(random() * 80));
    lines.push(`${id}\t${name}\t${age}\n`);
    if (lines.length === 10_000) {
      batches.push(Buffer.from(lines.join(''), 'utf8'));
      lines = [];
    }
  }
  batches.push(Buffer.from(lines.join(''), 'utf8'));
  return Buffer.concat(batches);
}

const input = makeInput();
const chunks: Buffer[] = [];
for (let at = 0; at < input.length; at += chunkBytes) chunks.push(input.subarray(at, at + chunkBytes));
console.log(`${rows} rows, ${(input.length / 1e6).toFixed(1)} MB of COPY text, ${chunks.length} chunks of ${chunkBytes} bytes`);

for (let run = 1; run <= repeats; run++) {
  let outBytes = 0;
  let rejected = 0;
  const stream = createCopyTransform({
    engine,
    rejectPrefix: Buffer.from('bench\t'),
    onRejects: (lines) => {
      rejected += lines.length;
    },
  });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      outBytes += chunk.length;
      callback();
    },
  });
  const began = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  await pipeline(Readable.from(chunks, { objectMode: false }), stream, sink);
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  // CPU time as well as wall time: on a shared machine the wall clock also counts other work.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    `run ${run}: ${(rows / seconds / 1e6).toFixed(2)}M rows/s (${(rows / cpuSeconds / 1e6).toFixed(2)}M per CPU second), ${(input.length / seconds / 1e6).toFixed(0)} MB/s in, ` +
      `${stream.rowsWritten} written, ${stream.rowsRejected} rejected (${outBytes} + ${rejected} bytes out)`,
  );
}
