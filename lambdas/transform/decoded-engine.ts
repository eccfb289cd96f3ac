// A user's transform as a RowEngine: each source row decoded into exact JS values (values/), the
// transform called, its result checked against the declared target columns and encoded back into
// COPY text. User code is not trusted to be right: a throw, a missing or extra column, a value of
// the wrong type each reject that one row, naming why.
import { isReject } from '../pipeline/define.ts';
import type { CopyTextWriter } from './copy-text.ts';
import { FILTERED, type RowEngine } from './row-engine.ts';
import { objectBuilder, propertyReader } from './row-shape.ts';
import type { CopyRow } from './row-transform.ts';
import { decoderFor, encoderFor, jsonForReject, type FieldDecoder, type FieldEncoder } from './values/index.ts';

export interface EngineColumn {
  readonly name: string;
  /** The declared PostgreSQL type, canonical. */
  readonly type: string;
  readonly notNull: boolean;
}

export interface DecodedEngineSpec {
  /** Source columns in the order a chunk selects them: the key columns first. */
  readonly sourceColumns: readonly EngineColumn[];
  readonly keyFields: number;
  readonly targets: readonly { readonly name: string; readonly columns: readonly EngineColumn[] }[];
  /** Declared with a single `target`: the transform returns rows, not rows by target name. */
  readonly singleTarget: boolean;
  readonly transform: (row: never) => unknown;
}

interface TargetPlan {
  readonly name: string;
  /** Per column, the source fields of the same type: a value the transform passed through unchanged is copied from there as is. */
  readonly sameType: readonly (readonly number[])[];
  readonly names: readonly string[];
  readonly notNull: readonly boolean[];
  readonly encoders: readonly FieldEncoder[];
  readonly columnSet: ReadonlySet<string>;
  readonly read: (o: Record<string, unknown>, into: unknown[]) => void;
}

