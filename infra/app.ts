// The CDK app: read the settings from the context (cdk.json defaults, `-c` overrides), import the
// pipeline module `-c pipeline=FILE` names (if any), build the stack, and run the cdk-nag
// AwsSolutions checks on it. A broken setting or module stops here with the ConfigError that names
// the rule or the file, not a stack trace from deep inside a construct.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../lambdas/shared/errors.ts';
import { loadBundledPipeline } from './pipeline-bundle.ts';
import { PipelineStack } from './pipeline-stack.ts';
import { readSettings } from './settings.ts';

const app = new App();
try {
  const settings = readSettings(app.node);
  const pipeline = settings.pipelineModule === undefined ? undefined : await loadBundledPipeline(settings.pipelineModule);
  new PipelineStack(app, settings.stackName, {
    settings,
    pipeline,
    description: 'pg-fanout: serverless PostgreSQL ETL (coordinator, SQS work queue, workers)',
  });
} catch (error) {
  if (error instanceof ConfigError) {
    // One line: a module's own error (a syntax error, say) may span several.
    console.error(`pg-fanout: invalid CDK context: ${error.message.replace(/\s*\n\s*/g, ' ')}`);
    process.exit(1);
  }
  throw error;
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
