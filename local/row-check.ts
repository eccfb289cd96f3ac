// Row by row: every input row in a key range against the output and etl.rejects, as the name-split
// specification says, page by page in key order (bounded memory on any table size). Used by the
// LocalStack end-to-end script and the soak.
import type { PoolClient } from '../lambdas/shared/db.ts';
import type { ResolvedPipeline } from '../lambdas/pipeline/resolve-pipeline.ts';

const MAX_KEY = 2n ** 63n - 1n;
import { splitName } from '../lambdas/transform/split-name.ts';

export interface RowCheck {
  /** Input rows compared. */
  checked: number;
  written: number;
  rejected: number;
  /** Rows that differ from the specification, at most 20 described; `differences` counts all. */
  problems: string[];
  differences: number;
}

const PAGE_ROWS = 5000;
const MAX_DESCRIBED = 20;

/**
 * Every input row with a key in [lo, hi) against the output and etl.rejects, page by page in key
 * order: a row the spec splits must be in the output exactly as split and not rejected; a row it
 * rejects must be in etl.rejects with the spec's reason and its raw values, and not in the output;
 * nothing else may be in either within the range.
 */
export async function checkRows(client: PoolClient, tables: ResolvedPipeline, lo: bigint, hi: bigint | null): Promise<RowCheck> {
  const check: RowCheck = { checked: 0, written: 0, rejected: 0, problems: [], differences: 0 };
  const differ = (text: string) => {
    check.differences += 1;
    if (check.problems.length < MAX_DESCRIBED) check.problems.push(text);
  };
  const key = tables.key.columns[0]!;
  const [nameCol, ageCol] = tables.sourceColumns.slice(1).map((c) => c.sql) as [string, string];
  const target = tables.targets[0]!;
  const [firstCol, lastCol, outAgeCol] = target.columns.slice(1).map((c) => c.sql) as [string, string, string];
  let start: bigint | null = lo;
  while (start !== null) {
    const input: { rows: { k: string; name: string | null; age: number | null }[] } = await client.query(
      `SELECT ${key}::text AS k, ${nameCol} AS name, ${ageCol} AS age FROM ${tables.source.sql}
        WHERE ${key} >= $1::bigint AND ($2::bigint IS NULL OR ${key} < $2::bigint) ORDER BY ${key} LIMIT ${PAGE_ROWS}`,
      [start.toString(), hi?.toString() ?? null],
    );
    const lastKey: bigint | undefined = input.rows.length === PAGE_ROWS ? BigInt(input.rows[PAGE_ROWS - 1]!.k) : undefined;
    // This page covers [start, end): up to the key after its last row, or to the range's end.
    const end: bigint | null = lastKey === undefined || lastKey === MAX_KEY ? hi : lastKey + 1n;
    const params = [start.toString(), end?.toString() ?? null];
    const output = await client.query<{ k: string; first: string; last: string | null; age: number | null }>(
      `SELECT ${key}::text AS k, ${firstCol} AS first, ${lastCol} AS last, ${outAgeCol} AS age FROM ${target.table.sql}
        WHERE ${key} >= $1::bigint AND ($2::bigint IS NULL OR ${key} < $2::bigint)`,
      params,
    );
    const rejects = await client.query<{ k: string; reason: string; name: string | null; age: number | null }>(
      `SELECT source_key[1] AS k, reason, source_row->>'name' AS name, (source_row->>'age')::int AS age FROM etl.rejects
        WHERE pipeline = $3 AND source_key[1]::bigint >= $1::bigint AND ($2::bigint IS NULL OR source_key[1]::bigint < $2::bigint)`,
      [...params, tables.name],
    );
    const outputs = new Map(output.rows.map((r) => [r.k, r]));
    const rejected = new Map(rejects.rows.map((r) => [r.k, r]));
    if (outputs.size !== output.rows.length) differ(`the output has duplicate keys in [${start}, ${end ?? '+inf'})`);
    for (const row of input.rows) {
      check.checked += 1;
      const expected = splitName(row.name);
      const out = outputs.get(row.k);
      const rej = rejected.get(row.k);
      outputs.delete(row.k);
      rejected.delete(row.k);
      if ('reject' in expected) {
        check.rejected += 1;
        if (rej === undefined) differ(`key ${row.k} (name ${JSON.stringify(row.name)}) should be in etl.rejects (${expected.reject}) but is not`);
        else if (rej.reason !== expected.reject || rej.name !== row.name || rej.age !== row.age) {
          differ(`key ${row.k}: etl.rejects has (${rej.reason}, ${JSON.stringify(rej.name)}, ${rej.age}), the spec says (${expected.reject}, ${JSON.stringify(row.name)}, ${row.age})`);
        }
        if (out !== undefined) differ(`key ${row.k} is rejected by the spec but is also in the output`);
      } else {
        check.written += 1;
        if (out === undefined) differ(`key ${row.k} (name ${JSON.stringify(row.name)}) is missing from the output`);
        else if (out.first !== expected.firstName || out.last !== expected.lastName || out.age !== row.age) {
          differ(`key ${row.k}: output (${JSON.stringify(out.first)}, ${JSON.stringify(out.last)}, ${out.age}), the spec says (${JSON.stringify(expected.firstName)}, ${JSON.stringify(expected.lastName)}, ${row.age})`);
        }
        if (rej !== undefined) differ(`key ${row.k} is split by the spec but is also in etl.rejects (${rej.reason})`);
      }
    }
    for (const k of outputs.keys()) differ(`the output has key ${k}, which is not in the input`);
    for (const k of rejected.keys()) differ(`etl.rejects has key ${k}, which is not in the input`);
    start = end === hi ? null : end;
  }
  return check;
}
