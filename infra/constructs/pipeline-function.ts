// A pg-fanout Lambda function with the house defaults baked in: Node.js on ARM64, bundled by the
// locally installed esbuild (never Docker) as ESM, the RDS CA bundle shipped in the package, JSON
// logs into its own log group with a retention, and a role that holds only what grants add.
import { Duration, Validations } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, Architecture, LoggingFormat, Runtime, SystemLogLevel } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { PipelineConfig } from '../../lambdas/shared/config.ts';
import { CA_BUNDLE_FILE, CA_BUNDLE_SCRIPT } from '../rds-ca-bundle.ts';

/** Lets an ESM bundle load the CommonJS dependencies esbuild keeps as `require` calls (pg, the AWS SDK). */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __pgFanoutCreateRequire } from 'node:module'; const require = __pgFanoutCreateRequire(import.meta.url);";

/** Modules left out of the bundle: pg's optional native binding, which `pg` only tries to require. */
export const EXTERNAL_MODULES = ['pg-native'];

/** The ENI actions Lambda needs to attach a function to a VPC (what AWSLambdaVPCAccessExecutionRole holds). */
const VPC_ACCESS_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

/** What the worker and the coordinator pass straight through to their PipelineFunction. */
export type FunctionPlacementProps = Pick<
  PipelineFunctionProps,
  'environment' | 'vpc' | 'vpcSubnets' | 'securityGroups' | 'logRetention' | 'logLevel' | 'moduleAliases'
>;

export function placementOf(p: FunctionPlacementProps): FunctionPlacementProps {
  return {
    environment: p.environment,
    vpc: p.vpc,
    vpcSubnets: p.vpcSubnets,
    securityGroups: p.securityGroups,
    logRetention: p.logRetention,
    logLevel: p.logLevel,
    moduleAliases: p.moduleAliases,
  };
}

export interface PipelineFunctionProps {
  /** Path of the TypeScript module that exports `handler`. */
  readonly entry: string;
  /**
   * Bare module names resolved to files in the bundle (esbuild `--alias`), e.g. `pg-fanout` for
   * the imports of a bundled pipeline module.
   * @default - none
   */
  readonly moduleAliases?: Readonly<Record<string, string>>;
  /** What the function does, shown in the console. */
  readonly description: string;
  /**
   * Memory in MB; CPU grows with it.
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Invocation timeout.
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
  /**
   * Concurrent executions reserved for (and capping) the function.
   * @default - no reservation: the function shares the account's unreserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Environment variables, read by lambdas/shared/config.ts.
   * @default {}
   */
  readonly environment?: Record<string, string>;
  /**
   * The VPC to run in (the database's).
   * @default - not in a VPC
   */
  readonly vpc?: IVpc;
  /**
   * Subnets in `vpc` for the function's network interfaces.
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: SubnetSelection;
  /**
   * Security groups of the function's network interfaces.
   * @default - a new security group, when `vpc` is set
   */
  readonly securityGroups?: ISecurityGroup[];
  /**
   * How long CloudWatch Logs keeps the function's logs.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * The application's LOG_LEVEL. Lambda's own filter stays at INFO or below whatever this is, so
   * the EMF metric lines (which carry no level, hence count as INFO) are never dropped.
   * @default 'info'
   */
  readonly logLevel?: PipelineConfig['logLevel'];
  /**
   * The Lambda runtime. Node.js 22 is what the project's tests run on (package.json `engines`).
   * @default Runtime.NODEJS_22_X
   */
  readonly runtime?: Runtime;
}

/** A NodejsFunction with pg-fanout's defaults (the Powertools `FunctionWithLogGroup` pattern). */
export class PipelineFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}: its own log group, VPC network interfaces, and what grants add`,
    });
    logGroup.grantWrite(role);
    if (props.vpc) {
      role.addToPrincipalPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: VPC_ACCESS_ACTIONS, resources: ['*'] }));
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Lambda creates and deletes the network interfaces of a VPC function itself; these EC2 actions do not support ' +
          'resource-level permissions, so AWS grants them on "*" (the same statement as AWSLambdaVPCAccessExecutionRole).',
      });
    }
    const logLevel = props.logLevel ?? 'info';

    super(scope, id, {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: props.runtime ?? Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(5),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      // sourceMap is on: stack traces in the logs point at the TypeScript lines.
      environment: { LOG_LEVEL: logLevel, NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      role,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: logLevel === 'debug' ? ApplicationLogLevel.DEBUG : ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.INFO,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        externalModules: EXTERNAL_MODULES,
        minify: true,
        keepNames: true,
        sourceMap: true,
        sourcesContent: false,
        ...(props.moduleAliases === undefined
          ? {}
          : // Local bundling passes esbuild an argument list, no shell: the path goes in as it is.
            { esbuildArgs: { '--alias': Object.entries(props.moduleAliases).map(([name, path]) => `${name}=${path}`) } }),
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [
            `${quote(process.execPath)} ${quote(CA_BUNDLE_SCRIPT)} ${quote(`${outputDir}/${CA_BUNDLE_FILE}`)}`,
          ],
        },
      },
    });

    if ((props.runtime ?? Runtime.NODEJS_22_X) === Runtime.NODEJS_22_X) {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          'Pinned to nodejs22.x, the Node.js line the project is built and tested on (package.json engines, CI). ' +
          'Moving to a newer runtime is a deliberate upgrade with the test suite run on that Node.js version.',
      });
    }
  }
}

/** Quote a path for the shell the local bundler runs hooks in. */
function quote(path: string): string {
  return `"${path.replace(/(["\\$`])/g, '\\$1')}"`;
}
