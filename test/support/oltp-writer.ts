// An OLTP writer as a real process, for change-capture tests: until SIGTERM (or --seconds) it
// inserts rows with the table's bigserial ids, holds some inserts open in transactions (some inside
// savepoints, so their rows carry a subtransaction's id) long enough to span a run's planning,
// pre-allocates ids with nextval() and inserts them seconds later, updates and deletes rows, and
// turns rows into ones the name split rejects and back. It writes what it did not finish to no one:
// on SIGTERM it lets the open transactions commit, then exits 0.
//   node test/support/oltp-writer.ts DATABASE_URL SEED SECONDS
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { prng } from './prng.ts';

const [url, seedText, secondsText] = process.argv.slice(2);
const random = prng(Number(seedText ?? 1));
const until = Date.now() + Number(secondsText ?? 10) * 1000;
let stopping = false;
process.on('SIGTERM', () => (stopping = true));

const NAMES = ['Ada Lovelace', 'Grace  Hopper', ' Zoë van der Berg ', 'Solo', '   ', '', 'Björn\tBorg', 'Nguyễn Văn A', null];
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
const age = () => (random() < 0.1 ? null : Math.floor(random() * 90));

const pool = new pg.Pool({ connectionString: url, max: 6 });
const inFlight = new Set<Promise<unknown>>();
function spawn(work: () => Promise<unknown>): void {
  const p = work().catch((e: Error) => {
    // A deadlock or a row deleted under an update: the writer's own business, nothing to check.
    if (!/deadlock|could not serialize/.test(e.message)) console.error(`writer: ${e.message}`);
  }).finally(() => inFlight.delete(p));
  inFlight.add(p);
}

async function someId(): Promise<string | undefined> {
  const r = await pool.query<{ id: string }>('SELECT id::text FROM input_table TABLESAMPLE SYSTEM (5) LIMIT 1');
  return r.rows[0]?.id;
}

async function held(savepoint: boolean): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    if (savepoint) await c.query('SAVEPOINT s');
    await c.query('INSERT INTO input_table (name, age) VALUES ($1, $2)', [pick(NAMES), age()]);
    if (savepoint) await c.query('RELEASE SAVEPOINT s');
    await sleep(300 + random() * 2500);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

async function preallocated(): Promise<void> {
  const { rows } = await pool.query<{ id: string }>(`SELECT nextval(pg_get_serial_sequence('input_table', 'id'))::text AS id`);
  await sleep(500 + random() * 2500);
  await pool.query('INSERT INTO input_table (id, name, age) VALUES ($1, $2, $3)', [rows[0]!.id, pick(NAMES), age()]);
}

let operations = 0;
while (!stopping && Date.now() < until) {
  if (inFlight.size >= 5) {
    await Promise.race(inFlight);
    continue;
  }
  const r = random();
  operations += 1;
  if (r < 0.35) spawn(() => pool.query('INSERT INTO input_table (name, age) VALUES ($1, $2)', [pick(NAMES), age()]));
  else if (r < 0.45) spawn(() => held(random() < 0.5));
  else if (r < 0.55) spawn(preallocated);
  else if (r < 0.8) spawn(async () => { const id = await someId(); if (id) await pool.query('UPDATE input_table SET name = $2, age = $3 WHERE id = $1', [id, pick(NAMES), age()]); });
  else spawn(async () => { const id = await someId(); if (id) await pool.query('DELETE FROM input_table WHERE id = $1', [id]); });
  await sleep(random() * 15);
}
await Promise.all(inFlight);
await pool.end();
console.log(`writer done: ${operations} operations`);
