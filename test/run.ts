// The test command's runner: starts an embedded PostgreSQL unless DATABASE_URL is set, then runs
// every test file with node's test runner. Each test file makes its own database on that server.
import { spawn } from 'node:child_process';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../local/embedded-postgres.ts';

const patterns = process.argv.slice(2);
const files = patterns.length > 0 ? patterns : ['test/unit/**/*.test.ts', 'test/infra/**/*.test.ts', 'test/integration/**/*.test.ts'];

let embedded: EmbeddedDatabase | undefined;
const env = { ...process.env };
if (!env.DATABASE_URL) {
  embedded = await startEmbeddedPostgres();
  env.DATABASE_URL = embedded.url;
  console.log(`# embedded PostgreSQL on port ${embedded.port} (set DATABASE_URL to use another server)`);
}
env.PG_FANOUT_TEST_ADMIN_URL = env.DATABASE_URL;

const code = await new Promise<number>((resolveCode) => {
  const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=600000', ...files], {
    env,
    stdio: 'inherit',
  });
  child.on('exit', (c, signal) => resolveCode(c ?? (signal ? 1 : 0)));
});
await embedded?.stop();
process.exit(code);
