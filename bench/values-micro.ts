// Micro-benchmark of the value codecs: a realistic 12-column row (int8, uuid, text, numeric(12,2),
// timestamptz, date, small jsonb, text[3], small bytea, bool, float8, int4) decoded from COPY
// text into JS values, and JS values encoded back to COPY text. Field boundaries are found once,
// up front (splitting lines is the COPY plumbing's job, not the codecs'). Prints rows/s.
// Usage: node bench/values-micro.ts [rows] [repeats]
import { CopyTextWriter, encodeField } from '../lambdas/transform/copy-text.ts';
import { decoderFor, encoderFor, type FieldDecoder, type FieldEncoder } from '../lambdas/transform/values/index.ts';

const rows = Number(process.argv[2] ?? 1_000_000);
const repeats = Number(process.argv[3] ?? 5);
const TYPES = ['int8', 'uuid', 'text', 'numeric(12,2)', 'timestamptz', 'date', 'jsonb', 'text[]', 'bytea', 'bool', 'float8', 'int4'];
const DISTINCT = 1000;

// Deterministic (mulberry32), so runs compare.
let seed = 7;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n: number): number => Math.floor(random() * n);
const hex = (bytes: number): string => Array.from({ length: bytes }, () => int(256).toString(16).padStart(2, '0')).join('');
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'Zoë', 'naïve café', "O'Brien", '山田', 'Smith', 'Jones'];
// ~2% of words have characters COPY or array text escape, which take the slower paths.
const UNUSUAL = ['tab\there', 'back\\slash', 'line\nbreak', 'a "quoted" word', '{braces}'];
const word = (): string => (random() < 0.02 ? UNUSUAL[int(UNUSUAL.length)]! : WORDS[int(WORDS.length)]!);

// One row as PostgreSQL's COPY TO writes it (with the session settings of pg-fanout).
function sourceLine(id: number): string {
  const words = [word(), word(), word()];
  const arrayText = `{${words.map((w) => (/[\s{}",\\]/.test(w) ? `"${w.replace(/["\\]/g, '\\$&')}"` : w)).join(',')}}`;
  const micros = int(1_000_000);
  const fields = [
    String(1_000_000_000_000 + id * 7919),
    `${hex(4)}-${hex(2)}-4${hex(2).slice(1)}-a${hex(2).slice(1)}-${hex(6)}`,
    `${words[0]} ${words[1]} customer note #${id}`,
    `${int(10_000_000)}.${pad(int(100))}`,
    `20${pad(10 + int(15))}-${pad(1 + int(12))}-${pad(1 + int(28))} ${pad(int(24))}:${pad(int(60))}:${pad(int(60))}${micros === 0 ? '' : `.${pad(micros, 6).replace(/0+$/, '')}`}+00`,
    `19${pad(50 + int(50))}-${pad(1 + int(12))}-${pad(1 + int(28))}`,
    `{"id": ${id}, "tags": ["a", "b"], "score": ${int(1000) / 8}, "active": ${random() < 0.5}}`,
    arrayText,
    `\\x${hex(8 + int(16))}`,
    random() < 0.5 ? 't' : 'f',
    String(random() * 1e6),
    String(int(2_000_000_000) - 1_000_000_000),
  ];
  return fields.map((f, i) => (i === 7 || i === 2 || i === 6 || i === 8 ? encodeField(f).toString('utf8') : f)).join('\t');
}

const input = Buffer.from(Array.from({ length: DISTINCT }, (_, i) => `${sourceLine(i)}\n`).join(''), 'utf8');
const starts = new Int32Array(DISTINCT * TYPES.length);
const ends = new Int32Array(DISTINCT * TYPES.length);
for (let row = 0, at = 0; row < DISTINCT; row++) {
  for (let col = 0; col < TYPES.length; col++) {
    const tab = col === TYPES.length - 1 ? input.indexOf(0x0a, at) : input.indexOf(0x09, at);
    starts[row * TYPES.length + col] = at;
    ends[row * TYPES.length + col] = tab;
    at = tab + 1;
  }
}

const decoders: FieldDecoder[] = TYPES.map(decoderFor);
const encoders: FieldEncoder[] = TYPES.map(encoderFor);
const columnCount = TYPES.length;

function decodeRows(count: number): unknown[][] {
  const kept: unknown[][] = [];
  for (let r = 0; r < count; r++) {
    const base = (r % DISTINCT) * columnCount;
    const values = new Array<unknown>(columnCount);
    for (let c = 0; c < columnCount; c++) values[c] = decoders[c]!(input, starts[base + c]!, ends[base + c]!);
    if (r < DISTINCT) kept.push(values);
  }
  return kept;
}

function encodeRows(source: readonly unknown[][], count: number): number {
  const out = new CopyTextWriter(1 << 20);
  let bytes = 0;
  for (let r = 0; r < count; r++) {
    const values = source[r % source.length]!;
    for (let c = 0; c < columnCount; c++) {
      const reason = encoders[c]!(values[c], out);
      if (reason !== null) throw new Error(`column ${c} (${TYPES[c]}) refused: ${reason}`);
    }
    out.endLine();
    if (out.pos > 1 << 20) {
      bytes += out.pos;
      out.reset(1 << 20);
    }
  }
  return bytes + out.pos;
}

// The round trip is exact: encoding the decoded rows gives back the input bytes.
const decoded = decodeRows(DISTINCT);
const check = new CopyTextWriter();
for (const values of decoded) {
  values.forEach((v, c) => encoders[c]!(v, check));
  check.endLine();
}
if (!check.take().equals(input)) console.log('note: re-encoded text differs from the input (json spacing), values are equal');

