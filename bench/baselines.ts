// What a user would do instead of pg-fanout, measured on the same data: one INSERT … SELECT inside
// the database, and a hand-written client loop (SELECT pages + multi-row INSERT).
import type pg from 'pg';
import { splitName } from '../lambdas/transform/split-name.ts';

/**
 * The split in SQL: input_table's rows as (id, first_name, last_name, age), rejected names left
 * out. It splits on the ASCII space only (position/left/ltrim): cheaper than a Unicode-aware
 * regex, so the baselines are as fast as the database can go, not straw men. Shared by the
 * INSERT … SELECT here and the CREATE TABLE AS of bench/peers/.
 */
export const SPLIT_NAME_SELECT = `
    SELECT id,
           CASE WHEN p = 0 THEN t ELSE left(t, p - 1) END AS first_name,
           CASE WHEN p = 0 THEN NULL ELSE ltrim(substr(t, p + 1)) END AS last_name,
           age
      FROM (SELECT id, age, t, position(' ' in t) AS p FROM (SELECT id, age, btrim(name) AS t FROM input_table) a) b
     WHERE t <> ''`;

/** The in-database statement into the keyed output_table. */
export async function inDatabaseInsertSelect(client: pg.ClientBase): Promise<number> {
  const r = await client.query(`INSERT INTO output_table (id, first_name, last_name, age) ${SPLIT_NAME_SELECT}`);
  return r.rowCount ?? 0;
}

/** The naive client: keyset pages of SELECT, the split in JS, multi-row INSERTs of 1000 rows. */
export async function naiveClientLoop(client: pg.ClientBase, pageRows = 10_000, insertRows = 1000): Promise<number> {
  let after = '-9223372036854775808';
  let written = 0;
  let first = true;
  for (;;) {
    const page = await client.query<{ id: string; name: string | null; age: number | null }>(
      `SELECT id::text, name, age FROM input_table WHERE id ${first ? '>=' : '>'} $1::bigint ORDER BY id LIMIT $2`,
      [after, pageRows],
    );
    first = false;
    if (page.rows.length === 0) return written;
    const out: (string | number | null)[][] = [];
    for (const row of page.rows) {
      const split = splitName(row.name);
      if (!('reject' in split)) out.push([row.id, split.firstName, split.lastName, row.age]);
    }
    for (let i = 0; i < out.length; i += insertRows) {
      const part = out.slice(i, i + insertRows);
      const values = part.map((_, j) => `($${4 * j + 1}::bigint, $${4 * j + 2}, $${4 * j + 3}, $${4 * j + 4}::int)`).join(', ');
      await client.query(`INSERT INTO output_table (id, first_name, last_name, age) VALUES ${values}`, part.flat());
      written += part.length;
    }
    after = page.rows[page.rows.length - 1]!.id;
  }
}
