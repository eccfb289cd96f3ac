// Synthesizes the pipeline stack for the infra tests the way infra/app.ts does: cdk.json's context
// with `-c`-style string overrides on top, and the module `pipeline` names imported first. Bundling
// is skipped unless a test asks for it, so only the tests that inspect the Lambda package pay for
// esbuild.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadBundledPipeline, type BundledPipeline } from '../../infra/pipeline-bundle.ts';
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

/** A second, separate source database. */
export const SOURCE = Object.freeze({
  sourceDatabaseSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-9f8e7d6c-ZyXwVu',
  sourceDatabaseHost: 'orders-replica.cabc123xyz.eu-west-1.rds.amazonaws.com',
});

/** The test pipeline module (test/fixtures/pipelines/orders.ts), by absolute path. */
export const ORDERS_PIPELINE = fileURLToPath(new URL('../fixtures/pipelines/orders.ts', import.meta.url));

export interface Synthesized {
  app: App;
  stack: PipelineStack;
  template: Template;
  outdir: string;
  dispose(): void;
}

/** The stack of the built-in pipeline (a `pipeline` override needs synthWithPipeline). */
export function synthPipeline(overrides: Record<string, unknown> = {}, options: { bundle?: boolean } = {}): Synthesized {
  return build(overrides, options, () => undefined);
}

/** As infra/app.ts does it: the module the `pipeline` context names is imported and checked first. */
export async function synthWithPipeline(overrides: Record<string, unknown> = {}, options: { bundle?: boolean } = {}): Promise<Synthesized> {
  let pipeline: BundledPipeline | undefined;
  const context: Record<string, unknown> = { ...CDK_JSON.context, ...overrides };
  const file = readSettings({ tryGetContext: (key) => context[key] }).pipelineModule;
  if (file !== undefined) pipeline = await loadBundledPipeline(file);
  return build(overrides, options, () => pipeline);
}

function build(overrides: Record<string, unknown>, options: { bundle?: boolean }, pipeline: () => BundledPipeline | undefined): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'pg-fanout-cdk-'));
  const context: Record<string, unknown> = { ...CDK_JSON.context, ...overrides };
  if (!options.bundle) context['aws:cdk:bundling-stacks'] = [];
  const dispose = () => rmSync(outdir, { recursive: true, force: true });
  try {
    const app = new App({ outdir, context });
    const settings = readSettings(app.node);
    const stack = new PipelineStack(app, settings.stackName, { settings, pipeline: pipeline() });
    const template = Template.fromStack(stack);
    return { app, stack, template, outdir, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}

/** The one resource of `type` whose logical ID starts with `prefix`. */
export function resourceId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0] as string;
}

interface DashboardWidget {
  type: string;
  properties: { title?: string; markdown?: string; metrics?: unknown[][] };
}

/** The dashboard's widgets: its body is a Fn::Join of JSON text and tokens (queue names, function names). */
export function dashboardWidgets(t: Template): DashboardWidget[] {
  const dashboard = Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0];
  const body = dashboard?.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  return (JSON.parse(text) as { widgets: DashboardWidget[] }).widgets;
}
