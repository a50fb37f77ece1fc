/**
 * Activity interceptors of the worker: every activity's outcome and duration as metrics on the SDK's
 * meter (exported with the SDK's own metrics), and `requestId` on every activity log line.
 */
import { performance } from 'node:perf_hooks';
import type { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptors } from '@temporalio/worker';
import { requestIdOf } from '../domain/keys';

/** `success`, the ApplicationFailure type (e.g. VllmUnavailable), `cancelled` or `error`. */
export function activityOutcome(err?: unknown): string {
  if (err === undefined) return 'success';
  if (err instanceof CancelledFailure) return 'cancelled';
  if (err instanceof ApplicationFailure && err.type) return err.type;
  return 'error';
}

export function activityInterceptors(ctx: Context): ActivityInterceptors {
  const outcomes = ctx.metricMeter.createCounter(
    'feedback_activity_outcomes',
    undefined,
    'Activity executions by type and outcome (success or failure type).',
  );
  const duration = ctx.metricMeter.createHistogram(
    'feedback_activity_duration',
    'int',
    'milliseconds',
    'Activity execution time by type and outcome.',
  );
  const requestId = requestIdOf(ctx.info.workflowExecution?.workflowId);
  return {
    inbound: {
      async execute(input, next) {
        const started = performance.now();
        const record = (outcome: string) => {
          // The SDK's meter already tags activityType, namespace and taskQueue.
          const tags = { outcome };
          outcomes.add(1, tags);
          duration.record(Math.round(performance.now() - started), tags);
        };
        try {
          const result = await next(input);
          record(activityOutcome());
          return result;
        } catch (err) {
          record(activityOutcome(err));
          throw err;
        }
      },
    },
    outbound: {
      getLogAttributes: (attributes, next) => next(requestId ? { ...attributes, requestId } : attributes),
    },
  };
}
