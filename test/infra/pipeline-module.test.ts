// `-c pipeline=FILE`: the module is bundled into both functions (bundled once here, as `cdk synth`
// does it), nothing in their environment names it, and the dashboard and alarms read the metrics of
// the module's pipeline name. The run through the bundles themselves is
// test/integration/deploy/bundled-artifact.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { GENERATED_ENTRIES_DIR, loadBundledPipeline, PROJECT_ROOT, writeBundleEntries, type BundledPipeline } from '../../infra/pipeline-bundle.ts';
import ordersPipeline, { ORDERS_PIPELINE_NAME } from '../fixtures/pipelines/orders.ts';
import { dashboardWidgets, ORDERS_PIPELINE, resourceId, synthPipeline, synthWithPipeline, type Synthesized } from './helpers.ts';

let synth: Synthesized;
let template: Template;
let ids: { worker: string; coordinator: string; topic: string };

before(async () => {
  synth = await synthWithPipeline({ pipeline: 'test/fixtures/pipelines/orders.ts' }, { bundle: true });
  template = synth.template;
  ids = {
    worker: resourceId(template, 'AWS::Lambda::Function', 'WorkerFunction'),
    coordinator: resourceId(template, 'AWS::Lambda::Function', 'CoordinatorFunction'),
    topic: resourceId(template, 'AWS::SNS::Topic', 'MonitoringAlarmTopic'),
  };
});
after(() => synth.dispose());

const envOf = (id: string) => template.findResources('AWS::Lambda::Function')[id]?.Properties.Environment.Variables as Record<string, unknown>;
const assetDir = (id: string) => {
  const key = template.findResources('AWS::Lambda::Function')[id]?.Properties.Code.S3Key as string;
  return join(synth.outdir, `asset.${key.replace(/\.zip$/, '')}`);
};
const sourcesOf = (id: string) =>
  (JSON.parse(readFileSync(join(assetDir(id), 'index.mjs.map'), 'utf8')) as { sources: string[] }).sources.map((s) => s.replaceAll('\\', '/'));

describe('-c pipeline=FILE', () => {
  test('loadBundledPipeline learns the module\'s name, where its definition is exported and its transform as Node.js reads it', async () => {
    const loaded = await loadBundledPipeline(ORDERS_PIPELINE);
    assert.deepEqual({ ...loaded, transformSource: undefined }, { file: ORDERS_PIPELINE, exportName: 'default', name: ORDERS_PIPELINE_NAME, transformSource: undefined });
    assert.equal(loaded.transformSource, String(ordersPipeline.spec.transform));
    assert.match(loaded.transformSource, /^transform\(order\) \{\n {4}if \(order\.status === 'cancelled'\) return null;/);
  });

  test('both packages bundle the module and pg-fanout\'s API it imports; no bare "pg-fanout" import is left', () => {
    for (const id of [ids.worker, ids.coordinator]) {
      const sources = sourcesOf(id);
      assert.ok(sources.some((s) => s.endsWith('test/fixtures/pipelines/orders.ts')), `${id} lacks the pipeline module`);
      assert.ok(sources.some((s) => s.endsWith('lambdas/pipeline/define.ts')), `${id} lacks definePipeline`);
      assert.ok(sources.some((s) => s.endsWith('/register-pipeline.ts')), `${id} lacks the registration`);
      const code = readFileSync(join(assetDir(id), 'index.mjs'), 'utf8');
      // esbuild writes module specifiers in double quotes; the name itself is also in messages and
      // in load-pipeline.ts's resolve hook, so only an import or require of it counts.
      assert.equal(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)"pg-fanout"/.exec(code)?.[0], undefined, `${id} imports pg-fanout at run time`);
      assert.ok(code.includes(JSON.stringify(ORDERS_PIPELINE_NAME).slice(1, -1)), `${id} lacks the pipeline's name`);
    }
    assert.ok(sourcesOf(ids.worker).some((s) => s.endsWith('lambdas/worker/handler.ts')));
    assert.ok(sourcesOf(ids.coordinator).some((s) => s.endsWith('lambdas/coordinator/handler.ts')));
  });

  test('the module is baked in, not named: no PIPELINE_MODULE, and the built-in pipeline\'s tables are not set', () => {
    for (const id of [ids.worker, ids.coordinator]) {
      const env = envOf(id);
      for (const name of ['PIPELINE_MODULE', 'SOURCE_TABLE', 'TARGET_TABLE', 'KEY_COLUMN']) assert.equal(env[name], undefined, `${id}: ${name}`);
      assert.deepEqual(env.WORK_QUEUE_URL, { Ref: resourceId(template, 'AWS::SQS::Queue', 'WorkQueueAD') });
    }
  });

  test('the dashboard, the rejected-rows alarm and the PipelineName output use the module\'s name', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RowsRejected',
      Namespace: 'PgFanout',
      Dimensions: [{ Name: 'Pipeline', Value: ORDERS_PIPELINE_NAME }],
      AlarmActions: [{ Ref: ids.topic }],
    });
    const widgets = dashboardWidgets(template);
    const chunkMetrics = widgets.flatMap((w) => w.properties.metrics ?? []).filter((m) => m[0] === 'PgFanout');
    assert.equal(chunkMetrics.length, 7);
    for (const metric of chunkMetrics) assert.deepEqual(metric.slice(2, 4), ['Pipeline', ORDERS_PIPELINE_NAME]);
    assert.ok(widgets.some((w) => w.properties.markdown?.includes(ORDERS_PIPELINE_NAME)));
    assert.equal((template.toJSON().Outputs as Record<string, { Value: unknown }>).PipelineName?.Value, ORDERS_PIPELINE_NAME);
  });

  test('everything else is the stack of the built-in pipeline: same functions, queue, grants', () => {
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('worker'), Handler: 'index.handler', Runtime: 'nodejs22.x' });
  });
});

