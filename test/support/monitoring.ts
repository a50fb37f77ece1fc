/**
 * The monitoring artifacts of deploy/monitoring as data, for their tests: the alerting rules, the
 * dashboard's queries, the metrics named in their PromQL, and the list of metrics from other exporters.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const REPO = join(__dirname, '..', '..');
export const MONITORING = join(REPO, 'deploy', 'monitoring');

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  rules: AlertRule[];
}

export function ruleGroups(path = join(MONITORING, 'alerts.yml')): RuleGroup[] {
  return (parse(readFileSync(path, 'utf8')) as { groups: RuleGroup[] }).groups;
}

export const alertRules = (): AlertRule[] => ruleGroups().flatMap((g) => g.rules);

interface Panel {
  title?: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

/** Every PromQL expression of dashboard.json's panels (rows' panels included), with its panel's title. */
export function dashboardQueries(): Array<{ panel: string; expr: string }> {
  const board = JSON.parse(readFileSync(join(MONITORING, 'dashboard.json'), 'utf8')) as { panels: Panel[] };
  const flat = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...flat(p.panels ?? [])]);
  return flat(board.panels).flatMap((p) =>
    (p.targets ?? []).flatMap((t) => (t.expr ? [{ panel: p.title ?? '', expr: t.expr }] : [])),
  );
}

/** Names that are PromQL syntax, not metrics, when they stand alone. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'offset', 'bool', 'by', 'without', 'on', 'ignoring']);
const KEYWORDS_WITH_LIST = new Set([...KEYWORDS, 'group_left', 'group_right', 'inf', 'nan']);

/**
 * The metric names an expression selects. Strings, label matchers, ranges, numbers and durations,
 * and the label lists of by/without/on/ignoring/group_left/group_right are dropped first; of the names
 * left, a function or aggregation is followed by "(", the rest are metrics.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/(?<![\w:])\d[\w.]*/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const rest = stripped.slice((match.index ?? 0) + match[0].length);
    if (/^\s*\(/.test(rest) || KEYWORDS_WITH_LIST.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names].sort();
}

/** Metrics of other exporters (external-metrics.yml), by exporter. */
export function externalMetrics(): Record<string, string[]> {
  return parse(readFileSync(join(MONITORING, 'external-metrics.yml'), 'utf8')) as Record<string, string[]>;
}

/** Every metric the rules and the dashboard query, sorted, with where each is used. */
export function queriedMetrics(): Map<string, string[]> {
  const uses = new Map<string, string[]>();
  const add = (where: string, expr: string) => {
    for (const name of metricNames(expr)) uses.set(name, [...(uses.get(name) ?? []), where]);
  };
  for (const rule of alertRules()) add(`alert ${rule.alert}`, rule.expr);
  for (const { panel, expr } of dashboardQueries()) add(`panel "${panel}"`, expr);
  return new Map([...uses].sort(([a], [b]) => a.localeCompare(b)));
}

export const PROMTOOL = join(REPO, '.tools', 'bin', 'promtool');

/** .tools/bin/promtool, or an error that says how to install it. */
export function promtool(): string {
  if (!existsSync(PROMTOOL)) {
    throw new Error(
      `${PROMTOOL} is missing: install it with "bash scripts/ensure-promtool.sh" (Debian's prometheus package, promtool only)`,
    );
  }
  return PROMTOOL;
}
