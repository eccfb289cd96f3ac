// Pipeline modules as a user writes them, and how pg-fanout answers what goes wrong: a module that
// does not exist, exports no pipeline or fails to load; a declared column the source lacks; a target
// column of another type; a key without a unique index; the source as its own target; a view as the
// target — each one clear line naming the thing and the fix, a non-zero exit, and nothing written.
// User code that throws, or returns a row with a column missing or a value of the wrong type,
// rejects that row (naming why) and lets the rest of its chunk commit. A run started by one
// definition is not resumed by another.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { startTestSqs, type TestSqs } from '../../support/sqs.ts';
import { createSqsClient } from '../../../lambdas/shared/queue.ts';
import { ensureQueues } from '../../../local/queues.ts';
import { resolveBackpressure } from '../../../lambdas/shared/config.ts';

const RUN = ['local', '--chunk-rows', '500', '--concurrency', '2', '--worker-timeout', '5'];

/** A pipeline module over public.src (id bigint, a text, n integer) into public.dst, with the given overrides. */
function moduleText(o: { source?: string; target?: string; columns?: string; targetColumns?: string; key?: string; transform?: string; name?: string } = {}): string {
  return `import { definePipeline, reject } from 'pg-fanout';
export default definePipeline({
  name: ${JSON.stringify(o.name ?? 'modules')},
  source: { table: ${JSON.stringify(o.source ?? 'public.src')}, key: ${o.key ?? "'id'"}, columns: ${o.columns ?? "{ id: 'bigint not null', a: 'text', n: 'integer' }"} },
  target: { table: ${JSON.stringify(o.target ?? 'public.dst')}, columns: ${o.targetColumns ?? "{ id: 'bigint not null', a: 'text', n: 'integer' }"} },
  transform(row) { ${o.transform ?? 'return { id: row.id, a: row.a, n: row.n };'} },
});
void reject;
`;
}

