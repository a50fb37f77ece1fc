/**
 * The bridge's admission and holding metrics (deploy/monitoring reads them):
 * feedback_bridge_admission_waiting / _admission_wait_seconds around a bulk request's admission, and
 * feedback_bridge_holding_runs, a Temporal visibility count read when the metrics are scraped.
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import { QueueAdmission } from '../../src/sqs-bridge/admission';
import { HOLDING_RUNS_QUERY } from '../../src/sqs-bridge/bridge';
import { createBridgeMetrics, createMetricsRegistry, scrapedGauge, Registry } from '../../src/shared/metrics';
import { fakeTemporal, testBridge, validBody } from '../support/sqs-bridge';
import { eventually } from '../support/eventually';

const QUEUES = { requestQueueUrl: 'q', dlqUrl: 'dlq', resultQueueUrl: 'r', resultDlqUrl: 'rdlq' };

/** The value of an unlabelled sample (`name 3`, or `name{service="…"} 3`) in the registry's text. */
async function sample(registry: Registry, name: string): Promise<number | undefined> {
  const text = await registry.metrics();
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

const message = (id: string, body = validBody(42)): Message => ({
  MessageId: id,
  Body: body,
  ReceiptHandle: id,
  Attributes: { SentTimestamp: String(Date.now()) },
});

describe('admission metrics', () => {
  it('counts a bulk request while it waits for admission and times the wait once admitted', async () => {
    const registry = createMetricsRegistry('sqs-bridge');
    const metrics = createBridgeMetrics(registry);
    let open = 1;
    const admission = new QueueAdmission({ maxOpen: 1, countOpen: async () => open, refreshMs: 10 });
    const { client } = fakeTemporal(async () => undefined);
    const bridge = testBridge({} as SQSClient, QUEUES, client, { admission, metrics });

    const handled = bridge.handleMessage(message('m-1'));
    await eventually(
      () => sample(registry, 'feedback_bridge_admission_waiting'),
      (v) => v === 1,
      5_000,
      5,
    );
    expect(await sample(registry, 'feedback_bridge_admission_wait_seconds_count')).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    open = 0;
    await expect(handled).resolves.toBe('started');
    expect(await sample(registry, 'feedback_bridge_admission_waiting')).toBe(0);
    expect(await sample(registry, 'feedback_bridge_admission_wait_seconds_count')).toBe(1);
    expect(await sample(registry, 'feedback_bridge_admission_wait_seconds_sum')).toBeGreaterThanOrEqual(0.04);
  });

  it('does not time an API request, which is never held for admission', async () => {
    const registry = createMetricsRegistry('sqs-bridge');
    const metrics = createBridgeMetrics(registry);
    const admission = new QueueAdmission({ maxOpen: 1, countOpen: async () => 1 });
    const bridge = testBridge({} as SQSClient, QUEUES, fakeTemporal(async () => undefined).client, {
      admission,
      metrics,
    });
    const body = JSON.stringify({
      ...JSON.parse(validBody(42)),
      requestId: '3c0bd951-dc7a-4bab-99a5-be1a6de82b6a',
      timestamp: '2025-06-16T09:00:00+09:00',
    });
    await expect(bridge.handleMessage(message('m-2', body))).resolves.toBe('started');
    expect(await sample(registry, 'feedback_bridge_admission_wait_seconds_count')).toBe(0);
  });
});

describe('feedback_bridge_holding_runs', () => {
  function temporalCounting(count: () => Promise<number>) {
    const queries: string[] = [];
    const client = {
      workflow: {
        count: async (query: string) => {
          queries.push(query);
          return { count: await count() };
        },
      },
    } as unknown as Client;
    return { client, queries };
  }

  it('is the visibility count of running FeedbackWorkflow runs in stage holding', async () => {
    const registry = createMetricsRegistry('sqs-bridge');
    const { client, queries } = temporalCounting(async () => 4);
    testBridge({} as SQSClient, QUEUES, client, { metrics: createBridgeMetrics(registry) });
    expect(await sample(registry, 'feedback_bridge_holding_runs')).toBe(4);
    expect(queries).toEqual([HOLDING_RUNS_QUERY]);
    expect(HOLDING_RUNS_QUERY).toBe(
      "WorkflowType = 'FeedbackWorkflow' AND ExecutionStatus = 'Running' AND FeedbackStage = 'holding'",
    );
  });

  it('is not read where runs carry no search attributes', async () => {
    const registry = createMetricsRegistry('sqs-bridge');
    const { client, queries } = temporalCounting(async () => 4);
    testBridge({} as SQSClient, QUEUES, client, {
      metrics: createBridgeMetrics(registry),
      searchAttributes: false,
    });
    expect(await sample(registry, 'feedback_bridge_holding_runs')).toBe(0);
    expect(queries).toEqual([]);
  });
});

describe('scrapedGauge', () => {
  it('reads once per maxAgeMs however often it is scraped, and keeps the last value when a read fails', async () => {
    const registry = new Registry();
    const holding = scrapedGauge(registry, { name: 'g', help: 'h', maxAgeMs: 30 });
    const answers: Array<number | Error> = [3, new Error('Temporal away'), 5];
    const read = jest.fn(async () => {
      const answer = answers.shift() as number | Error;
      if (answer instanceof Error) throw answer;
      return answer;
    });
    holding.readFrom(read);
    expect(await sample(registry, 'g')).toBe(3);
    expect(await sample(registry, 'g')).toBe(3);
    expect(read).toHaveBeenCalledTimes(1);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await sample(registry, 'g')).toBe(3); // the failed read keeps 3
    expect(await sample(registry, 'g')).toBe(5); // and the next scrape reads again
    expect(read).toHaveBeenCalledTimes(3);
  });

  it('answers the scrape within timeoutMs when the source hangs', async () => {
    const registry = new Registry();
    const holding = scrapedGauge(registry, { name: 'g', help: 'h', timeoutMs: 50 });
    holding.readFrom(() => new Promise<number>(() => undefined));
    const started = Date.now();
    expect(await sample(registry, 'g')).toBe(0);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
