// Methods 1 and 2: the split done by the database itself, one session, no rows leave the server.
import pg from 'pg';
import { inDatabaseInsertSelect, SPLIT_NAME_SELECT } from '../baselines.ts';
import { measure, type PeerContext, type PeerResult } from './measure.ts';

async function session(url: string, fn: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.end();
  }
}

/** Method 1: `INSERT … SELECT` into the keyed, empty output_table (bench/baselines.ts). */
export function insertSelect(context: PeerContext): Promise<PeerResult> {
  return measure(context.dataDir, () => session(context.targetUrl, async (c) => void (await inDatabaseInsertSelect(c))));
}

/** Method 2: `CREATE TABLE output_table AS SELECT …` (output_table must not exist), then `ADD PRIMARY KEY`. */
export function createTableAsSelect(context: PeerContext): Promise<PeerResult> {
  return measure(context.dataDir, () =>
    session(context.targetUrl, async (c) => {
      await c.query(`CREATE TABLE output_table AS ${SPLIT_NAME_SELECT}`);
      await c.query('ALTER TABLE output_table ADD PRIMARY KEY (id)');
    }),
  );
}
