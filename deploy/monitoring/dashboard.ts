/**
 * The Grafana dashboard of the Leafresh feedback orchestrator, built with the Grafana Foundation SDK
 * over the metrics the three processes export (docs/monitoring.md lists them). Run
 * `npx tsx deploy/monitoring/dashboard.ts` to write deploy/monitoring/dashboard.json, which is checked
 * in; test/deploy/dashboard.test.ts fails when it differs from a fresh generation.
 */
// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- the declarations are no module to import, and tsconfig.json (tests import this file) does not include deploy/
/// <reference path="./grafana-foundation-sdk.d.ts" />
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

export const DASHBOARD_PATH = join(__dirname, 'dashboard.json');

/** Every panel queries the Prometheus data source picked in the dashboard's `datasource` variable. */
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

interface Query {
  expr: string;
  legend: string;
}

const query = ({ expr, legend }: Query) =>
  new prometheus.DataqueryBuilder().datasource(DATASOURCE).expr(expr).legendFormat(legend);

/** A time series panel of `queries`, `width` of 24 columns wide. */
function series(title: string, description: string, unit: string, queries: Query[], width = 8) {
  const panel = new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .min(0)
    .height(8)
    .span(width)
    .fillOpacity(10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    );
  for (const q of queries) panel.withTarget(query(q));
  return panel;
}

/** A single number over the dashboard's time range (or now, for gauges). */
function single(title: string, description: string, unit: string, q: Query) {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .height(4)
    .span(6)
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.None)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .withTarget(query(q));
}

// Rates over Grafana's $__rate_interval (at least four scrapes), so panels work at any zoom.
const rate = (selector: string) => `rate(${selector}[$__rate_interval])`;
const quantile = (q: number, buckets: string, by = '') =>
  `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (${rate(buckets)}))`;

const FEEDBACK_POST = 'feedback_api_requests_total{route="/ai/feedback", method="POST"}';
const GENERATE = 'activityType="generateCheckedFeedback"';
const DELIVER = 'activityType="deliverResult"';

function overview() {
  return [
    single('Requests accepted', 'POST /ai/feedback answered 202 in the time range (API).', 'short', {
      expr: `sum(increase(${FEEDBACK_POST.replace('}', ', status="202"}')}[$__range]))`,
      legend: 'accepted',
    }),
    single('Runs started', 'FeedbackWorkflow runs the bridges started in the time range.', 'short', {
      expr: 'sum(increase(feedback_bridge_workflows_started_total[$__range]))',
      legend: 'started',
    }),
    single(
      'Failed for good',
      'Runs that failed for good in the time range (feedback_failures_total, all reasons).',
      'short',
      { expr: 'sum(increase(feedback_failures_total[$__range]))', legend: 'failed' },
    ),
    single(
      'Holding a failure',
      'Runs holding a failure result now (Temporal visibility count, FeedbackStage = holding).',
      'short',
      { expr: 'max(feedback_bridge_holding_runs)', legend: 'holding' },
    ),
  ];
}

function requests() {
  return [
    series(
      'API: requests by status',
      'POST /ai/feedback by status: 202 accepted; 400/401/413/415 rejected; 503 the request queue is unreachable.',
      'reqps',
      [{ expr: `sum by (status) (${rate(FEEDBACK_POST)})`, legend: '{{status}}' }],
    ),
    series(
      'Bridge: messages by outcome',
      'What the SQS bridges did with the messages they received.',
      'ops',
      [
        { expr: `sum(${rate('feedback_bridge_messages_received_total')})`, legend: 'received' },
        { expr: `sum(${rate('feedback_bridge_workflows_started_total')})`, legend: 'started' },
        { expr: `sum(${rate('feedback_bridge_duplicates_total')})`, legend: 'duplicate' },
        { expr: `sum(${rate('feedback_bridge_dead_lettered_total')})`, legend: 'dead-lettered' },
        { expr: `sum(${rate('feedback_bridge_start_failures_total')})`, legend: 'start failed' },
        { expr: `sum(${rate('feedback_bridge_delete_failures_total')})`, legend: 'delete failed' },
      ],
    ),
    series(
      'Bridge: receive lag',
      'Time from SendMessage to a bridge receiving the message (FeedbackRequestsWaitingLong alerts at p95 > 5 min).',
      's',
      [
        { expr: quantile(0.5, 'feedback_bridge_receive_lag_seconds_bucket'), legend: 'p50' },
        { expr: quantile(0.95, 'feedback_bridge_receive_lag_seconds_bucket'), legend: 'p95' },
        { expr: quantile(0.99, 'feedback_bridge_receive_lag_seconds_bucket'), legend: 'p99' },
      ],
    ),
    series(
      'Bridge: bulk requests waiting for admission',
      'Bulk (queue) requests in hand waiting while BRIDGE_MAX_OPEN_QUEUE_RUNS bulk runs are open.',
      'short',
      [{ expr: 'sum(feedback_bridge_admission_waiting)', legend: 'waiting' }],
    ),
    series(
      'Bridge: admission wait',
      'How long bulk requests waited for admission before their run started.',
      's',
      [
        { expr: quantile(0.5, 'feedback_bridge_admission_wait_seconds_bucket'), legend: 'p50' },
        { expr: quantile(0.95, 'feedback_bridge_admission_wait_seconds_bucket'), legend: 'p95' },
      ],
    ),
    series(
      'Runs holding a failure',
      'Runs waiting out the failure hold before the BE gets "500" (FeedbackRunsHolding alerts above 50).',
      'short',
      [{ expr: 'max(feedback_bridge_holding_runs)', legend: 'holding' }],
    ),
  ];
}

