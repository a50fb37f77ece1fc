import { spawn } from 'node:child_process';
import { readProcUsage, readTreeCpuSeconds } from '../../bench/proc';
import { enginesSection, type EngineResult } from '../../bench/engines';
import { computeRatios } from '../../bench/throughput/figures';
import { SCENARIOS } from '../../bench/throughput/scenarios';
import type { BenchReport } from '../../bench/throughput/types';
import { benchRun as run } from './reports';
import { temporalEngine } from '../../harness/cluster';

function result(
  name: string,
  temporal: 'dev' | 'cluster',
  rawPerSec: number,
  oursPerSec: number,
): EngineResult {
  const report: BenchReport = {
    command: 'npm run bench -- --quick',
    date: '2026-12-07T12:00:00.000Z',
    quick: true,
    options: { temporal },
    machine: { cpus: 2, loadAverageAtStart: [0, 0, 0], node: 'v20' },
    settings: {},
    scenarios: SCENARIOS.filter((s) => s.id === 'instant-group'),
    runs: [
      run({
        scenario: 'raw-ceiling',
        system: 'raw',
        mode: 'start',
        requested: 100,
        delivered: 100,
        deliveredPerSec: rawPerSec,
      }),
      run({
        scenario: 'instant-group',
        system: 'ours',
        requested: 100,
        delivered: 100,
        deliveredPerSec: oursPerSec,
        sharedCpuSecondsDuringRun: { temporal: 2, ...(temporal === 'cluster' ? { postgres: 1 } : {}) },
      }),
    ],
    ratios: [],
  };
  report.ratios = computeRatios(report);
  // bench/summary.ts's kind: the name after its date, after `throughput`.
  return { name, kind: `throughput${name.slice(10)}`, report };
}

describe('the engines side by side (bench/results/SUMMARY.md)', () => {
  it('pairs a cluster run with the dev-server run of the same kind, with PostgreSQL in the CPU rows', () => {
    const section = enginesSection([
      result('2026-12-07-quick', 'dev', 16, 12),
      result('2026-12-07-quick-cluster', 'cluster', 10, 8),
    ]).join('\n');
    expect(section).toContain('## Engines side by side: throughput-quick and throughput-quick-cluster');
    expect(section).toMatch(/raw ceiling, starts\/s\s*\|\s*16\.0\s*\|\s*10\.0/);
    expect(section).toMatch(
      /instant-group: ours\/s \(× raw ceiling\)\s*\|\s*12\.0 \(0\.75×\)\s*\|\s*8\.0 \(0\.80×\)/,
    );
    // 1 s of PostgreSQL over 100 requests: 10 ms each; none on the dev server.
    expect(section).toMatch(/ours CPU ms\/request, postgres\s*\|\s*–\s*\|\s*10\.0/);
  });

  it('shows nothing for a cluster run without its dev-server counterpart', () => {
    expect(enginesSection([result('2026-12-07-quick-cluster', 'cluster', 10, 8)])).toEqual([]);
  });
});

describe('--temporal', () => {
  it('is the dev server by default, the cluster engine when asked, and refuses anything else', () => {
    expect(temporalEngine([])).toBe('dev');
    expect(temporalEngine(['--quick', '--temporal', 'cluster'])).toBe('cluster');
    expect(() => temporalEngine(['--temporal', 'postgres'])).toThrow('--temporal must be dev or cluster');
  });
});

describe('the engines side by side: what it leaves out', () => {
  it('leaves out a pair in which neither run has a raw ceiling (a subset of held runs)', () => {
    const withoutCeiling = (r: EngineResult): EngineResult => ({
      ...r,
      report: { ...r.report, runs: r.report.runs.filter((x) => x.scenario !== 'raw-ceiling') },
    });
    const pair = [
      result('2026-12-08-subset', 'dev', 16, 12),
      result('2026-12-08-subset-cluster', 'cluster', 10, 8),
    ];
    expect(enginesSection(pair.map(withoutCeiling))).toEqual([]);
    expect(enginesSection(pair).join('\n')).toContain('## Engines side by side');
  });
});

describe('CPU of a process tree (PostgreSQL forks a backend per connection)', () => {
  it('counts the CPU of the children, which the parent alone does not show', async () => {
    // A shell whose child spins for about 300 ms of CPU, and which stays alive until killed.
    const parent = spawn(
      'sh',
      ['-c', 'node -e "const t = Date.now(); while (Date.now() - t < 300);" & sleep 30'],
      {
        detached: true,
      },
    );
    try {
      const pid = parent.pid as number;
      let tree = 0;
      for (let i = 0; i < 50 && tree < 0.2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        tree = readTreeCpuSeconds(pid) ?? 0;
      }
      expect(tree).toBeGreaterThanOrEqual(0.2);
      expect(readProcUsage(pid)?.cpuSeconds ?? 0).toBeLessThan(0.1);
    } finally {
      process.kill(-(parent.pid as number), 'SIGKILL'); // the shell and its sleep
    }
  });

  it('is undefined for a process that is gone', () => {
    expect(readTreeCpuSeconds(2 ** 22 + 1)).toBeUndefined();
  });
});
