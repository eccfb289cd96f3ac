// A throw-away database for the benchmark and the soak: on DATABASE_URL's server when it is set,
// else on an embedded PostgreSQL started here. Dropped (and the embedded server stopped) by close().
import pg from 'pg';
import { startEmbeddedPostgres } from '../local/embedded-postgres.ts';

export interface ScratchDatabase {
  readonly url: string;
  /** A connection to the scratch database. */
  readonly client: pg.Client;
  /** Where the server came from, for the report. */
  readonly origin: 'embedded' | 'DATABASE_URL';
  close(): Promise<void>;
}

export async function openScratchDatabase(name: string): Promise<ScratchDatabase> {
  const configured = process.env.DATABASE_URL;
  const embedded = configured ? undefined : await startEmbeddedPostgres();
  const serverUrl = configured ?? embedded!.url;
  const admin = new pg.Client(serverUrl);
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`);
  const url = Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString();
  const client = new pg.Client(url);
  await client.connect();
  return {
    url,
    client,
    origin: embedded ? 'embedded' : 'DATABASE_URL',
    async close() {
      await client.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
      await embedded?.stop();
    },
  };
}
