/**
 * The alerting rules (deploy/monitoring/alerts.yml): promtool accepts them and their unit tests
 * (alerts.test.yml) pass; every rule carries what an operator needs (for, severity, summary,
 * description, a runbook section in docs/monitoring.md) and has a case where it fires and one where it
 * must not; the Helm chart's PrometheusRule is generated from the same file and renders to exactly
 * its rules. promtool comes from scripts/ensure-promtool.sh (.tools/bin/promtool).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { parse } from 'yaml';
import {
  generatedTemplate,
  prometheusRuleTemplate,
  SELECTOR_VALUES,
  TEMPLATE_PATH,
} from '../../deploy/monitoring/prometheusrule';
import {
  alertRules,
  externalMetrics,
  MONITORING,
  promtool,
  queriedMetrics,
  REPO,
  ruleGroups,
} from '../support/monitoring';
import { render } from './helm';

const ALERTS = join(MONITORING, 'alerts.yml');
const UNIT_TESTS = join(MONITORING, 'alerts.test.yml');

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('promtool', () => {
  it('checks the rules file', () => {
    const { status, output } = run(promtool(), ['check', 'rules', ALERTS]);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('passes the rules’ unit tests', () => {
    const { status, output } = run(promtool(), ['test', 'rules', UNIT_TESTS]);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });
});

describe('alerts.yml', () => {
  const rules = alertRules();
  const monitoringDoc = readFileSync(join(REPO, 'docs', 'monitoring.md'), 'utf8');
  /** GitHub's anchors of the doc's headings. */
  const anchors = [...monitoringDoc.matchAll(/^#+ (.+)$/gm)].map((m) =>
    m[1]
      .trim()
      .toLowerCase()
      .replace(/[^\w\- ]/g, '')
      .replace(/ /g, '-'),
  );

  it.each(rules.map((r) => [r.alert, r] as const))(
    '%s waits, has a severity, a summary, a description and a runbook section',
    (_name, rule) => {
      expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary?.length).toBeGreaterThan(10);
      expect(rule.annotations?.description?.length).toBeGreaterThan(40);
      const runbook = rule.annotations?.runbook ?? '';
      expect(runbook).toBe(`docs/monitoring.md#${rule.alert.toLowerCase()}`);
      expect(anchors).toContain(runbook.split('#')[1]);
    },
  );

  it('has one unit test case where each alert fires and one where it stays quiet', () => {
    const tests = (
      parse(readFileSync(UNIT_TESTS, 'utf8')) as {
        tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
      }
    ).tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const { alert } of rules) {
      const cases = tests.filter((t) => t.alertname === alert);
      expect({ alert, fires: cases.some((c) => (c.exp_alerts ?? []).length > 0) }).toEqual({
        alert,
        fires: true,
      });
      expect({ alert, quiet: cases.some((c) => (c.exp_alerts ?? []).length === 0) }).toEqual({
        alert,
        quiet: true,
      });
    }
  });

  it('alerts on the result DLQ only by what the BE received from it (its depth stays near 0: the BE deletes)', () => {
    const onResultDlq = rules.filter((rule) => /result-dlq/i.test(rule.expr));
    expect(onResultDlq.map((rule) => rule.alert)).toEqual(['FeedbackResultsDeadLettered']);
    expect(onResultDlq[0]?.expr).toContain('aws_sqs_number_of_messages_received_sum');
  });

  it('lists only metrics of other exporters that a rule or the dashboard uses, and documents each', () => {
    const used = queriedMetrics();
    for (const [exporter, names] of Object.entries(externalMetrics())) {
      for (const name of names) {
        expect({ exporter, name, used: used.has(name) }).toEqual({ exporter, name, used: true });
        expect({ exporter, name, documented: monitoringDoc.includes(name) }).toEqual({
          exporter,
          name,
          documented: true,
        });
      }
    }
  });

  it('documents every metric a rule or the dashboard queries in docs/monitoring.md', () => {
    const undocumented = [...queriedMetrics().keys()]
      .map((name) => name.replace(/_bucket$/, ''))
      .filter((name) => !monitoringDoc.includes(name));
    expect(undocumented).toEqual([]);
  });
});

