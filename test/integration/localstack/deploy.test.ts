// What `npm run localstack:deploy` hands cdklocal, checked against the real stack without Docker:
// the LocalStack context (compose secret, LocalStack's default network, TLS off, no schedule) is
// accepted by the stack's settings and synthesizes to functions that read that secret in those
// subnets, with the event source settings the LocalStack docs describe. Also the environment
// cdklocal needs, and the readiness check's messages when LocalStack is missing or incomplete.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readSettings } from '../../../infra/settings.ts';
import { cdklocalEnvironment, deployArguments, localStackContext, waitForLocalStack, type DatabaseTarget } from '../../../localstack/deploy.ts';
import { readStackOutputs, s3EndpointFor } from '../../../localstack/environment.ts';
import { startLambdaEndpoint } from '../../../local/lambda-endpoint.ts';
import { CDK_JSON, synthPipeline, type Synthesized } from '../../infra/helpers.ts';
import { freePort } from '../../../local/embedded-postgres.ts';

// IDs in the form LocalStack's EC2 (moto) gives its default VPC, subnets and security group.
const TARGET: DatabaseTarget = {
  secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:pg-fanout/database-xYzAbC',
  vpcId: 'vpc-4f1e3c2b7a9d8e6f0',
  subnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-1a1b2c3d4e5f60719'],
  securityGroupId: 'sg-0f1e2d3c4b5a69788',
};

const context = localStackContext(TARGET);

describe('localstack:deploy', () => {
  let synth: Synthesized;
  before(() => {
    synth = synthPipeline(context);
  });
  after(() => synth.dispose());

  test('the LocalStack context is a valid existing-database configuration of the stack', () => {
    const settings = readSettings({ tryGetContext: (key: string) => context[key] ?? CDK_JSON.context[key] });
    assert.deepEqual(settings.database, {
      kind: 'existing',
      placeholder: false,
      secretArn: TARGET.secretArn,
      secretKeyArn: undefined,
      vpcId: TARGET.vpcId,
      subnetIds: TARGET.subnetIds,
      securityGroupId: TARGET.securityGroupId,
      proxyTarget: undefined,
    });
    assert.equal(settings.schedule.enabled, false, 'LocalStack never fires schedules; the deploy turns it off explicitly');
  });

  test('it synthesizes to functions that read the compose secret in LocalStack\'s subnets, with the SQS event source as designed', () => {
    {
      const functions = Object.values(synth.template.findResources('AWS::Lambda::Function')).filter(
        (f) => (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables?.WORK_QUEUE_URL !== undefined,
      ) as { Properties: { Environment: { Variables: Record<string, unknown> }; VpcConfig: { SubnetIds: string[]; SecurityGroupIds: string[] } } }[];
      assert.equal(functions.length, 2, 'the coordinator and the worker');
      for (const f of functions) {
        assert.equal(f.Properties.Environment.Variables.DATABASE_SECRET_ARN, TARGET.secretArn);
        assert.deepEqual(f.Properties.VpcConfig.SubnetIds, TARGET.subnetIds);
        assert.deepEqual(f.Properties.VpcConfig.SecurityGroupIds, [TARGET.securityGroupId]);
      }
      synth.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 2 },
      });
      synth.template.hasResourceProperties('AWS::Scheduler::Schedule', { State: 'DISABLED' });
      assert.ok(!Object.keys(synth.template.toJSON().Rules ?? {}).some((r) => r.startsWith('RequireDatabaseContext')), 'no refuse-to-deploy rule: the database context is complete');
    }
  });

  test('the functions get DATABASE_TLS=disable from -c databaseTls=disable', () => {
    {
      const tls = Object.values(synth.template.findResources('AWS::Lambda::Function'))
        .map((f) => (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables?.DATABASE_TLS)
        .filter((v) => v !== undefined);
      assert.deepEqual(tls, ['disable', 'disable']);
    }
  });

  test('cdklocal gets the deploy arguments, the endpoint pair it requires, and the region it would otherwise drop', () => {
    const args = deployArguments(context, ['-c', 'chunkRows=10000']);
    assert.deepEqual(args.slice(0, 8), ['deploy', '--all', '--require-approval', 'never', '--outputs-file', 'localstack/.state/outputs.json', '--output', 'localstack/.state/cdk.out']);
    assert.ok(args.join(' ').includes(`-c databaseSecretArn=${TARGET.secretArn} -c vpcId=${TARGET.vpcId} -c subnetIds=${TARGET.subnetIds.join(',')}`));
    assert.ok(args.join(' ').includes('-c databaseTls=disable -c scheduleEnabled=false -c chunkRows=10000'));

    const env = cdklocalEnvironment({ PATH: '/bin', AWS_PROFILE: 'prod', AWS_ENVAR_ALLOWLIST: 'AWS_PROFILE' }, 'http://localhost.localstack.cloud:4566', 'eu-west-1');
    assert.equal(env.AWS_ENDPOINT_URL, 'http://localhost.localstack.cloud:4566');
    assert.equal(env.AWS_ENDPOINT_URL_S3, 'http://s3.localhost.localstack.cloud:4566');
    assert.equal(env.AWS_REGION, 'eu-west-1');
    assert.equal(env.AWS_ENVAR_ALLOWLIST, 'AWS_REGION,AWS_DEFAULT_REGION,AWS_PROFILE');
    assert.equal(env.PATH, '/bin');
    assert.equal(s3EndpointFor('http://127.0.0.1:4566'), 'http://s3.localhost.localstack.cloud:4566');
  });

  test('the readiness check names what is missing: nothing listening, or a LocalStack without the needed services', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    await assert.rejects(waitForLocalStack(closed, 1500), (error: Error) => {
      assert.equal(error.name, 'ConfigError');
      assert.ok(error.message.startsWith(`LocalStack at ${closed} is not ready (connect ECONNREFUSED `), error.message);
      assert.ok(error.message.includes('): start it with `docker compose -f localstack/docker-compose.yml up -d --wait`'), error.message);
      return true;
    });
    // The embedded stand-in runs Lambda and SQS only: a deploy against it is refused clearly.
    const edge = await startLambdaEndpoint({ upstream: 'http://127.0.0.1:9', functions: {} });
    try {
      await assert.rejects(waitForLocalStack(edge.endpoint, 1500), {
        name: 'ConfigError',
        message: `LocalStack at ${edge.endpoint} does not offer secretsmanager, cloudformation, ec2, s3, iam: do not restrict SERVICES in docker-compose.yml.`,
      });
    } finally {
      await edge.stop();
    }
  });

  test('without a deploy, the e2e script says how to get the coordinator name', async () => {
    await assert.rejects(readStackOutputs('/nonexistent/outputs.json'), {
      name: 'ConfigError',
      message: '/nonexistent/outputs.json does not exist: deploy first with `npm run localstack:deploy`, or set COORDINATOR_FUNCTION to the coordinator\'s name.',
    });
  });
});