describe('the generated entries', () => {
  let orders: BundledPipeline;
  before(async () => {
    orders = await loadBundledPipeline(ORDERS_PIPELINE);
  });

  test('live under the git-ignored cdk.out, register the pipeline in a module imported before the handler', () => {
    const entries = writeBundleEntries(orders, GENERATED_ENTRIES_DIR);
    for (const entry of [entries.worker, entries.coordinator]) {
      assert.equal(relative(PROJECT_ROOT, entry).split(sep)[0], 'cdk.out');
      const lines = readFileSync(entry, 'utf8').split('\n').filter((l) => l.startsWith('import') || l.startsWith('export'));
      // ES modules evaluate their imports in order, all before their own body: the registration
      // must be an import that comes before the handler's, not a statement of this module.
      assert.deepEqual(lines[0], "import './register-pipeline.ts';");
      assert.match(lines[1] ?? '', /^export \{ handler \} from ".*lambdas\/(worker|coordinator)\/handler\.ts";$/);
    }
    const registration = readFileSync(join(entries.worker, '../register-pipeline.ts'), 'utf8');
    assert.match(registration, /import \{ default as definition \} from ".*orders\.ts";\nimport \{ registerBundledPipeline \} from ".*load-pipeline\.ts";\n\nregisterBundledPipeline\(definition, "transform\(order\) /);
    // The transform's text as Node.js reads the module goes in verbatim: the ledger's fingerprint of
    // the definition then agrees between the two bundles (whose minified texts differ) and the CLI.
    assert.ok(registration.includes(`registerBundledPipeline(definition, ${JSON.stringify(orders.transformSource)});`));
    assert.match(readFileSync(new URL('../../.gitignore', import.meta.url), 'utf8'), /^cdk\.out\/$/m);
  });

  test('the same module writes the same files (a stable asset hash); another module gets its own folder', () => {
    const one = writeBundleEntries(orders);
    const again = writeBundleEntries({ ...orders });
    const other = writeBundleEntries({ ...orders, exportName: 'pipeline' });
    assert.deepEqual(one, again);
    assert.notEqual(join(one.worker, '..'), join(other.worker, '..'));
    assert.match(readFileSync(join(other.worker, '../register-pipeline.ts'), 'utf8'), /import \{ pipeline as definition \}/);
  });

  test('a stack whose settings name a module it was not given refuses to build', () => {
    assert.throws(() => synthPipeline({ pipeline: 'test/fixtures/pipelines/orders.ts' }), /settings.pipelineModule .* and props.pipeline \(none\) disagree/);
  });
});
