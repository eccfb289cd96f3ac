// A byte-level RowTransform (the built-in name split) as a RowEngine: one target whose lines are
// the key's raw COPY text followed by what the transform writes. No value is ever decoded here.
import type { CopyTextWriter } from './copy-text.ts';
import type { RowEngine } from './row-engine.ts';
import type { CopyRow, RowTransform } from './row-transform.ts';

export function rawEngine(transform: RowTransform, rejectJson: (row: CopyRow) => string): RowEngine {
  const fieldCount = 1 + transform.sourceColumns.length;
  return {
    fieldCount,
    keyFields: 1,
    targetCount: 1,
    transformRow(row: CopyRow, outs: readonly CopyTextWriter[], counts: Float64Array): string | null {
      const out = outs[0]!;
      out.rawField(row.buf, row.start[0]!, row.end[0]!);
      const reason = transform.transformRow(row, out);
      if (reason !== null) return reason;
      out.endLine();
      counts[0]! += 1;
      return null;
    },
    ...(transform.transformRows === undefined
      ? {}
      : {
        transformRows(buf: Buffer, from: number, to: number, outs: readonly CopyTextWriter[], counts: Float64Array, limit: number) {
          const r = transform.transformRows!(buf, from, to, outs[0]!, limit);
          counts[0]! += r.rows;
          return r;
        },
      }),
    rejectJson,
  };
}
