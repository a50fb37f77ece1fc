/** The flow suite's result: its types, its Markdown (tables shared with the summary), its files. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OverheadBreakdown } from '../breakdown';
import {
  FIXED_LIMIT_BURST,
  FIXED_LIMIT_CAPACITY,
  MAX_OPEN_QUEUE_RUNS,
  PENALTY,
  TARGET_WAITING,
} from './options';
import type { LimitMode } from './options';

const RESULTS = join(__dirname, '..', 'results');

export interface PhaseReport {
  capacity: number;
  /**
   * vLLM's throughput after the first L seconds of the phase by Little's law: mean requests generating
   * / mean generation time (which includes the over-commitment penalty). Robust to completions coming
   * in batches (a capacity change lines up the slots), unlike counting completions in a short window.
   */
  throughputPerSec: number;
  /** Completions counted in the same window (bursty: ± one batch). */
  completionsPerSec: number;
  meanRunning: number;
  meanGenerationMs: number;
  /** C / L: what the capacity allows. */
  allowedPerSec: number;
  ratio: number;
  waitingMax: number;
  waitingP95: number;
  /**
   * Seconds from the change until the outstanding requests at vLLM were within 1.25 × (C + target) (a
   * drop) or running ≥ 0.9 × C (a rise).
   */
  followSeconds?: number;
  limitRange?: [number, number];
}

export interface CapacityReport {
  mode: LimitMode;
  latencyMs: number;
  phases: PhaseReport[];
  sent: number;
  delivered: number;
  timeline: Array<[seconds: number, running: number, waiting: number, limit: number | null]>;
}

export interface BurstReport {
  mode: LimitMode;
  capacity: number;
  latencyMs: number;
  bulkSent: number;
  /** Bulk results delivered while the interactive trickle ran, per second. */
  bulkDeliveredPerSec: number;
  allowedPerSec: number;
  unloaded: { count: number; p50: number; p99: number };
  loaded: { count: number; delivered: number; p50: number; p99: number };
  /** loaded p99 / unloaded p99 (target ≤ 2). */
  p99Ratio: number;
  waitingMax: number;
  waitingP95: number;
  /** Where the interactive requests' time went under the burst (bench/breakdown.ts; ms). */
  interactiveBreakdown: OverheadBreakdown;
}

export interface FlowReport {
  date: string;
  command: string;
  durationSeconds?: number;
  settings: Record<string, unknown>;
  capacity: CapacityReport[];
  burst: BurstReport[];
}

/** Writes bench/results/<date>-flow[-quick].{json,md}, and prints the Markdown. */
export function writeFlowReport(report: FlowReport, quick: boolean): void {
  const base = join(RESULTS, `${report.date.slice(0, 10)}-flow${quick ? '-quick' : ''}`);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(`${base}.md`, renderFlowMarkdown(report));
  process.stdout.write(`\n${renderFlowMarkdown(report)}\nwrote ${base}.json and .md\n`);
}

export function renderFlowMarkdown(report: FlowReport): string {
  return [
    `# LLM flow control: ${report.date.slice(0, 10)}`,
    '',
    `Command: \`${report.command}\` (${report.durationSeconds ?? '?'} s). Simulated vLLM with over-commitment penalty ${PENALTY} (a request started while others wait takes up to ${1 + PENALTY} × L); controller target: ${TARGET_WAITING} waiting.`,
    '',
    ...capacitySection(report),
    ...burstSection(report),
  ].join('\n');
}

function capacitySection(report: FlowReport): string[] {
  if (report.capacity.length === 0) return [];
  return [
    '## (a) vLLM capacity 64 → 16 → 64, and (c) adaptive vs fixed limit',
    '',
    `L = ${report.capacity[0].latencyMs / 1000} s; one FIFO group of BE messages, more than the three phases can serve. Measured after the first L seconds of each phase: throughput by Little's law = mean generating / mean generation time (the penalty included), completions counted in the window next to it (they come in batches); "follow" = seconds from the change until the requests at vLLM are within 1.25 × (C + target) (drop; the generations already running finish first, up to L) or running ≥ 0.9 × C (rise).`,
    '',
    ...capacityTable(report),
    '',
  ];
}