describe('pipeline modules', () => {
  let db: TestDatabase;
  let dir: string;
  let env: Record<string, string>;
  const write = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };
  const nothingWritten = async () => {
    const t = await db.query(`SELECT to_regclass('public.dst') AS t`);
    assert.equal(t.rows[0]!.t, null, 'no target created');
  };
  before(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), 'pg-fanout-modules-'));
    env = { DATABASE_URL: db.url };
    await db.query(`CREATE TABLE src (id bigint PRIMARY KEY, a text, n integer)`);
    await db.query(`INSERT INTO src SELECT g, 'v' || g, g FROM generate_series(1, 3000) g`);
    await db.query(`CREATE TABLE nokey (id bigint, a text, n integer)`);
    await db.query(`CREATE VIEW vdst AS SELECT * FROM src`);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await db?.drop();
  });

  const bad: [string, () => Promise<string>, RegExp][] = [
    ['a module that does not exist', async () => join(dir, 'nope.ts'), /pipeline module .*nope\.ts does not exist .*give the path of a module that exports definePipeline/],
    ['a module that exports no pipeline', () => write('none.ts', 'export const x = 1;\n'), /pipeline module .*none\.ts does not export a pipeline \(it exports x\): add `export default definePipeline/],
    ['a module that fails to load', () => write('broken.ts', 'export default definePipeline({ name: \n'), /pipeline module .*broken\.ts failed to load: SyntaxError: .*fix the module and run again/],
    ['a module whose definition is malformed', () => write('malformed.ts', moduleText({ key: "'idd'" })), /pipeline "modules": source\.key column "idd" is not in source\.columns \(id, a, n\): declare it there with its type/],
    ['a declared source column the table lacks', () => write('nocol.ts', moduleText({ columns: "{ id: 'bigint not null', a: 'text', nn: 'integer' }" })),
      /pipeline "modules": source\.columns\.nn: public\.src has no column "nn": declare only columns the table has \(it has id, a, n\)/],
    ['a source column declared with another type', () => write('srctype.ts', moduleText({ columns: "{ id: 'bigint not null', a: 'integer', n: 'integer' }" })),
      /pipeline "modules": source\.columns\.a is declared integer but public\.src\."a" is text: declare it as text/],
    ['a key without a unique index', () => write('nokey.ts', moduleText({ source: 'public.nokey', columns: "{ id: 'bigint', a: 'text', n: 'integer' }" })),
      /source\.key "id" of public\.nokey allows NULL|source\.key "id" of public\.nokey has no unique index: .*ALTER TABLE "public"\."nokey" ADD PRIMARY KEY \("id"\)/],
    ['the source as its own target', () => write('same.ts', moduleText({ target: 'public.src' })),
      /target public\.src is the source table itself: write to another table/],
    ['a view as the target', () => write('view.ts', moduleText({ target: 'public.vdst' })),
      /pipeline "modules": target\.table public\.vdst is a view: pg-fanout writes into tables\. Point it at a table, or drop the view so pg-fanout creates the table\./],
  ];
  for (const [what, path, message] of bad) {
    test(`${what}: one clear line, exit 1, nothing written`, async () => {
      const r = await runCli([...RUN, '--pipeline', await path()], env);
      assert.equal(r.code, 1, r.stdout);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, message);
      assert.doesNotMatch(r.stderr, /unexpected error/);
      await nothingWritten();
    });
  }

  test('a target column of another type than declared is refused with the ALTER that fixes it', async () => {
    await db.query(`CREATE TABLE dst2 (id bigint PRIMARY KEY, a text, n text)`);
    const r = await runCli([...RUN, '--pipeline', await write('dsttype.ts', moduleText({ target: 'public.dst2' }))], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pipeline "modules": target\.columns\.n is declared integer but public\.dst2\."n" is text: declare it as text or change the column \(ALTER TABLE public\.dst2 ALTER COLUMN "n" TYPE integer\)\./);
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM dst2`)).rows[0]!.n, 0);
  });

  test('user code that throws, or returns a missing column or a wrong type, rejects that row and names why', async () => {
    const path = await write('faulty.ts', moduleText({
      name: 'faulty',
      target: 'public.faulty',
      transform: `if (row.n === 7) throw new Error('seven is unlucky');
        if (row.n === 8) return { id: row.id, a: row.a } as never;
        if (row.n === 9) return { id: row.id, a: row.a, n: 'nine' } as never;
        if (row.n === 10) return { id: row.id, a: row.a, n: row.n, extra: 1 } as never;
        if (row.n === 11) return reject('eleven');
        if (row.n === 12) return null;
        return { id: row.id, a: row.a, n: row.n };`,
    }));
    const r = await runCli([...RUN, '--pipeline', path], env);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /rows read 3,000, written 2,994, rejected 5 \(see etl\.rejects\), filtered 1/);
    const rejects = (await db.query(`SELECT source_key[1] AS id, reason, source_row FROM etl.rejects WHERE pipeline = 'faulty' ORDER BY source_key[1]::int`)).rows;
    const reasons = new Map(rejects.map((x) => [x.id as string, x.reason as string]));
    assert.deepEqual([...reasons.keys()].sort(), ['10', '11', '7', '8', '9']);
    assert.equal(reasons.get('7'), 'seven is unlucky');
    assert.equal(reasons.get('8'), 'the row has no column n (the transform must give every declared column; null for NULL)');
    assert.match(reasons.get('9')!, /^column n: expected an integer .*got string "nine"$/);
    assert.equal(reasons.get('10'), 'the row has a column extra, which is not declared (declared: id, a, n)');
    assert.equal(reasons.get('11'), 'eleven');
    assert.deepEqual(rejects.find((x) => x.id === '7')!.source_row, { id: 7, a: 'v7', n: 7 });
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM faulty`)).rows[0]!.n, 2994);
  });

  test('a NULL in a new target\'s primary key column is set aside with PostgreSQL\'s reason; the rest of the run completes', async () => {
    const path = await write('nullkey.ts', moduleText({
      name: 'nullkey',
      target: 'public.nullkey',
      targetColumns: "{ id: 'bigint', a: 'text', n: 'integer' }",
      transform: 'return { id: row.n === 7 ? null : row.id, a: row.a, n: row.n };',
    }));
    const r = await runCli([...RUN, '--pipeline', path], env);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /rows read 3,000, written 2,999, rejected 1 /);
    const rejects = (await db.query(`SELECT source_key[1] AS id, reason FROM etl.rejects WHERE pipeline = 'nullkey'`)).rows;
    assert.deepEqual(rejects.map((x) => x.id), ['7']);
    assert.match(rejects[0]!.reason as string, /null value in column "id" .*violates not-null constraint/);
    assert.equal((await db.query(`SELECT count(*)::int AS n FROM nullkey WHERE id IS NOT NULL`)).rows[0]!.n, 2999);
    const pk = (await db.query(`SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conrelid = 'public.nullkey'::regclass AND contype = 'p'`)).rows;
    assert.deepEqual(pk.map((x) => x.d), ['PRIMARY KEY (id)']);
  });

  test('a run is not resumed by another definition of its pipeline; a new run cancels it and starts over', async () => {
    const server: TestSqs = await startTestSqs();
    try {
      const sqs = createSqsClient({ sqsEndpoint: server.endpoint, region: 'us-east-1' });
      const queues = await ensureQueues(sqs, resolveBackpressure());
      const qenv = { ...env, AWS_ENDPOINT_URL_SQS: server.endpoint, WORK_QUEUE_URL: queues.queueUrl };
      const v1 = await write('v1.ts', moduleText({ name: 'resumable', target: 'public.resumable' }));
      const v2 = await write('v2.ts', moduleText({ name: 'resumable', target: 'public.resumable', transform: 'return { id: row.id, a: row.a, n: (row.n ?? 0) + 1 };' }));
      const started = await runCli(['run', '--mode', 'full', '--pipeline', v1], qenv);
      assert.equal(started.code, 0, started.stderr);
      const runId = /run ([0-9a-f-]{36}) started/.exec(started.stdout)![1]!;
      const resumed = await runCli(['resume', runId, '--pipeline', v2], qenv);
      assert.equal(resumed.code, 1);
      assert.match(resumed.stderr, new RegExp(`run ${runId} was started by another definition of pipeline resumable .*it cannot be resumed with this one\\. Start a new run instead: \`pg-fanout run\` cancels it and starts over`));
      const fresh = await runCli(['run', '--mode', 'full', '--pipeline', v2], qenv);
      assert.equal(fresh.code, 0, fresh.stderr);
      assert.match(fresh.stdout, new RegExp(`note: run ${runId} of the previous definition was cancelled`));
      assert.equal((await db.query(`SELECT status FROM etl.runs WHERE run_id = $1`, [runId])).rows[0]!.status, 'cancelled');
    } finally {
      await server.stop();
    }
  });
});
