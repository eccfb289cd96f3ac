// The reading side under a fault: the source backend of a chunk terminated in the middle of its
// COPY … TO (the worker reads that protocol itself, lambdas/worker/copy-out.ts). The chunk rolls
// back, is retried, and the run ends exact. The pipeline's transform is slow on purpose: the worker
// reads no faster than it transforms, and a chunk (36 MB) is several times what the sockets buffer,
// so the backend stays mid-COPY (blocked on its socket) for seconds and the termination lands there.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startCli } from '../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { waitFor } from '../../support/processes.ts';

const SLOW_PIPELINE = `import { definePipeline } from 'pg-fanout';
const pause = new Int32Array(new SharedArrayBuffer(4));
export default definePipeline({
  name: 'slow copy',
  source: { table: 'public.input_table', key: 'id', columns: { id: 'bigint not null', name: 'text', age: 'integer' } },
  target: { table: 'public.output_table', columns: { id: 'bigint not null', name: 'text', age: 'integer' } },
  transform(row) {
    if (Number(row.id) % 3000 === 0) Atomics.wait(pause, 0, 0, 20); // 2 s per 300,000-row chunk
    return row;
  },
});
`;

describe('faults on the reading side', () => {
  let db: TestDatabase;
  let dir: string;
  let pipeline: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-fanout-extract-'));
    pipeline = join(dir, 'slow.ts');
    await writeFile(pipeline, SLOW_PIPELINE);
    db = await createTestDatabase();
    await db.query(`CREATE TABLE input_table (id bigint PRIMARY KEY, name text, age int)`);
    await db.query(`INSERT INTO input_table SELECT g, 'First' || g || ' Last ' || repeat('x', 100), g % 90 FROM generate_series(1, 600000) g`);
  });
  after(async () => {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a source backend terminated mid-COPY TO: the chunk is retried and the run ends exact', async () => {
    const { done } = startCli(['local', '--mode', 'full', '--chunk-rows', '300000', '--concurrency', '1', '--worker-timeout', '8', '--pipeline', pipeline], { DATABASE_URL: db.url });
    const reading = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pg-fanout-worker-source' AND state = 'active' AND query LIKE 'COPY (SELECT%'`;
    const pid = await waitFor('a source backend mid-COPY', async () => (await db.query(reading)).rows[0]?.pid as number | undefined, 60_000, 2);
    assert.equal((await db.query('SELECT pg_terminate_backend($1) AS ok', [pid])).rows[0]!.ok, true);
    const r = await done;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const retried = await db.query(`SELECT count(*)::int AS n FROM etl.chunks WHERE attempts > 1`);
    assert.ok(retried.rows[0]!.n >= 1, 'the interrupted chunk was attempted again');
    // The transform is the identity: the target must equal the source, row for row, once.
    const diff = await db.query(`SELECT count(*)::int AS n FROM input_table i FULL JOIN output_table o ON o.id = i.id
                                  WHERE o.id IS NULL OR i.id IS NULL OR (i.name, i.age) IS DISTINCT FROM (o.name, o.age)`);
    assert.equal(diff.rows[0]!.n, 0, 'rows that differ between source and target');
    assert.equal((await db.query('SELECT count(*)::int AS n FROM output_table')).rows[0]!.n, 600000);
  });
});
