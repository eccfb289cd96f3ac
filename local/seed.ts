// Synthetic input for the local main job and the benchmark: realistic names (one-word, multi-word,
// extra spaces, non-ASCII, a few NULL/blank ones that the spec rejects), generated in the database.
import type { PoolClient } from '../lambdas/shared/db.ts';

const FIRST = ['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William', 'Barbara',
  'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen', 'Zoë', 'José', 'Björn', 'Siobhán', 'Nguyễn', 'Ólafur'];
const LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez',
  'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'van der Berg', 'de la Cruz', "O'Neill", 'Müller'];

/** Creates `table` (id bigint primary key, name text, age int) with `rows` rows, ids 1..rows. */
export async function seedInputTable(client: PoolClient, tableSql: string, rows: number): Promise<void> {
  await client.query(`CREATE TABLE ${tableSql} (id bigint PRIMARY KEY, name text, age int)`);
  await client.query(
    `INSERT INTO ${tableSql} (id, name, age)
     SELECT g,
            CASE
              WHEN g % 1000 = 0 THEN NULL
              WHEN g % 1000 = 1 THEN '   '
              WHEN g % 50 = 0 THEN f.v
              WHEN g % 37 = 0 THEN '  ' || f.v || '   ' || l.v || '  '
              ELSE f.v || ' ' || l.v
            END,
            CASE WHEN g % 23 = 0 THEN NULL ELSE 18 + (g * 7919) % 70 END
       FROM generate_series(1, $1::bigint) g
       CROSS JOIN LATERAL (SELECT ($2::text[])[1 + (g * 31) % array_length($2::text[], 1)] AS v) f
       CROSS JOIN LATERAL (SELECT ($3::text[])[1 + (g * 17) % array_length($3::text[], 1)] AS v) l`,
    [rows, FIRST, LAST],
  );
  await client.query(`ANALYZE ${tableSql}`);
}
