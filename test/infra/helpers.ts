// Synthesizes the pipeline stack for the infra tests the way infra/app.ts does: cdk.json's context
// with `-c`-style string overrides on top. Bundling is skipped unless a test asks for it, so only
// the tests that inspect the Lambda package pay for esbuild.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PipelineStack } from '../../infra/pipeline-stack.ts';
import { readSettings } from '../../infra/settings.ts';

interface CdkJson {
  app: string;
  context: Record<string, unknown>;
}

export const CDK_JSON = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as CdkJson;

/** Real-looking IDs for an existing database. */
export const EXISTING = Object.freeze({
  databaseSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-1a2b3c4d-AbCdEf',
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2',
  securityGroupId: 'sg-0cccccccccccccccc',
});

export interface Synthesized {
  app: App;
  stack: PipelineStack;
  template: Template;
  outdir: string;
  dispose(): void;
}

export function synthPipeline(overrides: Record<string, unknown> = {}, options: { bundle?: boolean } = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'pg-fanout-cdk-'));
  const context: Record<string, unknown> = { ...CDK_JSON.context, ...overrides };
  if (!options.bundle) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({ outdir, context });
  const settings = readSettings(app.node);
  const stack = new PipelineStack(app, settings.stackName, { settings });
  const template = Template.fromStack(stack);
  return { app, stack, template, outdir, dispose: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** The one resource of `type` whose logical ID starts with `prefix`. */
export function resourceId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0] as string;
}