function vllm() {
  return [
    series(
      'vLLM: limit and calls in flight',
      'The workers’ adaptive LLM concurrency limits and the vLLM calls they run, summed over workers.',
      'short',
      [
        { expr: 'sum(feedback_llm_concurrency_limit)', legend: 'limit' },
        { expr: 'sum(feedback_llm_in_flight)', legend: 'in flight' },
      ],
    ),
    series(
      'vLLM: waiting requests',
      'vLLM’s num_requests_waiting as the workers read it, and LLM_CONCURRENCY_TARGET_WAITING (FeedbackVllmSaturated).',
      'short',
      [
        { expr: 'max(feedback_llm_vllm_waiting)', legend: 'waiting' },
        { expr: 'max(feedback_llm_vllm_waiting_target)', legend: 'target' },
      ],
    ),
    series('vLLM: call latency', 'vLLM chat completions by HTTP status ("network": no answer).', 'ms', [
      {
        expr: quantile(0.95, 'feedback_vllm_request_duration_milliseconds_bucket', 'status'),
        legend: 'p95 {{status}}',
      },
    ]),
    series(
      'Activities waiting for a slot',
      'Schedule-to-start time of activities by task queue (Temporal SDK): on the LLM task queue, the time a vLLM call waits for the workers’ limit.',
      'ms',
      [
        {
          expr: quantile(
            0.95,
            'temporal_activity_schedule_to_start_latency_milliseconds_bucket',
            'task_queue',
          ),
          legend: 'p95 {{task_queue}}',
        },
      ],
    ),
    series(
      'Tokens per day',
      'Prompt and completion tokens vLLM reported, per day (UTC).',
      'short',
      [{ expr: 'sum by (kind) (increase(feedback_llm_tokens_total[1d]))', legend: '{{kind}}' }],
      16,
    )
      .interval('1d')
      .drawStyle(common.GraphDrawStyle.Bars)
      .fillOpacity(80),
  ];
}

function outcomes() {
  return [
    series(
      'Generations by outcome',
      'generateCheckedFeedback activities by outcome: success, VllmUnavailable (retried), VllmRejected, cancelled.',
      'ops',
      [
        {
          expr: `sum by (outcome) (${rate(`feedback_activity_outcomes_total{${GENERATE}}`)})`,
          legend: '{{outcome}}',
        },
      ],
    ),
    series(
      'Deliveries by outcome',
      'deliverResult activities by outcome: success, DeliveryUnavailable (retried), DeliveryRejected.',
      'ops',
      [
        {
          expr: `sum by (outcome) (${rate(`feedback_activity_outcomes_total{${DELIVER}}`)})`,
          legend: '{{outcome}}',
        },
      ],
    ),
    series(
      'Callback answers by status',
      'The BE’s answers to result callbacks: 2xx stored, 409 already stored, other 4xx rejected (FeedbackCallbacksRejected).',
      'ops',
      [{ expr: `sum by (status) (${rate('feedback_callback_responses_total')})`, legend: '{{status}}' }],
    ),
    series(
      'Failures by reason',
      'Runs that failed for good by reason (generation, expired, delivery) and what the BE got (outcome).',
      'short',
      [
        {
          expr: 'sum by (reason, outcome) (increase(feedback_failures_total[$__rate_interval]))',
          legend: '{{reason}} ({{outcome}})',
        },
      ],
      24,
    ),
  ];
}

export function buildDashboard(): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder('Leafresh feedback orchestrator')
    .uid('leafresh-feedback')
    .description('Requests, the SQS bridge, vLLM flow control and outcomes (docs/monitoring.md).')
    .tags(['leafresh', 'feedback', 'temporal'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh('1m')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .withVariable(
      new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'),
    );
  const rows: Array<[string, Array<{ id(id: number): { build(): dashboard.Panel } }>]> = [
    ['Overview', overview()],
    ['Requests and the SQS bridge', requests()],
    ['vLLM', vllm()],
    ['Generations, deliveries and failures', outcomes()],
  ];
  // Fixed ids: Grafana keys panel links and state by id, and the generated file must not change.
  let id = 0;
  for (const [title, panels] of rows) {
    builder.withRow(new dashboard.RowBuilder(title).id((id += 1)));
    for (const panel of panels) builder.withPanel(panel.id((id += 1)));
  }
  return builder.build();
}

/** The dashboard as dashboard.json holds it: JSON formatted by the repository's Prettier settings. */
export async function dashboardJson(): Promise<string> {
  // Loaded here: Prettier's module itself calls import(), which jest cannot run (the test imports this file).
  const { format, resolveConfig } = await import('prettier');
  const options = await resolveConfig(DASHBOARD_PATH);
  return format(JSON.stringify(buildDashboard()), { ...options, filepath: DASHBOARD_PATH });
}

// `--stdout` prints the file instead of writing it (the test compares it with the checked-in one).
if (require.main === module) {
  void dashboardJson().then((text) => {
    if (process.argv.includes('--stdout')) {
      process.stdout.write(text);
      return;
    }
    writeFileSync(DASHBOARD_PATH, text);
    process.stderr.write(`wrote ${DASHBOARD_PATH}\n`);
  });
}
