// How the functions reach PostgreSQL: the secret with the credentials, the VPC, subnets and
// security group to run in, TLS verified against the RDS CA bundle, and optionally an RDS Proxy in
// front of the target and a separate source database (its own secret, host and security group).
// An existing database is imported by ID only (no lookups), so synthesis needs no AWS credentials.
import { Annotations, Fn, Stack, Validations } from 'aws-cdk-lib';
import { Port, SecurityGroup, Subnet, Vpc, type ISecurityGroup, type IVpc, type SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement, Role, ServicePrincipal, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  AuroraPostgresEngineVersion,
  DatabaseCluster,
  DatabaseClusterEngine,
  DatabaseInstance,
  DatabaseInstanceEngine,
  DatabaseProxy,
  PostgresEngineVersion,
  ProxyTarget,
} from 'aws-cdk-lib/aws-rds';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { DatabaseTls } from '../../lambdas/shared/config.ts';
import type { DemoDatabaseSettings, ExistingDatabaseSettings, SourceDatabaseSettings } from '../settings.ts';
import { CA_BUNDLE_PATH_IN_LAMBDA } from '../rds-ca-bundle.ts';
import { DemoDatabase } from './demo-database.ts';

const POSTGRES_PORT = 5432;

export interface DatabaseAccessProps {
  /** Your database by ID, or a demo database the stack creates: the target (targets and ledger). */
  readonly database: ExistingDatabaseSettings | DemoDatabaseSettings;
  /**
   * A separate source database, reached from the same VPC and subnets (a Lambda function sits in
   * one VPC: the source must be routable from it, e.g. the same VPC, peering or a transit gateway).
   * @default - the pipeline reads from the target database
   */
  readonly source?: SourceDatabaseSettings;
  /**
   * Put an RDS Proxy between the functions and the database (the functions connect to its endpoint).
   * @default false
   */
  readonly rdsProxy?: boolean;
  /**
   * TLS to the database: verify-full checks the server against the RDS CA bundle shipped with the
   * functions; `disable` exists for LocalStack's plain PostgreSQL only.
   * @default 'verify-full'
   */
  readonly tls?: DatabaseTls;
  /**
   * Retention of the logs this construct creates (the demo VPC's flow log).
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

export class DatabaseAccess extends Construct {
  /** RDS-shaped secret (host, port, username, password, dbname) the functions read at cold start. */
  readonly secret: ISecret;
  /** The source database's secret, when it is a separate database. */
  readonly sourceSecret?: ISecret;
  readonly vpc: IVpc;
  readonly vpcSubnets: SubnetSelection;
  /** Security groups of the functions; the database (or proxy) admits them. */
  readonly securityGroups: ISecurityGroup[];
  /** Set with `-c demoDatabase=true`. */
  readonly demo?: DemoDatabase;
  /** Set with `-c rdsProxy=true`. */
  readonly proxy?: DatabaseProxy;
  /** The DATABASE_* and SOURCE_DATABASE_* variables lambdas/shared/config.ts reads. */
  readonly environment: Record<string, string>;
  /** KMS key of an existing secret that does not use aws/secretsmanager. */
  private readonly secretKeyArn?: string;
  private readonly sourceSecretKeyArn?: string;

