// `cdk synth` as a user runs it: the real CLI and cdk.json, no AWS credentials or config, no
// network, no Docker. And the in-process equivalent for the other stack shapes, with every
// validation plugin the CLI runs (CDK's CloudFormation validation and cdk-nag AwsSolutions).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PipelineStack } from '../../infra/pipeline-stack.ts';
import { readSettings } from '../../infra/settings.ts';
import { CDK_JSON, EXISTING } from './helpers.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The environment of a machine that has never seen AWS: no credentials, no profile, no config files. */
function offlineEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_') && !key.startsWith('CDK_')) env[key] = value;
  return {
    ...env,
    HOME: home,
    AWS_EC2_METADATA_DISABLED: 'true', // no instance-metadata probe for credentials
    CDK_DISABLE_VERSION_CHECK: '1',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    CDK_DOCKER: join(home, 'no-docker-here'), // any attempt to bundle in Docker fails the synth
  };
}

describe('cdk synth', () => {
  test('the CLI synthesizes the default cdk.json context offline, without credentials, Docker or lookups', () => {
    const work = mkdtempSync(join(tmpdir(), 'pg-fanout-synth-'));
    try {
      const out = join(work, 'cdk.out');
      const result = spawnSync(
        process.execPath,
        [join(repoRoot, 'node_modules/aws-cdk/bin/cdk'), 'synth', '--quiet', '--no-notices', '-o', out],
        { cwd: repoRoot, env: offlineEnv(work), encoding: 'utf8', timeout: 300_000 },
      );
      assert.equal(result.status, 0, `cdk synth failed:\n${result.stderr}`);
      assert.doesNotMatch(result.stderr, /^ERROR/m);
      assert.doesNotMatch(result.stderr, /docker/i);
      const template = JSON.parse(readFileSync(join(out, 'PgFanout.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
      assert.ok(Object.values(template.Resources).some((r) => r.Type === 'AWS::Lambda::EventSourceMapping'));
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { missing?: unknown[] };
      assert.equal(manifest.missing, undefined, 'the app asked for a context lookup');
      assert.ok(existsSync(join(out, 'validation-report.json')));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  const shapes: Record<string, Record<string, unknown>> = {
    'the demo database behind RDS Proxy': { demoDatabase: 'true', rdsProxy: 'true', alarmEmail: 'ops@example.com' },
    'an existing database behind RDS Proxy': { ...EXISTING, rdsProxy: 'true', databaseClusterId: 'orders-cluster' },
  };
  for (const [name, context] of Object.entries(shapes)) {
    test(`${name} passes every validation plugin at synthesis`, () => {
      const outdir = mkdtempSync(join(tmpdir(), 'pg-fanout-cdk-'));
      try {
        const app = new App({ outdir, context: { ...CDK_JSON.context, ...context, 'aws:cdk:bundling-stacks': [] } });
        const settings = readSettings(app.node);
        new PipelineStack(app, settings.stackName, { settings });
        Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
        const assembly = app.synth(); // throws "Validation failed" on any unacknowledged finding
        assert.equal(assembly.manifest.missing, undefined);
        const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
          pluginReports: { pluginName: string; conclusion: string }[];
        };
        for (const plugin of report.pluginReports) assert.equal(plugin.conclusion, 'success', plugin.pluginName);
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    });
  }
});
