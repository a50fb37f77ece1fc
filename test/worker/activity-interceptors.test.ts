/**
 * The worker's activity interceptors (src/worker/activity-interceptors.ts), run by the SDK's own
 * activity machinery (MockActivityEnvironment with the interceptors and a recording meter and logger):
 * every activity's outcome and duration as metrics, and the run's requestId on its log lines.
 */
import { Context } from '@temporalio/activity';
import {
  ApplicationFailure,
  CancelledFailure,
  type LogLevel,
  type LogMetadata,
  type Logger,
  type MetricMeter,
  type MetricTags,
} from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { activityInterceptors, activityOutcome } from '../../src/worker/activity-interceptors';

interface Recorded {
  metric: string;
  value: number;
  tags: MetricTags;
}

/** A meter that records every value with its tags (those the SDK adds included). */
function recordingMeter(): MetricMeter & { recorded: Recorded[]; created: string[] } {
  const recorded: Recorded[] = [];
  const created: string[] = [];
  const instrument = (metric: string, kind: string) => {
    created.push(`${kind} ${metric}`);
    const write = (value: number, tags: MetricTags = {}) => void recorded.push({ metric, value, tags });
    return { name: metric, unit: undefined, description: undefined, add: write, record: write, set: write };
  };
  const meter = {
    recorded,
    created,
    createCounter: (name: string) => instrument(name, 'counter'),
    createHistogram: (name: string) => instrument(name, 'histogram'),
    createGauge: (name: string) => instrument(name, 'gauge'),
    withTags: () => meter,
  };
  return meter as unknown as MetricMeter & { recorded: Recorded[]; created: string[] };
}

function recordingLogger(): Logger & {
  lines: Array<{ level: LogLevel; message: string; meta?: LogMetadata }>;
} {
  const lines: Array<{ level: LogLevel; message: string; meta?: LogMetadata }> = [];
  const at =
    (level: LogLevel) =>
    (message: string, meta?: LogMetadata): void =>
      void lines.push({ level, message, meta });
  return {
    lines,
    log: (level: LogLevel, message: string, meta?: LogMetadata) => void lines.push({ level, message, meta }),
    trace: at('TRACE'),
    debug: at('DEBUG'),
    info: at('INFO'),
    warn: at('WARN'),
    error: at('ERROR'),
  };
}

function environment(workflowId: string, activityType = 'generateCheckedFeedback') {
  const meter = recordingMeter();
  const logger = recordingLogger();
  const env = new MockActivityEnvironment(
    {
      activityType,
      workflowExecution: { workflowId, runId: 'run-1' },
      startToCloseTimeoutMs: 5000,
    },
    { interceptors: [activityInterceptors], metricMeter: meter, logger },
  );
  return { env, meter, logger };
}

const ofMetric = (recorded: Recorded[], metric: string) => recorded.filter((r) => r.metric === metric);

describe('activityOutcome', () => {
  it('names success, cancellation, the failure type, or "error" for anything else', () => {
    expect(activityOutcome()).toBe('success');
    expect(activityOutcome(new CancelledFailure('cancelled'))).toBe('cancelled');
    expect(activityOutcome(ApplicationFailure.retryable('vLLM down', 'VllmUnavailable'))).toBe(
      'VllmUnavailable',
    );
    expect(activityOutcome(ApplicationFailure.create({ message: 'no type' }))).toBe('error');
    expect(activityOutcome(new Error('boom'))).toBe('error');
    expect(activityOutcome('a string')).toBe('error');
  });
});

describe('activityInterceptors', () => {
  it('counts a successful activity and records its duration, tagged with the outcome and the activity type', async () => {
    const { env, meter } = environment('feedback-r-1');
    const result = await env.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return 'done';
    });
    expect(result).toBe('done');
    const outcomes = ofMetric(meter.recorded, 'feedback_activity_outcomes');
    expect(outcomes).toEqual([
      {
        metric: 'feedback_activity_outcomes',
        value: 1,
        tags: expect.objectContaining({ outcome: 'success', activityType: 'generateCheckedFeedback' }),
      },
    ]);
    const durations = ofMetric(meter.recorded, 'feedback_activity_duration');
    expect(durations).toHaveLength(1);
    expect(durations[0].tags).toMatchObject({ outcome: 'success' });
    expect(Number.isInteger(durations[0].value)).toBe(true);
    expect(durations[0].value).toBeGreaterThanOrEqual(25);
    expect(meter.created).toEqual(
      expect.arrayContaining(['counter feedback_activity_outcomes', 'histogram feedback_activity_duration']),
    );
  });

  it('records a failure under its type and throws it on unchanged', async () => {
    const { env, meter } = environment('feedback-r-2', 'deliverResult');
    const failure = ApplicationFailure.create({ message: 'callback answered 400', type: 'DeliveryRejected' });
    await expect(
      env.run(async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(ofMetric(meter.recorded, 'feedback_activity_outcomes').map((r) => r.tags)).toEqual([
      expect.objectContaining({ outcome: 'DeliveryRejected', activityType: 'deliverResult' }),
    ]);
    expect(ofMetric(meter.recorded, 'feedback_activity_duration').map((r) => r.tags.outcome)).toEqual([
      'DeliveryRejected',
    ]);
  });

  it('records each execution once', async () => {
    const { env, meter } = environment('feedback-r-3');
    await env.run(async () => 1);
    await env.run(async () => 2);
    expect(ofMetric(meter.recorded, 'feedback_activity_outcomes')).toHaveLength(2);
    expect(ofMetric(meter.recorded, 'feedback_activity_duration')).toHaveLength(2);
  });

  it("puts the run's requestId on the activity's log lines", async () => {
    const { env, logger } = environment('feedback-2025-w24-member-7');
    await env.run(async () => Context.current().log.info('calling vLLM'));
    const line = logger.lines.find((l) => l.message === 'calling vLLM');
    expect(line?.meta).toMatchObject({
      requestId: '2025-w24-member-7',
      workflowId: 'feedback-2025-w24-member-7',
    });
  });

  it('adds no requestId for an activity of another workflow (e.g. a redelivery)', async () => {
    const { env, logger } = environment('redeliver-r-1-1718500000000');
    await env.run(async () => Context.current().log.info('delivering'));
    const line = logger.lines.find((l) => l.message === 'delivering');
    expect(line?.meta).toMatchObject({ workflowId: 'redeliver-r-1-1718500000000' });
    expect(line?.meta).not.toHaveProperty('requestId');
  });
});