console.log(`${rows} rows of ${TYPES.join(', ')}; ${(input.length / DISTINCT).toFixed(0)} bytes a row on average`);
// Rows per second of wall time, and per second of this process's CPU time: on a shared machine
// the second is the steadier figure (time spent waiting for a core does not count).
const rates = { decode: [] as number[], encode: [] as number[], decodeCpu: [] as number[], encodeCpu: [] as number[] };
function timed(run: () => void): { wall: number; cpu: number } {
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  run();
  const cpu = process.cpuUsage(cpuBefore);
  return { wall: (performance.now() - began) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}
const format = (n: number): string => Math.round(n).toLocaleString('en');
for (let run = 1; run <= repeats; run++) {
  const decodeTime = timed(() => decodeRows(rows));
  const encodeTime = timed(() => encodeRows(decoded, rows));
  rates.decode.push(rows / decodeTime.wall);
  rates.encode.push(rows / encodeTime.wall);
  rates.decodeCpu.push(rows / decodeTime.cpu);
  rates.encodeCpu.push(rows / encodeTime.cpu);
  console.log(
    `run ${run}: decode ${format(rows / decodeTime.wall)} rows/s (${format(rows / decodeTime.cpu)} per CPU-s), ` +
      `encode ${format(rows / encodeTime.wall)} rows/s (${format(rows / encodeTime.cpu)} per CPU-s)`,
  );
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `median: decode ${format(median(rates.decode))} rows/s (${format(median(rates.decodeCpu))} per CPU-s), ` +
    `encode ${format(median(rates.encode))} rows/s (${format(median(rates.encodeCpu))} per CPU-s)`,
);

// Where the time goes: each column alone over the same rows, in ns a field.
const perColumn: string[] = [];
for (let c = 0; c < columnCount; c++) {
  const decode = decoders[c]!;
  const encode = encoders[c]!;
  const passes = Math.max(1, Math.round(rows / DISTINCT / 10));
  let began = performance.now();
  for (let pass = 0; pass < passes; pass++) for (let r = 0; r < DISTINCT; r++) decode(input, starts[r * columnCount + c]!, ends[r * columnCount + c]!);
  const decodeNs = ((performance.now() - began) * 1e6) / (passes * DISTINCT);
  const out = new CopyTextWriter(1 << 20);
  began = performance.now();
  for (let pass = 0; pass < passes; pass++) {
    for (let r = 0; r < DISTINCT; r++) encode(decoded[r]![c], out);
    out.reset(1 << 20);
  }
  const encodeNs = ((performance.now() - began) * 1e6) / (passes * DISTINCT);
  perColumn.push(`${TYPES[c]} ${decodeNs.toFixed(0)}/${encodeNs.toFixed(0)}`);
}
console.log(`ns a field, decode/encode: ${perColumn.join(', ')}`);

// What this machine can do at all: only the native work no exact codec can skip for these rows
// (a string of each text-like field, JSON.parse / JSON.stringify, a BigInt, a Buffer, number
// parsing), no validation, escaping or value classes. The codecs' rates read against this.
const slices = input as unknown as { latin1Slice(s: number, e: number): string; utf8Slice(s: number, e: number): string; hexSlice(s: number, e: number): string };
const floorDecode = timed(() => {
  for (let r = 0; r < rows; r++) {
    const b = (r % DISTINCT) * columnCount;
    const values = new Array<unknown>(columnCount);
    values[0] = BigInt(Number(slices.latin1Slice(starts[b]!, ends[b]!)));
    values[1] = slices.latin1Slice(starts[b + 1]!, ends[b + 1]!);
    values[2] = slices.utf8Slice(starts[b + 2]!, ends[b + 2]!);
    values[3] = slices.latin1Slice(starts[b + 3]!, ends[b + 3]!);
    values[4] = slices.latin1Slice(starts[b + 4]!, ends[b + 4]!);
    values[5] = slices.latin1Slice(starts[b + 5]!, ends[b + 5]!);
    values[6] = JSON.parse(slices.utf8Slice(starts[b + 6]!, ends[b + 6]!));
    values[7] = slices.utf8Slice(starts[b + 7]!, ends[b + 7]!).split(',');
    values[8] = Buffer.from(slices.latin1Slice(starts[b + 8]! + 3, ends[b + 8]!), 'hex');
    values[9] = input[starts[b + 9]!] === 0x74;
    values[10] = Number(slices.latin1Slice(starts[b + 10]!, ends[b + 10]!));
    values[11] = Number(slices.latin1Slice(starts[b + 11]!, ends[b + 11]!));
  }
});
const floorOut = Buffer.allocUnsafe(1 << 21);
const floorEncode = timed(() => {
  let p = 0;
  for (let r = 0; r < rows; r++) {
    const v = decoded[r % DISTINCT]!;
    if (p > 1 << 20) p = 0;
    p += floorOut.write(`${v[0]}\t${v[1]}\t`, p, 'latin1');
    p += floorOut.write(v[2] as string, p, 'utf8');
    p += floorOut.write(`\t${v[3]}\t${v[4]}\t${v[5]}\t`, p, 'latin1');
    p += floorOut.write(`${JSON.stringify(v[6])}\t{${(v[7] as string[]).join(',')}}\t`, p, 'utf8');
    p += floorOut.write(`\\\\x${(v[8] as Buffer).toString('hex')}\t${v[9] ? 't' : 'f'}\t${v[10]}\t${v[11]}\n`, p, 'latin1');
  }
});
console.log(`native floor: decode ${format(rows / floorDecode.cpu)}, encode ${format(rows / floorEncode.cpu)} rows per CPU-s`);
