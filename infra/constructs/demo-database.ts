// A try-out PostgreSQL (`-c demoDatabase=true`): an Aurora Serverless v2 PostgreSQL cluster that
// scales to zero when idle, in a VPC of its own with no internet route. The functions reach Secrets
// Manager and SQS through interface endpoints; you reach the database through the RDS Data API.
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  InterfaceVpcEndpointAwsService,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  AuroraPostgresEngineVersion,
  ClusterInstance,
  Credentials,
  DatabaseCluster,
  DatabaseClusterEngine,
} from 'aws-cdk-lib/aws-rds';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface DemoDatabaseProps {
  /**
   * Aurora PostgreSQL version. 16.3 or later is needed to scale to 0 ACU.
   * @default AuroraPostgresEngineVersion.VER_16_8
   */
  readonly engineVersion?: AuroraPostgresEngineVersion;
  /**
   * Minimum Aurora capacity units; 0 pauses the cluster when idle (you pay storage only).
   * @default 0
   */
  readonly minCapacity?: number;
  /**
   * Maximum Aurora capacity units; also sets max_connections (see README.md ("Deploy to AWS")).
   * @default 4
   */
  readonly maxCapacity?: number;
  /**
   * Name of the database created in the cluster (the secret's `dbname`).
   * @default 'pgfanout'
   */
  readonly databaseName?: string;
  /**
   * Availability zones of the VPC (Aurora needs subnets in two).
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * Retention of the VPC flow log.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

export class DemoDatabase extends Construct {
  readonly vpc: Vpc;
  readonly cluster: DatabaseCluster;
  /** Generated master credentials: host, port, username, password, dbname. */
  readonly secret: ISecret;
  /** The security group of the functions, allowed into the cluster. */
  readonly clientSecurityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: DemoDatabaseProps = {}) {
    super(scope, id);
    this.vpc = new Vpc(this, 'Vpc', {
      maxAzs: props.maxAzs ?? 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: FlowLogDestination.toCloudWatchLogs(
        new LogGroup(this, 'FlowLogGroup', { retention: props.logRetention ?? RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
      ),
      trafficType: FlowLogTrafficType.REJECT,
    });
    this.clientSecurityGroup = new SecurityGroup(this, 'ClientSecurityGroup', {
      vpc: this.vpc,
      description: 'pg-fanout functions: allowed into the demo database and the AWS API endpoints',
      allowAllOutbound: true,
    });

    // No NAT: the only AWS APIs the functions call are Secrets Manager and SQS, through endpoints
    // that admit HTTPS from the functions' security group only.
    const endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'pg-fanout VPC endpoints: HTTPS from the functions',
      allowAllOutbound: false,
    });
    endpointSecurityGroup.addIngressRule(this.clientSecurityGroup, Port.tcp(443), 'pg-fanout functions');
    for (const [id, service] of [
      ['SecretsManagerEndpoint', InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
      ['SqsEndpoint', InterfaceVpcEndpointAwsService.SQS],
    ] as const) {
      this.vpc.addInterfaceEndpoint(id, { service, securityGroups: [endpointSecurityGroup], open: false });
    }

    this.cluster = new DatabaseCluster(this, 'Cluster', {
      engine: DatabaseClusterEngine.auroraPostgres({ version: props.engineVersion ?? AuroraPostgresEngineVersion.VER_16_8 }),
      writer: ClusterInstance.serverlessV2('Writer'),
      serverlessV2MinCapacity: props.minCapacity ?? 0,
      serverlessV2MaxCapacity: props.maxCapacity ?? 4,
      vpc: this.vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_ISOLATED },
      credentials: Credentials.fromGeneratedSecret('pgfanout'),
      defaultDatabaseName: props.databaseName ?? 'pgfanout',
      parameters: { 'rds.force_ssl': '1' },
      storageEncrypted: true,
      iamAuthentication: true,
      enableDataApi: true,
      deletionProtection: false,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.cluster.connections.allowDefaultPortFrom(this.clientSecurityGroup, 'pg-fanout functions');
    if (!this.cluster.secret) throw new Error('the demo cluster has no generated secret');
    this.secret = this.cluster.secret;

    Validations.of(this.cluster).acknowledge(
      { id: 'AwsSolutions-RDS10', reason: 'Try-out database: `cdk destroy` must remove it; deletion protection would block that.' },
      {
        id: 'AwsSolutions-RDS11',
        reason:
          "The default port 5432 is kept: the cluster is reachable only from the functions' security group in isolated subnets, " +
          'so a non-standard port adds no protection.',
      },
      {
        // The generated secret (Cluster/Secret) is a child of the cluster.
        id: 'AwsSolutions-SMG4',
        reason:
          'Try-out database destroyed after use; rotation would need a rotation function with its own network path, ' +
          'and rotating under running workers is left to production databases.',
      },
    );
  }
}
