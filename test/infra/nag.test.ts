// cdk-nag AwsSolutions checks: zero unacknowledged findings in every shape of the stack, and every
// acknowledgment is a specific finding on the resource it concerns, with its reason.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { EXISTING, SOURCE, synthPipeline, synthWithPipeline, type Synthesized } from './helpers.ts';

const KMS_KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const shapes: Record<string, Record<string, unknown>> = {
  'default context (placeholders)': {},
  'default context with RDS Proxy': { rdsProxy: 'true' },
  'existing database': { ...EXISTING, databaseSecretKeyArn: KMS_KEY },
  'existing Aurora cluster behind RDS Proxy': { ...EXISTING, rdsProxy: 'true', databaseClusterId: 'orders-cluster' },
  'existing RDS instance behind RDS Proxy': { ...EXISTING, rdsProxy: 'true', databaseInstanceId: 'orders-db' },
  'existing target behind RDS Proxy and a separate source with its own key and security group': {
    ...EXISTING,
    databaseSecretKeyArn: KMS_KEY,
    rdsProxy: 'true',
    databaseClusterId: 'ledger-cluster',
    ...SOURCE,
    sourceDatabaseSecretKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/5678abcd-12ab-34cd-56ef-1234567890ab',
    sourceSecurityGroupId: 'sg-0ddddddddddddddd4',
  },
  'demo database': { demoDatabase: 'true' },
  'demo database behind RDS Proxy': { demoDatabase: 'true', rdsProxy: 'true', alarmEmail: 'ops@example.com' },
};

const made: Synthesized[] = [];
after(() => {
  for (const s of made) s.dispose();
});

interface Acknowledged {
  path: string;
  id: string;
  reason: string;
}

function acknowledgments(root: IConstruct): Acknowledged[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))),
  );
}

describe('cdk-nag AwsSolutions', () => {
  for (const [name, context] of Object.entries(shapes)) {
    test(`${name}: no unacknowledged error or warning`, () => {
      const s = synthPipeline(context);
      made.push(s);
      const report = new AwsSolutionsChecks(s.app, { verbose: true }).validateScope(s.stack);
      const findings = report.violations.map((v) => `${v.ruleName} (${v.severity}) at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
      assert.deepEqual(findings, []);
      assert.equal(report.success, true);
    });
  }

  test('a pipeline module bundled into an existing database\'s stack: no unacknowledged error or warning', async () => {
    const s = await synthWithPipeline({ ...EXISTING, pipeline: 'test/fixtures/pipelines/orders.ts' });
    made.push(s);
    const report = new AwsSolutionsChecks(s.app, { verbose: true }).validateScope(s.stack);
    assert.deepEqual(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`), []);
  });

  test('acknowledgments name a finding on a specific resource, never the whole stack, and say why', () => {
    const s = synthPipeline(shapes['demo database behind RDS Proxy'] as Record<string, unknown>);
    made.push(s);
    // Only the AwsSolutions ones are ours; CDK itself acknowledges a few CloudFormation-Validate findings.
    const found = acknowledgments(s.app).filter((a) => a.id.includes('AwsSolutions-'));
    const stackPath = Stack.of(s.stack).node.path;
    for (const a of found) {
      assert.notEqual(a.path, stackPath, `${a.id} acknowledged on the whole stack`);
      assert.ok(a.reason.length >= 60, `${a.id} at ${a.path} has no real reason: "${a.reason}"`);
    }
    const ids = [...new Set(found.map((a) => `${a.id.replace(/^Annotation::/, '').replace(/<[A-Za-z0-9]+\.Arn>/, '<fn.Arn>')} @ ${a.path.replace(/^PgFanout\//, '')}`))].sort();
    assert.deepEqual(ids, [
      'AwsSolutions-IAM5[Resource::*] @ Coordinator/FunctionRole',
      'AwsSolutions-IAM5[Resource::*] @ Worker/FunctionRole',
      'AwsSolutions-IAM5[Resource::<fn.Arn>:*] @ Coordinator/ScheduleRole',
      'AwsSolutions-L1 @ Coordinator/Function',
      'AwsSolutions-L1 @ Worker/Function',
      'AwsSolutions-RDS10 @ Database/Demo/Cluster',
      'AwsSolutions-RDS11 @ Database/Demo/Cluster',
      'AwsSolutions-SMG4 @ Database/Demo/Cluster',
    ]);
  });
});
