// What an operator needs to run the pipeline: alarms that page (to an encrypted SNS topic, with an
// optional e-mail subscription) and one dashboard with throughput, queue depth, in-flight chunks,
// errors and the dead-letter queue. Row counts come from the worker's EMF lines (lambdas/shared/metrics.ts),
// which carry one dimension, `Pipeline`: every chunk metric here is read with the pipeline's name.
import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CHUNK_METRICS, METRICS_NAMESPACE, PIPELINE_DIMENSION } from '../../lambdas/shared/metrics.ts';

export interface PipelineMonitoringProps {
  /**
   * The pipeline's name as the worker reports it: the value of the chunk metrics' `Pipeline`
   * dimension (a module's `name`; `source -> target` for the built-in pipeline).
   */
  readonly pipelineName: string;
  readonly workQueue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly worker: IFunction;
  readonly coordinator: IFunction;
  /**
   * Alarm when the oldest chunk message has waited this long: the workers are stuck or far behind.
   * @default Duration.hours(1)
   */
  readonly oldestMessageAge?: Duration;
  /**
   * E-mail address subscribed to the alarm topic (confirm the subscription mail once).
   * @default - no subscription; subscribe to the `AlarmTopicArn` output yourself
   */
  readonly alarmEmail?: string;
  /**
   * CloudWatch namespace of the worker's EMF metrics.
   * @default METRICS_NAMESPACE ('PgFanout')
   */
  readonly metricsNamespace?: string;
  /**
   * Dashboard name.
   * @default - the stack name
   */
  readonly dashboardName?: string;
}

