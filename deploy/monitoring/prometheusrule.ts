/**
 * Generates the Helm chart's PrometheusRule (deploy/helm/leafresh-feedback/templates/prometheusrule.yaml)
 * from deploy/monitoring/alerts.yml, the one source of the rules: `npx tsx deploy/monitoring/prometheusrule.ts`.
 * test/deploy/alerts.test.ts fails when the checked-in template differs from a fresh generation, and
 * checks that the template rendered with the chart's defaults holds exactly the rules of alerts.yml.
 *
 * The rules' text is copied (comments included), with Prometheus' own `{{ … }}` templates escaped from
 * Helm, and three selectors that depend on the installation taken from values (defaults: alerts.yml's).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const ALERTS_PATH = join(__dirname, 'alerts.yml');
export const TEMPLATE_PATH = join(
  __dirname,
  '..',
  'helm',
  'leafresh-feedback',
  'templates',
  'prometheusrule.yaml',
);

/**
 * Values under `alerts.` that replace a quoted string of alerts.yml's expressions; the string is also
 * the default, so the chart's rules equal alerts.yml unless an installation sets the value.
 */
export const SELECTOR_VALUES = {
  deploymentRegex: '.*leafresh-feedback-(api|sqs-bridge|bridge|worker)',
  requestQueueName: 'leafresh-sqs-feedback.fifo',
  requestDlqName: 'leafresh-sqs-feedback-dlq.fifo',
} as const;

const HEADER = `{{- /*
Generated from deploy/monitoring/alerts.yml by \`npx tsx deploy/monitoring/prometheusrule.ts\`: edit
that file and generate again. The rules are documented in docs/monitoring.md.
*/}}
{{- $alerts := .Values.alerts | default dict }}
{{- if $alerts.enabled }}
{{- $fullname := include "leafresh-feedback.fullname" . }}
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: {{ $fullname | trunc 56 | trimSuffix "-" }}-alerts
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "leafresh-feedback.labels" . | nindent 4 }}
    app.kubernetes.io/component: alerts
    {{- with $alerts.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
`;

/** The chart template for the rules in `alertsText` (alerts.yml's content). */
export function prometheusRuleTemplate(alertsText: string): string {
  const start = alertsText.search(/^groups:/m);
  if (start < 0) throw new Error('alerts.yml has no top-level "groups:"');
  // One pass, so the escapes' own braces are not escaped again.
  let body = alertsText
    .slice(start)
    .replace(/\{\{|\}\}/g, (braces) => (braces === '{{' ? '{{ "{{" }}' : '{{ "}}" }}'));
  for (const [key, value] of Object.entries(SELECTOR_VALUES)) {
    const quoted = JSON.stringify(value);
    if (!body.includes(quoted)) throw new Error(`alerts.yml no longer contains ${quoted} (alerts.${key})`);
    // The chart's own Deployments are <fullname>-<process>: that is the default, not alerts.yml's regex.
    const fallback = key === 'deploymentRegex' ? '(printf "%s-(api|sqs-bridge|worker)" $fullname)' : quoted;
    body = body.split(quoted).join(`{{ $alerts.${key} | default ${fallback} | quote }}`);
  }
  const indented = body
    .trimEnd()
    .split('\n')
    .map((line) => (line === '' ? '' : `  ${line}`))
    .join('\n');
  return `${HEADER}${indented}\n{{- end }}\n`;
}

export function generatedTemplate(): string {
  return prometheusRuleTemplate(readFileSync(ALERTS_PATH, 'utf8'));
}

if (require.main === module) {
  mkdirSync(dirname(TEMPLATE_PATH), { recursive: true });
  writeFileSync(TEMPLATE_PATH, generatedTemplate());
  process.stderr.write(`wrote ${TEMPLATE_PATH}\n`);
}
