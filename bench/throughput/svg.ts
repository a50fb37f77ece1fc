/**
 * The throughput suite's chart: delivered/s per scenario and system, grouped bars on a log scale (the
 * systems differ by orders of magnitude).
 */
import { burstScenarios, findRun, rawRunFor } from './figures';
import { rate } from './format';
import { SYSTEM_LABELS, type SystemId } from './scenarios';
import type { BenchReport, RunReport } from './types';

const COLORS: Record<SystemId, string> = {
  ours: '#2e7d32',
  seed: '#9e9e9e',
  plain: '#1565c0',
  raw: '#ef6c00',
};

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function renderSvg(report: BenchReport): string {
  const groups = burstScenarios(report).map((s) => ({
    label: `${s.id} (L=${s.latencyMs / 1000}s, C=${s.capacity})`,
    capacityRate: s.latencyMs > 0 ? s.capacity / (s.latencyMs / 1000) : undefined,
    bars: (['ours', 'seed', 'plain', 'raw'] as SystemId[])
      .map((system) => ({
        system,
        run: system === 'raw' ? rawRunFor(report, s) : findRun(report, s.id, system),
      }))
      .filter((b): b is { system: SystemId; run: RunReport } => b.run?.deliveredPerSec !== undefined),
  }));
  const values = groups.flatMap((g) => g.bars.map((b) => b.run.deliveredPerSec as number));
  const maxValue = Math.max(10, ...values, ...groups.map((g) => g.capacityRate ?? 0));
  const minDecade = Math.floor(Math.log10(Math.max(0.01, Math.min(1, ...values))));
  const maxDecade = Math.ceil(Math.log10(maxValue));

  const width = 960;
  const height = 460;
  const margin = { top: 50, right: 20, bottom: 90, left: 70 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const y = (v: number) =>
    margin.top +
    plotH -
    ((Math.log10(Math.max(v, 10 ** minDecade)) - minDecade) / (maxDecade - minDecade)) * plotH;
  const groupW = plotW / Math.max(1, groups.length);
  const barW = Math.min(40, (groupW - 30) / 4);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(
      `Delivered per second by system and scenario${report.quick ? ' (quick run)' : ''}, ${report.date.slice(0, 10)}`,
    )}</text>`,
  );
  for (let d = minDecade; d <= maxDecade; d++) {
    const yy = y(10 ** d);
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${yy}" y2="${yy}" stroke="#e0e0e0"/>`,
      `<text x="${margin.left - 8}" y="${yy + 4}" text-anchor="end">${10 ** d >= 1 ? 10 ** d : (10 ** d).toFixed(-d)}</text>`,
    );
  }
  parts.push(
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">delivered / s (log scale)</text>`,
  );
  groups.forEach((group, gi) => {
    const gx = margin.left + gi * groupW;
    const startX = gx + (groupW - group.bars.length * barW) / 2;
    group.bars.forEach((bar, bi) => {
      const value = bar.run.deliveredPerSec as number;
      const bx = startX + bi * barW;
      const by = y(value);
      parts.push(
        `<rect x="${bx + 2}" y="${by}" width="${barW - 4}" height="${margin.top + plotH - by}" fill="${COLORS[bar.system]}"/>`,
        `<text x="${bx + barW / 2}" y="${by - 4}" text-anchor="middle" font-size="10">${rate(value)}</text>`,
      );
    });
    if (group.capacityRate !== undefined) {
      const yy = y(group.capacityRate);
      parts.push(
        `<line x1="${gx + 8}" x2="${gx + groupW - 8}" y1="${yy}" y2="${yy}" stroke="#c62828" stroke-dasharray="5 3"/>`,
        `<text x="${gx + groupW - 8}" y="${yy - 4}" text-anchor="end" font-size="10" fill="#c62828">C/L = ${rate(group.capacityRate)}</text>`,
      );
    }
    parts.push(
      `<text x="${gx + groupW / 2}" y="${margin.top + plotH + 18}" text-anchor="middle">${escapeXml(group.label)}</text>`,
    );
  });
  parts.push(
    `<line x1="${margin.left}" x2="${width - margin.right}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#424242"/>`,
  );
  (['ours', 'seed', 'plain', 'raw'] as SystemId[]).forEach((system, i) => {
    const lx = margin.left + i * 210;
    const ly = height - 30;
    parts.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[system]}"/>`,
      `<text x="${lx + 18}" y="${ly}">${escapeXml(SYSTEM_LABELS[system])}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