describe('the Helm chart’s PrometheusRule', () => {
  it('is the generation from alerts.yml (run `npx tsx deploy/monitoring/prometheusrule.ts`)', () => {
    expect(existsSync(TEMPLATE_PATH)).toBe(true);
    expect(readFileSync(TEMPLATE_PATH, 'utf8')).toBe(generatedTemplate());
  });

  it('refuses an alerts.yml whose selectors the chart can no longer set', () => {
    const text = readFileSync(ALERTS, 'utf8')
      .split(JSON.stringify(SELECTOR_VALUES.requestQueueName))
      .join('"x"');
    expect(() => prometheusRuleTemplate(text)).toThrow('alerts.requestQueueName');
  });

  describe('rendered by helm, in the chart', () => {
    /** `key=value` assignments; `true`/`false` as booleans (a string "false" is true to a template). */
    const rules = (...set: string[]) =>
      render({
        set: Object.fromEntries(
          set.map((kv) => {
            const [key, value] = [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)];
            return [key, value === 'true' || value === 'false' ? value === 'true' : value];
          }),
        ),
      }).filter((o) => o.kind === 'PrometheusRule');
    const renderRules = (...set: string[]) =>
      rules(...set).map((o) => o as unknown as Record<string, unknown>);

    it('renders nothing unless alerts.enabled', () => {
      expect(renderRules()).toEqual([]);
      expect(renderRules('alerts.enabled=false')).toEqual([]);
    });

    it('renders a valid PrometheusRule holding exactly the rules of alerts.yml', () => {
      // alerts.yml's deployment regex set explicitly: the chart's default names its own Deployments (below).
      const [rule, ...others] = renderRules(
        'alerts.enabled=true',
        'alerts.labels.release=kube-prometheus-stack',
        `alerts.deploymentRegex=${SELECTOR_VALUES.deploymentRegex}`,
      );
      expect(others).toEqual([]);
      expect(() =>
        new PrometheusRule(rule as ConstructorParameters<typeof PrometheusRule>[0]).validate(),
      ).not.toThrow();
      expect(rule).toMatchObject({
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: {
          name: 'leafresh-feedback-alerts',
          namespace: 'leafresh-ai',
          labels: {
            release: 'kube-prometheus-stack',
            'app.kubernetes.io/component': 'alerts',
            'app.kubernetes.io/instance': 'leafresh-feedback',
          },
        },
      });
      expect((rule.spec as { groups: unknown }).groups).toEqual(ruleGroups());
    });

    it('takes the deployments and the queues from values', () => {
      const [rule] = renderRules(
        'alerts.enabled=true',
        'alerts.deploymentRegex=feedback-(api|worker)',
        'alerts.requestQueueName=prod-requests.fifo',
        'alerts.requestDlqName=prod-requests-dlq.fifo',
      );
      const exprs = (rule.spec as { groups: Array<{ rules: Array<{ expr: string }> }> }).groups
        .flatMap((g) => g.rules)
        .map((r) => r.expr)
        .join('\n');
      expect(exprs).toContain('deployment=~"feedback-(api|worker)"');
      expect(exprs).toContain('dimension_QueueName="prod-requests.fifo"');
      expect(exprs).toContain('dimension_QueueName="prod-requests-dlq.fifo"');
      expect(exprs).not.toContain(SELECTOR_VALUES.deploymentRegex);
    });

    it("watches the chart's own Deployments by default", () => {
      const [rule] = renderRules('alerts.enabled=true');
      const deployments = render()
        .filter((o) => o.kind === 'Deployment')
        .map((o) => o.metadata.name);
      const exprs = (rule.spec as { groups: Array<{ rules: Array<{ expr: string }> }> }).groups
        .flatMap((g) => g.rules)
        .map((r) => r.expr)
        .filter((e) => e.includes('deployment=~'));
      expect(exprs.length).toBeGreaterThan(0);
      for (const expr of exprs) {
        const regex = new RegExp(`^(?:${/deployment=~"([^"]+)"/.exec(expr)?.[1]})$`);
        expect(deployments.filter((d) => !regex.test(d))).toEqual([]);
      }
    });
  });
});
