// The reading side under a fault: the source backend of a chunk terminated in the middle of its
// COPY … TO (the worker reads that protocol itself, lambdas/worker/copy-out.ts). The chunk rolls
// back, is retried, and the run ends exact.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../../lambdas/shared/config.ts';
import { withClient } from '../../../lambdas/shared/db.ts';
import { openPipeline } from '../../../lambdas/pipeline/open-pipeline.ts';
import { checkRows } from '../../../local/row-check.ts';
import { startCli } from '../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { waitFor } from '../../support/processes.ts';

describe('faults on the reading side', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    await db.query(`CREATE TABLE input_table (id bigint PRIMARY KEY, name text, age int)`);
    await db.query(`INSERT INTO input_table SELECT g, 'First' || g || ' Last', g % 90 FROM generate_series(1, 600000) g`);
  });
  after(async () => db?.drop());

  test('a source backend terminated mid-COPY TO: the chunk is retried and the run ends exact', async () => {
    const { done } = startCli(['local', '--mode', 'full', '--chunk-rows', '200000', '--concurrency', '1', '--worker-timeout', '2'], { DATABASE_URL: db.url });
    const reading = `SELECT pid FROM pg_stat_activity WHERE application_name = 'pg-fanout-worker-source' AND state = 'active' AND query LIKE 'COPY (SELECT%'`;
    const pid = await waitFor('a source backend mid-COPY', async () => (await db.query(reading)).rows[0]?.pid as number | undefined, 60_000, 2);
    assert.equal((await db.query('SELECT pg_terminate_backend($1) AS ok', [pid])).rows[0]!.ok, true);
    const r = await done;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const retried = await db.query(`SELECT count(*)::int AS n FROM etl.chunks WHERE attempts > 1`);
    assert.ok(retried.rows[0]!.n >= 1, 'the interrupted chunk was attempted again');
    const opened = await openPipeline(loadConfig({ DATABASE_URL: db.url }), { applicationName: 'test', sourceConnections: 1, targetConnections: 1 });
    try {
      const check = await withClient(opened.target, (c) => checkRows(c, opened.pipeline, -(2n ** 63n), null));
      assert.deepEqual(check.problems, []);
      assert.equal(check.checked, 600000);
    } finally {
      await Promise.all([opened.source.end(), opened.target.end()]);
    }
  });
});