  constructor(scope: Construct, id: string, props: DatabaseAccessProps) {
    super(scope, id);
    const settings = props.database;

    let target: ProxyTarget | undefined;
    if (settings.kind === 'demo') {
      this.demo = new DemoDatabase(this, 'Demo', { logRetention: props.logRetention });
      this.secret = this.demo.secret;
      this.vpc = this.demo.vpc;
      this.vpcSubnets = { subnets: this.demo.vpc.isolatedSubnets };
      this.securityGroups = [this.demo.clientSecurityGroup];
      target = ProxyTarget.fromCluster(this.demo.cluster);
    } else {
      const secretArn = settings.secretArn;
      this.secretKeyArn = settings.secretKeyArn;
      this.secret = importSecret(this, 'Secret', secretArn);
      // Only the IDs: the subnets are named explicitly, so the VPC's AZ layout is never consulted
      // (Fn::GetAZs would stand in for it if it were; a lookup would need credentials at synth).
      this.vpc = Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: settings.vpcId, availabilityZones: Fn.getAzs() });
      Validations.of(this.vpc).acknowledge({
        id: 'Annotation::@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones',
        reason: 'The functions and the proxy get their subnets by ID; nothing selects subnets by AZ at synth time.',
      });
      this.vpcSubnets = {
        subnets: settings.subnetIds.map((subnetId, i) => {
          const subnet = Subnet.fromSubnetId(this, `Subnet${i}`, subnetId);
          Validations.of(subnet).acknowledge({
            id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
            reason: 'Lambda and RDS Proxy network interfaces need the subnet ID only, never its route table.',
          });
          return subnet;
        }),
      };
      this.securityGroups = [SecurityGroup.fromSecurityGroupId(this, 'SecurityGroup', settings.securityGroupId, { mutable: false })];
      target = settings.proxyTarget ? this.importProxyTarget(settings.proxyTarget) : undefined;
      if (settings.placeholder) {
        Annotations.of(this).addWarningV2(
          'pg-fanout:placeholder-database',
          `No database context given: the template uses placeholders (${settings.vpcId}, …) and CloudFormation will refuse to deploy it. ` +
            'Deploy with -c databaseSecretArn=… -c vpcId=… -c subnetIds=… -c securityGroupId=…, or with -c demoDatabase=true (see README.md ("Deploy to AWS")).',
        );
      }
    }

    const tls = props.tls ?? 'verify-full';
    this.environment = {
      DATABASE_SECRET_ARN: this.secret.secretArn,
      DATABASE_TLS: tls,
      ...(tls === 'verify-full' ? { DATABASE_CA_FILE: CA_BUNDLE_PATH_IN_LAMBDA } : {}),
    };

    if (props.rdsProxy) {
      if (!target) throw new Error('rdsProxy needs a proxy target; readSettings should have required databaseClusterId or databaseInstanceId');
      const proxySecurityGroup = new SecurityGroup(this, 'ProxySecurityGroup', {
        vpc: this.vpc,
        description: 'pg-fanout RDS Proxy: admits the functions',
        allowAllOutbound: true,
      });
      for (const group of this.securityGroups) proxySecurityGroup.addIngressRule(group, Port.tcp(POSTGRES_PORT), 'pg-fanout functions');
      const proxyRole = new Role(this, 'ProxyRole', {
        assumedBy: new ServicePrincipal('rds.amazonaws.com'),
        description: 'pg-fanout RDS Proxy: read the database secret',
      });
      grantSecretRead(this, this.secret, this.secretKeyArn, proxyRole);
      this.proxy = new DatabaseProxy(this, 'Proxy', {
        proxyTarget: target,
        role: proxyRole,
        secrets: [this.secret],
        vpc: this.vpc,
        vpcSubnets: this.vpcSubnets,
        // With an existing database the proxy also wears the functions' group, which that database already admits.
        securityGroups: settings.kind === 'demo' ? [proxySecurityGroup] : [proxySecurityGroup, ...this.securityGroups],
        requireTLS: true,
      });
      this.environment.DATABASE_HOST = this.proxy.endpoint;
    }

    // After the proxy: it fronts the target only, so it neither wears nor admits the source's group.
    if (props.source) {
      if (settings.kind === 'demo') throw new Error('a separate source database cannot be reached from the demo VPC; readSettings should have refused it');
      this.sourceSecret = importSecret(this, 'SourceSecret', props.source.secretArn);
      this.sourceSecretKeyArn = props.source.secretKeyArn;
      this.environment.SOURCE_DATABASE_SECRET_ARN = this.sourceSecret.secretArn;
      if (props.source.host) this.environment.SOURCE_DATABASE_HOST = props.source.host;
      if (props.source.securityGroupId) {
        this.securityGroups.push(SecurityGroup.fromSecurityGroupId(this, 'SourceSecurityGroup', props.source.securityGroupId, { mutable: false }));
      }
    }
  }

  /** Let `grantee` read the database secrets, the target's and the source's (and decrypt them, when they have their own KMS keys). */
  grantConnect(grantee: IGrantable): void {
    grantSecretRead(this, this.secret, this.secretKeyArn, grantee);
    if (this.sourceSecret) grantSecretRead(this, this.sourceSecret, this.sourceSecretKeyArn, grantee);
  }

  private importProxyTarget(target: NonNullable<ExistingDatabaseSettings['proxyTarget']>): ProxyTarget {
    // The proxy needs the identifier and the engine family only; the version below just names the family.
    if (target.kind === 'cluster') {
      return ProxyTarget.fromCluster(
        DatabaseCluster.fromDatabaseClusterAttributes(this, 'TargetCluster', {
          clusterIdentifier: target.clusterId,
          engine: DatabaseClusterEngine.auroraPostgres({ version: AuroraPostgresEngineVersion.of('16', '16') }),
          port: POSTGRES_PORT,
          securityGroups: [],
        }),
      );
    }
    return ProxyTarget.fromInstance(
      DatabaseInstance.fromDatabaseInstanceAttributes(this, 'TargetInstance', {
        instanceIdentifier: target.instanceId,
        engine: DatabaseInstanceEngine.postgres({ version: PostgresEngineVersion.of('16', '16') }),
        // Required by the import but not used by a proxy target, which names the instance by identifier.
        instanceEndpointAddress: `${target.instanceId}.unused-by-proxy-target`,
        port: POSTGRES_PORT,
        securityGroups: [],
      }),
    );
  }
}

/** An existing secret by ARN. A complete ARN ends in the 6-character suffix Secrets Manager adds; grants must then match it exactly. */
function importSecret(scope: Construct, id: string, arn: string): ISecret {
  return /-[A-Za-z0-9]{6}$/.test(arn)
    ? Secret.fromSecretAttributes(scope, id, { secretCompleteArn: arn })
    : Secret.fromSecretAttributes(scope, id, { secretPartialArn: arn });
}

function grantSecretRead(scope: Construct, secret: ISecret, keyArn: string | undefined, grantee: IGrantable): void {
  secret.grantRead(grantee);
  if (keyArn) {
    // Written out rather than via Key.fromKeyArn().grantDecrypt: CDK skips grants on imported keys it
    // cannot prove are in the stack's account, and this stack is environment-agnostic.
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(scope).region}.amazonaws.com` } },
      }),
    );
  }
}
