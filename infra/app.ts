// The CDK app: read the settings from the context (cdk.json defaults, `-c` overrides), build the
// stack, and run the cdk-nag AwsSolutions checks on it. A broken setting stops here with the
// ConfigError that names the rule, not a stack trace from deep inside a construct.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../lambdas/shared/errors.ts';
import { PipelineStack } from './pipeline-stack.ts';
import { readSettings } from './settings.ts';

const app = new App();
try {
  const settings = readSettings(app.node);
  new PipelineStack(app, settings.stackName, {
    settings,
    description: 'pg-fanout: serverless PostgreSQL ETL (coordinator, SQS work queue, workers)',
  });
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`pg-fanout: invalid CDK context: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
