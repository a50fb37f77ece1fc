/** The engines side by side in bench/results/SUMMARY.md (bench/summary.ts), apart so that tests need no Prettier. */
import { burstScenarios, cpuPerRequest, findRun, rawCeiling } from './throughput/figures';
import { num, table } from './throughput/format';
import type { BenchReport } from './throughput/types';

/** A throughput result file: its name without `.json`, its kind (bench/summary.ts's kindOf), its report. */
export interface EngineResult {
  name: string;
  kind: string;
  report: BenchReport;
}

/**
 * The dev server and the cluster engine side by side, for each throughput kind that ran on both (the
 * newest run of each): the raw ceiling, ours and their ratio at L = 0, and CPU per request by process.
 */
export function enginesSection(throughput: EngineResult[]): string[] {
  const out: string[] = [];
  for (const cluster of throughput.filter((r) => r.kind.endsWith('-cluster'))) {
    const dev = throughput.find((r) => r.kind === cluster.kind.slice(0, -'-cluster'.length));
    if (!dev) continue;
    const pair = [dev, cluster];
    // Only what the section compares: a pair (e.g. a subset) without a raw ceiling in either is left out.
    if (pair.every((r) => rawCeiling(r.report) === undefined)) continue;
    const rows: string[][] = [['run', ...pair.map((r) => `[${r.name}](${r.name}.md)`)]];
    const raw = pair.map((r) => rawCeiling(r.report));
    rows.push(['raw ceiling, starts/s', ...raw.map((run) => num(run?.deliveredPerSec))]);
    for (const scenario of burstScenarios(dev.report).filter((s) => s.latencyMs === 0)) {
      const ratios = pair.map((r) => r.report.ratios.find((x) => x.scenario === scenario.id));
      rows.push([
        `${scenario.id}: ours/s (× raw ceiling)`,
        ...ratios.map(
          (x) => `${num(x?.oursPerSec)} (${x?.vsRaw === undefined ? '–' : `${x.vsRaw.toFixed(2)}×`})`,
        ),
      ]);
      const runs = pair.map((r) => findRun(r.report, scenario.id, 'ours'));
      for (const part of ['own', 'temporal', 'postgres', 'elasticmq', 'total'] as const)
        rows.push([
          `${scenario.id}: ours CPU ms/request, ${part === 'own' ? 'own processes' : part}`,
          ...runs.map((run) => (run ? num(cpuPerRequest(run)[part]) : '–')),
        ]);
    }
    out.push(
      `## Engines side by side: ${dev.kind} and ${cluster.kind}`,
      '',
      'The same suite on the Temporal dev server (SQLite) and on the cluster engine (Temporal server on ' +
        'PostgreSQL, 4 shards: `--temporal cluster`), on this machine, one after the other.',
      '',
      table(['', 'dev server', 'cluster engine'], rows),
      '',
    );
  }
  return out;
}