export class PipelineMonitoring extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  readonly deadLetterAlarm: Alarm;
  readonly workerErrorsAlarm: Alarm;
  readonly workerThrottlesAlarm: Alarm;
  readonly coordinatorErrorsAlarm: Alarm;
  readonly oldestMessageAlarm: Alarm;
  readonly rowsRejectedAlarm: Alarm;

  constructor(scope: Construct, id: string, props: PipelineMonitoringProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    const namespace = props.metricsNamespace ?? METRICS_NAMESPACE;

    const key = new Key(this, 'TopicKey', {
      description: 'pg-fanout alarm topic encryption',
      enableKeyRotation: true,
    });
    // CloudWatch alarms publish to an encrypted topic only if they may use its key.
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true, displayName: `${stackName} alarms` });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.topic);

    const minute = Duration.minutes(1);
    const alarm = (alarmId: string, metric: Metric, threshold: number, description: string): Alarm => {
      const created = metric.createAlarm(this, alarmId, {
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      return created;
    };

    const dlqDepth = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: 'Maximum' });
    this.deadLetterAlarm = alarm(
      'DeadLetterQueueNotEmpty',
      dlqDepth,
      1,
      'A chunk failed maxReceiveCount times and is in the dead-letter queue. Read the worker logs for its runId/chunkNo, ' +
        'fix the cause, then redrive the DLQ to the work queue (SQS console: Start DLQ redrive).',
    );
    this.workerErrorsAlarm = alarm(
      'WorkerErrors',
      props.worker.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      1,
      'A worker invocation failed as a whole (crash, timeout, out of memory); its chunks are retried by SQS. ' +
        'Per-chunk failures are reported as batch item failures and show up in the logs and, when exhausted, in the DLQ.',
    );
    this.workerThrottlesAlarm = alarm(
      'WorkerThrottles',
      props.worker.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
      1,
      'The worker was throttled: reserved concurrency is below what the event source asks for. Throttled receives use up ' +
        'maxReceiveCount, so keep maxConcurrency <= reservedConcurrency and check the account concurrency limit.',
    );
    this.coordinatorErrorsAlarm = alarm(
      'CoordinatorErrors',
      props.coordinator.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      1,
      'A coordinator run failed before all its chunks were enqueued. Read its log; a retry resumes the run.',
    );
    const oldestAge = props.oldestMessageAge ?? Duration.hours(1);
    this.oldestMessageAlarm = alarm(
      'OldestMessageAge',
      props.workQueue.metricApproximateAgeOfOldestMessage({ period: minute, statistic: 'Maximum' }),
      oldestAge.toSeconds(),
      `A chunk has waited ${oldestAge.toHumanString()} in the work queue: workers are stuck, failing, or too few for the backlog ` +
        '(raise maxConcurrency only if the database has the connections, see README.md ("Deploy to AWS")).',
    );

    const emf = (metricName: string, statistic: string, period: Duration = minute): Metric =>
      new Metric({ namespace, metricName, statistic, period, dimensionsMap: { [PIPELINE_DIMENSION]: props.pipelineName } });
    this.rowsRejectedAlarm = alarm(
      'RowsRejected',
      emf(CHUNK_METRICS.rowsRejected, 'Sum', Duration.minutes(5)),
      1,
      `Pipeline "${props.pipelineName}" rejected source rows: they are in etl.rejects (pipeline, source_key, reason, source_row) and in no target. ` +
        'Fix the source rows (the next incremental run takes the changed rows) or the transform (then start a full run).',
    );
    const rowsPerSecond = (metricName: string, label: string): MathExpression =>
      new MathExpression({
        expression: `${metricName.toLowerCase()} / PERIOD(${metricName.toLowerCase()})`,
        usingMetrics: { [metricName.toLowerCase()]: emf(metricName, 'Sum') },
        label,
        period: minute,
      });

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName ?? stackName });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          `## ${stackName}: \`${props.pipelineName}\`\nChunks flow coordinator → work queue → workers → targets; failed chunks land in the ` +
          `dead-letter queue. Row metrics: namespace \`${namespace}\`, ${PIPELINE_DIMENSION} \`${props.pipelineName}\`.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Rows per second',
        left: [
          rowsPerSecond(CHUNK_METRICS.rowsRead, 'read/s'),
          rowsPerSecond(CHUNK_METRICS.rowsWritten, 'written/s'),
          rowsPerSecond(CHUNK_METRICS.rowsRejected, 'rejected/s'),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Chunk duration (ms)',
        left: [emf(CHUNK_METRICS.duration, 'p50'), emf(CHUNK_METRICS.duration, 'p99'), emf(CHUNK_METRICS.duration, 'Maximum')],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Work queue: waiting and in flight',
        left: [
          props.workQueue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: 'Maximum', label: 'waiting (queue depth)' }),
          props.workQueue.metricApproximateNumberOfMessagesNotVisible({ period: minute, statistic: 'Maximum', label: 'in flight' }),
        ],
        right: [props.workQueue.metricApproximateAgeOfOldestMessage({ period: minute, statistic: 'Maximum', label: 'oldest message age (s)' })],
        width: 12,
      }),
      new GraphWidget({
        title: 'Workers running',
        left: [props.worker.metric('ConcurrentExecutions', { period: minute, statistic: 'Maximum', label: 'concurrent workers' })],
        right: [props.worker.metricDuration({ period: minute, statistic: 'p99', label: 'invocation p99 (ms)' })],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Errors',
        left: [
          props.worker.metricErrors({ period: minute, statistic: 'Sum', label: 'worker errors' }),
          props.worker.metricThrottles({ period: minute, statistic: 'Sum', label: 'worker throttles' }),
          props.coordinator.metricErrors({ period: minute, statistic: 'Sum', label: 'coordinator errors' }),
        ],
        right: [emf(CHUNK_METRICS.rowsRejected, 'Sum').with({ label: 'rows rejected' })],
        width: 12,
      }),
      new SingleValueWidget({
        title: 'Dead-letter queue',
        metrics: [dlqDepth.with({ label: 'chunks in DLQ' })],
        width: 6,
      }),
      new GraphWidget({
        title: 'Dead-letter queue depth',
        left: [dlqDepth.with({ label: 'chunks in DLQ' })],
        width: 6,
      }),
    );
  }
}
