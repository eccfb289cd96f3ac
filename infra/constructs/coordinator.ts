// The coordinator: a PipelineFunction that plans a run and enqueues its chunks, started by an
// EventBridge Scheduler schedule with `{ "mode": "incremental" }` or `{ "mode": "full" }`.
// Reserved concurrency 1: two runs never plan at once, and the coordinator holds one database
// connection at most (the "+ 1" of the max_connections formula in README.md ("Deploy to AWS")).
import { Duration, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import type { RunMode } from '../../lambdas/shared/config.ts';
import { PipelineFunction, placementOf, type FunctionPlacementProps } from './pipeline-function.ts';

/** The coordinator's event: what the schedule sends, and what an operator sends for a one-off run. */
export interface CoordinatorEvent {
  mode: RunMode;
}

export interface CoordinatorProps extends FunctionPlacementProps {
  /** Path of the coordinator handler module. */
  readonly entry: string;
  /**
   * Memory in MB.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Invocation timeout (planning plus enqueueing every chunk).
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
  /**
   * When to start a run: an EventBridge Scheduler expression.
   * @default 'rate(1 day)'
   */
  readonly scheduleExpression?: string;
  /**
   * Time zone a cron expression is read in.
   * @default 'UTC'
   */
  readonly scheduleTimeZone?: string;
  /**
   * Run mode the schedule sends.
   * @default 'incremental'
   */
  readonly scheduleMode?: RunMode;
  /**
   * Whether the schedule fires. A disabled schedule stays in the stack, so switching it back on is one deploy.
   * @default true
   */
  readonly scheduleEnabled?: boolean;
}

export class Coordinator extends Construct {
  readonly function: PipelineFunction;
  readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: CoordinatorProps) {
    super(scope, id);
    this.function = new PipelineFunction(this, 'Function', {
      entry: props.entry,
      description: 'pg-fanout coordinator: split the source table into key ranges and enqueue one message per chunk',
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.minutes(5),
      reservedConcurrentExecutions: 1,
      ...placementOf(props),
    });
    const event: CoordinatorEvent = { mode: props.scheduleMode ?? 'incremental' };
    const scheduleRole = new Role(this, 'ScheduleRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'EventBridge Scheduler: invoke the pg-fanout coordinator',
    });
    const functionLogicalId = Stack.of(this).getLogicalId(this.function.node.defaultChild as CfnFunction);
    Validations.of(scheduleRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${functionLogicalId}.Arn>:*]`,
      reason:
        'lambda:InvokeFunction on this one function and its versions/aliases (ARN:*), exactly as Function.grantInvoke writes it; no other function is reachable.',
    });
    this.schedule = new Schedule(this, 'Schedule', {
      description: `pg-fanout ${event.mode} run`,
      schedule: ScheduleExpression.expression(props.scheduleExpression ?? 'rate(1 day)', TimeZone.of(props.scheduleTimeZone ?? 'UTC')),
      target: new LambdaInvoke(this.function, {
        input: ScheduleTargetInput.fromObject(event),
        role: scheduleRole,
        // A run that could not start within the hour waits for the next schedule instead of overlapping it.
        maxEventAge: Duration.hours(1),
        retryAttempts: 10,
      }),
      enabled: props.scheduleEnabled ?? true,
    });
  }
}
