/**
 * The Grafana dashboard (deploy/monitoring/dashboard.ts → dashboard.json): the checked-in JSON is a fresh
 * generation, every panel queries the dashboard's Prometheus data source variable, panels have unique
 * ids and fit the 24-column grid, and the panels the operators asked for are there.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { buildDashboard, DASHBOARD_PATH } from '../../deploy/monitoring/dashboard';
import { dashboardQueries, metricNames, REPO } from '../support/monitoring';

interface Panel {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Array<{ expr?: string; datasource?: { uid?: string } }>;
}

const board = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string }> };
};

it('dashboard.json is the generation of dashboard.ts (run `npx tsx deploy/monitoring/dashboard.ts`)', () => {
  // In a process of its own: Prettier, which formats the file, loads its plugins with import(), which
  // jest's module system does not run.
  const generated = spawnSync(
    process.execPath,
    ['--import', 'tsx', DASHBOARD_PATH.replace(/\.json$/, '.ts'), '--stdout'],
    {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  expect(generated.status).toBe(0);
  expect(readFileSync(DASHBOARD_PATH, 'utf8')).toBe(generated.stdout);
});

it('is the same dashboard every time it is built', () => {
  expect(JSON.stringify(buildDashboard())).toBe(JSON.stringify(buildDashboard()));
});

it('queries the Prometheus data source chosen in its variable from every panel', () => {
  expect(board.templating.list).toEqual([
    expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
  ]);
  for (const panel of board.panels.filter((p) => p.type !== 'row')) {
    expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({
      panel: panel.title,
      uid: '${datasource}',
    });
    expect(panel.description?.length).toBeGreaterThan(10);
    expect(panel.targets?.length).toBeGreaterThan(0);
    for (const target of panel.targets ?? []) expect(target.datasource?.uid).toBe('${datasource}');
  }
});

it('gives every panel its own id and a place on the 24-column grid', () => {
  const ids = board.panels.map((p) => p.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const { title, gridPos } of board.panels) {
    expect({ title, fits: gridPos !== undefined && gridPos.x >= 0 && gridPos.x + gridPos.w <= 24 }).toEqual({
      title,
      fits: true,
    });
  }
});

it('shows what the operators asked for', () => {
  const metricsByPanel = new Map<string, string[]>();
  for (const { panel, expr } of dashboardQueries())
    metricsByPanel.set(panel, [...(metricsByPanel.get(panel) ?? []), ...metricNames(expr)]);
  const shows = (metric: string) => [...metricsByPanel.values()].some((names) => names.includes(metric));
  for (const metric of [
    'feedback_api_requests_total', // requests accepted and rejected
    'feedback_bridge_receive_lag_seconds_bucket', // bridge lag
    'feedback_bridge_admission_waiting', // admissions
    'feedback_bridge_admission_wait_seconds_bucket',
    'feedback_bridge_workflows_started_total',
    'feedback_llm_concurrency_limit', // vLLM limit, in flight and waiting
    'feedback_llm_in_flight',
    'feedback_llm_vllm_waiting',
    'feedback_llm_tokens_total', // tokens per day
    'feedback_activity_outcomes_total', // generations and deliveries by outcome
    'feedback_callback_responses_total',
    'feedback_failures_total', // failures by reason
  ])
    expect({ metric, shown: shows(metric) }).toEqual({ metric, shown: true });
  const tokens = board.panels.find((p) => p.title === 'Tokens per day');
  expect(tokens?.targets?.[0]?.expr).toContain('[1d]');
});
