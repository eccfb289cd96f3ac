// Change capture at its edges, against a real PostgreSQL: an empty change set, a chunk whose every
// row was deleted (and its rejects with it), frozen rows (VACUUM FREEZE) not taken for changes, a
// row fixed since it was rejected leaving etl.rejects, a row rejected again appearing once, and an
// incremental run after the pipeline's definition changed becoming a full one.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

const RUN = ['local', '--chunk-rows', '1000', '--concurrency', '2', '--worker-timeout', '10'];

describe('incremental runs at the edges', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  const run = async (...extra: string[]) => {
    await db.settle(); // the next run's counts are exact
    const r = await runCli([...RUN, ...extra], env);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const count = async (sql: string) => (await db.query(sql)).rows[0]!.n as number;
  before(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url };
    await db.query(`CREATE TABLE input_table (id bigint PRIMARY KEY, name text, age int)`);
    await db.query(`INSERT INTO input_table SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE 'A' || g || ' B' END, g % 90 FROM generate_series(1, 8000) g`);
    assert.match(await run(), /this run is a full refresh/);
  });
  after(async () => db?.drop());

  test('an empty change set: nothing read, nothing written, the targets untouched', async () => {
    const before = await db.query(`SELECT xmin::text FROM output_table ORDER BY id LIMIT 1`);
    const out = await run();
    assert.match(out, /rows read 0, written 0, rejected 0 \(see etl.rejects\), deleted 0/);
    assert.match(out, /nothing changed since the last run/);
    assert.deepEqual((await db.query(`SELECT xmin::text FROM output_table ORDER BY id LIMIT 1`)).rows, before.rows, 'no target row rewritten');
  });

  test('a chunk whose every row was deleted: its target rows and rejects go too', async () => {
    await db.query(`DELETE FROM input_table WHERE id BETWEEN 1001 AND 2000`);
    const out = await run();
    assert.match(out, /rows read 0, written 0, rejected 0 \(see etl.rejects\), deleted 900 \(source rows gone\)/);
    assert.equal(await count(`SELECT count(*)::int AS n FROM output_table WHERE id BETWEEN 1001 AND 2000`), 0);
    assert.equal(await count(`SELECT count(*)::int AS n FROM etl.rejects WHERE source_key[1]::bigint BETWEEN 1001 AND 2000`), 0);
    assert.equal(await count(`SELECT count(*)::int AS n FROM output_table`), 6300);
  });

  test('frozen rows are not taken for changes; a fixed row leaves etl.rejects; a row rejected again appears once', async () => {
    await db.query(`VACUUM FREEZE input_table`);
    await db.query(`UPDATE input_table SET name = 'Fixed Now' WHERE id = 10`);
    await db.query(`UPDATE input_table SET name = '   ' WHERE id = 20`);
    await db.query(`UPDATE input_table SET name = '' WHERE id = 21`);
    const out = await run();
    assert.match(out, /rows read 3, written 1, rejected 2/);
    assert.deepEqual((await db.query(`SELECT first_name, last_name FROM output_table WHERE id = 10`)).rows, [{ first_name: 'Fixed', last_name: 'Now' }]);
    assert.equal(await count(`SELECT count(*)::int AS n FROM etl.rejects WHERE source_key = '{10}'`), 0, 'the fixed row left etl.rejects');
    assert.deepEqual((await db.query(`SELECT source_key[1] AS id, reason FROM etl.rejects WHERE source_key[1]::bigint IN (20, 21) ORDER BY 1`)).rows,
      [{ id: '20', reason: 'name is whitespace only' }, { id: '21', reason: 'name is empty' }]);
    assert.equal(await count(`SELECT count(*)::int AS n FROM output_table WHERE id IN (20, 21)`), 0);
    await db.query(`UPDATE input_table SET name = '  ' WHERE id = 20`);
    assert.match(await run(), /rows read 1, written 0, rejected 1/);
    assert.equal(await count(`SELECT count(*)::int AS n FROM etl.rejects WHERE source_key = '{20}'`), 1, 'rejected again: one row');
  });

  test('after the definition changed, an incremental request runs a full refresh', async () => {
    // The same pipeline (same name), its transform edited: what the targets hold came from the old one.
    const dir = await mkdtemp(join(tmpdir(), 'pg-fanout-module-'));
    const original = await readFile('examples/name-split.ts', 'utf8');
    await writeFile(join(dir, 'split.ts'), original);
    assert.match(await run('--pipeline', join(dir, 'split.ts')), /this run is a full refresh/);
    assert.match(await run('--pipeline', join(dir, 'split.ts')), /nothing changed since the last run/);
    const edited = original.replaceAll(', age };', ', age: age === null ? null : age + 1000 };');
    assert.notEqual(edited, original);
    await writeFile(join(dir, 'split.ts'), edited);
    assert.match(await run('--pipeline', join(dir, 'split.ts')), /no completed run of this definition of name split to capture changes since: this run is a full refresh/);
    assert.equal(await count(`SELECT count(*)::int AS n FROM people WHERE age < 1000`), 0, 'every row rewritten by the new transform');
    assert.equal(await count(`SELECT count(*)::int AS n FROM people`), await count(`SELECT count(*)::int AS n FROM output_table`));
    await rm(dir, { recursive: true });
  });
});