export function decodedEngine(spec: DecodedEngineSpec): RowEngine {
  const names = spec.sourceColumns.map((c) => c.name);
  const decoders: FieldDecoder[] = spec.sourceColumns.map((c) => decoderFor(c.type));
  const sourceTypes = spec.sourceColumns.map((c) => c.type);
  const fieldCount = names.length;
  const targets: TargetPlan[] = spec.targets.map((t) => ({
    name: t.name,
    sameType: t.columns.map((c) => spec.sourceColumns.flatMap((s, i) => (sameText(s.type, c.type) ? [i] : []))),
    names: t.columns.map((c) => c.name),
    notNull: t.columns.map((c) => c.notNull),
    encoders: t.columns.map((c) => encoderFor(c.type)),
    columnSet: new Set(t.columns.map((c) => c.name)),
    read: propertyReader(t.columns.map((c) => c.name)),
  }));
  const values: unknown[] = new Array(Math.max(0, ...spec.targets.map((t) => t.columns.length)));
  const buildRow = objectBuilder(names);
  const targetIndex = new Map(targets.map((t, i) => [t.name, i]));
  const transform = spec.transform as (row: Record<string, unknown>) => unknown;

  // The row being transformed: its decoded values by field, to recognise values passed through.
  const decoded: unknown[] = new Array(fieldCount);
  let current: CopyRow | undefined;

  function decodeRow(row: CopyRow): Record<string, unknown> {
    const { buf, start, end } = row;
    current = row;
    for (let i = 0; i < fieldCount; i++) decoded[i] = decoders[i]!(buf, start[i]!, end[i]!);
    return buildRow(decoded);
  }

  /** Writes one row object for target `t`; returns a reject reason (having written part of a line) or null. */
  function writeRow(t: number, value: unknown, out: CopyTextWriter): string | null {
    const plan = targets[t]!;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return `${where(plan)}the transform returned ${describeValue(value)} where a row (an object with ${plan.names.join(', ')}) was expected`;
    }
    const o = value as Record<string, unknown>;
    const { names: columns, encoders, notNull, sameType } = plan;
    const row = current!;
    plan.read(o, values);
    for (let i = 0; i < columns.length; i++) {
      const v = values[i];
      if (v === undefined) return `${where(plan)}the row has no column ${columns[i]} (the transform must give every declared column; null for NULL)`;
      if (v === null) {
        if (notNull[i]) return `${where(plan)}column ${columns[i]} is declared not null but the transform gave null`;
        out.nullField();
        continue;
      }
      // A source value passed through unchanged: its COPY text as it came, no encoding.
      const same = sameType[i]!;
      let copied = false;
      for (let k = 0; k < same.length; k++) {
        const f = same[k]!;
        if (decoded[f] === v) {
          out.rawField(row.buf, row.start[f]!, row.end[f]!);
          copied = true;
          break;
        }
      }
      if (copied) continue;
      const problem = encoders[i]!(v, out);
      if (problem !== null) return `${where(plan)}column ${columns[i]}: ${problem}`;
    }
    // Every declared column is there: any other own key is one too many. A plain object with as
    // many own keys as columns has no other; a row from a class or a prototype may take declared
    // columns from its prototype, so its own keys are checked one by one.
    const own = Object.keys(o);
    const proto = Object.getPrototypeOf(o);
    if (own.length !== columns.length || (proto !== Object.prototype && proto !== null)) {
      const extra = own.find((k) => !plan.columnSet.has(k));
      if (extra !== undefined) return `${where(plan)}the row has a column ${extra}, which is not declared (declared: ${columns.join(', ')})`;
    }
    out.endLine();
    return null;
  }

  function where(plan: TargetPlan): string {
    return spec.singleTarget ? '' : `target ${plan.name}: `;
  }

  /** Rows for one target: a row, an array of rows, or nothing. Returns a reason or the number written. */
  function writeRows(t: number, rows: unknown, outs: readonly CopyTextWriter[]): string | number {
    if (rows === null || rows === undefined) return 0;
    const out = outs[t]!;
    if (!Array.isArray(rows)) return writeRow(t, rows, out) ?? 1;
    for (const r of rows) {
      const problem = writeRow(t, r, out);
      if (problem !== null) return problem;
    }
    return rows.length;
  }

  const written = new Float64Array(targets.length);

  return {
    fieldCount,
    keyFields: spec.keyFields,
    targetCount: targets.length,
    transformRow(row: CopyRow, outs: readonly CopyTextWriter[], counts: Float64Array): string | null {
      let result: unknown;
      try {
        result = transform(decodeRow(row));
      } catch (error) {
        return error instanceof Error ? error.message || error.name : `the transform threw ${describeValue(error)}`;
      }
      if (isReject(result)) return result.reason;
      if (result === null) return FILTERED;
      if (result === undefined) return 'the transform returned undefined: return the row(s), null to filter the row out, or reject(reason)';
      if (typeof (result as { then?: unknown }).then === 'function') {
        return 'the transform returned a Promise: transforms are synchronous; compute the row without await';
      }
      if (spec.singleTarget) {
        const n = writeRows(0, result, outs);
        if (typeof n === 'string') return n;
        if (n === 0) return FILTERED;
        counts[0]! += n;
        return null;
      }
      if (typeof result !== 'object' || Array.isArray(result)) {
        return `the transform returned ${describeValue(result)}: return rows by target name ({ ${targets.map((t) => `${t.name}: …`).join(', ')} }), null or reject(reason)`;
      }
      written.fill(0);
      let total = 0;
      for (const name in result as Record<string, unknown>) {
        const t = targetIndex.get(name);
        if (t === undefined) {
          return `the transform returned rows for target ${name}, which the pipeline does not declare (it has ${targets.map((x) => x.name).join(', ')})`;
        }
        const n = writeRows(t, (result as Record<string, unknown>)[name], outs);
        if (typeof n === 'string') return n;
        written[t] = n;
        total += n;
      }
      if (total === 0) return FILTERED;
      for (let t = 0; t < written.length; t++) counts[t]! += written[t]!;
      return null;
    },
    rejectJson(row: CopyRow): string {
      const parts: string[] = [];
      for (let i = 0; i < fieldCount; i++) parts.push(`${JSON.stringify(names[i])}:${jsonForReject(sourceTypes[i]!, row.buf, row.start[i]!, row.end[i]!)}`);
      return `{${parts.join(',')}}`;
    },
  };
}

/** Whether a field of type `from` can be copied as text into a column of type `to`: the same type, modifiers aside for text. */
function sameText(from: string, to: string): boolean {
  if (from === to) return true;
  const text = /^(text|character varying|character|varchar|bpchar|citext)(\(\d+\))?$/;
  return text.test(from) && text.test(to);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}
