/**
 * `node --import tsx bench/render.ts bench/results/<name>.json`: rewrites a throughput run's Markdown and
 * SVG from its JSON, ratios and the ratio table computed again (e.g. after a change to the report's layout).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { computeRatios } from './throughput/figures';
import { computeGoals } from './throughput/goals';
import { renderMarkdown } from './throughput/markdown';
import { renderSvg } from './throughput/svg';
import type { BenchReport } from './throughput/types';

function main(): void {
  const file = process.argv[2];
  if (!file?.endsWith('.json')) throw new Error('usage: bench/render.ts bench/results/<name>.json');
  const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
  report.ratios = computeRatios(report);
  report.goals = computeGoals(report);
  const svg = file.replace(/\.json$/, '.svg');
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(svg, renderSvg(report));
  writeFileSync(file.replace(/\.json$/, '.md'), renderMarkdown(report, basename(svg)));
  process.stdout.write(`rendered ${file.replace(/\.json$/, '.{md,svg}')}\n`);
}

main();