/** Per limit and phase: throughput against C/L, the waiting queue, how fast the limit followed. */
export function capacityTable(report: FlowReport): string[] {
  const lines = [
    '| limit | phase | C | throughput/s | allowed C/L | ratio (≥ 0.9) | mean generating, generation time | completions/s | waiting p95 / max | follow | limit range |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const run of report.capacity) {
    run.phases.forEach((p, i) => {
      lines.push(
        `| ${run.mode === 'fixed' ? `fixed ${FIXED_LIMIT_CAPACITY}` : 'adaptive'} | ${i + 1} | ${p.capacity} | ${p.throughputPerSec} | ${p.allowedPerSec} | ${p.ratio}${p.ratio >= 0.9 ? ' ✓' : ' ✗'} | ${p.meanRunning}, ${(p.meanGenerationMs / 1000).toFixed(2)} s | ${p.completionsPerSec} | ${p.waitingP95} / ${p.waitingMax} | ${p.followSeconds === undefined ? '–' : `${p.followSeconds} s`} | ${p.limitRange ? p.limitRange.join('–') : '–'} |`,
      );
    });
  }
  return lines;
}

function burstSection(report: FlowReport): string[] {
  if (report.burst.length === 0) return [];
  const b = report.burst[0];
  return [
    '## (b) Bulk burst and an interactive trickle, and (c) adaptive vs fixed limit',
    '',
    `C = ${b.capacity}, L = ${b.latencyMs / 1000} s; ${b.bulkSent} BE messages at once in one FIFO group (priority 3; at most ${MAX_OPEN_QUEUE_RUNS} bulk runs open, the rest wait in SQS), interactive requests through the API every 2 s (priority 1), from when the burst is on the queue and vLLM is busy; end-to-end = POST → callback.`,
    '',
    ...burstTable(report),
    '',
    'Where the interactive requests spent their time under the burst (p50 / p99 per stage, from their histories: bench/breakdown.ts; task dispatch includes the wait for an LLM slot):',
    '',
    ...burstBreakdownTable(report),
    '',
  ];
}

const burstLimit = (run: BurstReport) => (run.mode === 'fixed' ? `fixed ${FIXED_LIMIT_BURST}` : 'adaptive');

/** Per limit: interactive latency unloaded and under the burst, bulk throughput, the waiting queue. */
export function burstTable(report: FlowReport): string[] {
  return [
    '| limit | interactive unloaded p50 / p99 | under the burst p50 / p99 | p99 ratio (≤ 2) | bulk delivered/s (C/L) | vLLM waiting p95 / max |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...report.burst.map(
      (run) =>
        `| ${burstLimit(run)} | ${seconds(run.unloaded.p50)} / ${seconds(run.unloaded.p99)} | ${seconds(run.loaded.p50)} / ${seconds(run.loaded.p99)} (${run.loaded.delivered}/${run.loaded.count}) | ${run.p99Ratio}${run.p99Ratio <= 2 ? ' ✓' : ' ✗'} | ${run.bulkDeliveredPerSec} (${run.allowedPerSec}) | ${run.waitingP95} / ${run.waitingMax} |`,
    ),
  ];
}

function burstBreakdownTable(report: FlowReport): string[] {
  return [
    '| limit | queue + bridge | task dispatch | workflow tasks | vLLM call overhead | callback |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...report.burst.map(
      (run) =>
        `| ${burstLimit(run)} | ${Object.values(run.interactiveBreakdown.stages)
          .map((stage) => `${seconds(stage.p50 ?? NaN)} / ${seconds(stage.p99 ?? NaN)}`)
          .join(' | ')} |`,
    ),
  ];
}

const seconds = (n: number) => (Number.isFinite(n) ? `${(n / 1000).toFixed(2)} s` : '–');
