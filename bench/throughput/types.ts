/** The throughput suite's result, as written to bench/results/<name>.json. */

import type { OverheadBreakdown } from '../breakdown';
import type { QueueShape, Scenario, SystemId } from './scenarios';

export interface Quantiles {
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
}

export interface ProcessReport {
  pid?: number;
  /** utime + stime at the stop, since the process started. */
  cpuSeconds?: number;
  /** Of which during the measured window (first send to last delivery). */
  cpuSecondsDuringRun?: number;
  peakRssMb?: number;
  /** RSS when the measured window began: the process started and ready, before the load. */
  startRssMb?: number;
}

export interface RunReport {
  scenario: string;
  system: SystemId;
  latencyMs?: number;
  capacity?: number;
  shape?: QueueShape;
  mode: 'burst' | 'paced' | 'start';
  offeredRatePerSec?: number;
  /** Runs open at once at most: ours' bridge bound (BRIDGE_MAX_OPEN_QUEUE_RUNS), the raw starter's. */
  maxOpenRuns?: number;
  /** The raw starter's: the most runs started and not completed at one time. */
  peakOpenRuns?: number;
  requested: number;
  delivered: number;
  complete: boolean;
  durationMs?: number;
  deliveredPerSec?: number;
  e2eMs: Quantiles;
  overheadMs: Quantiles;
  simulator?: { maxRunningSeen: number; received: number; completed: number };
  processes: Record<string, ProcessReport>;
  /** CPU seconds of the shared processes (Temporal, ElasticMQ, simulator, harness) in the window. */
  sharedCpuSecondsDuringRun: Record<string, number>;
  /**
   * The whole machine in the same window (/proc/stat: every process, also other users'): busy core-seconds
   * and the core-seconds there were (cores × seconds).
   */
  machineCpu?: { busySeconds: number; allSeconds: number };
  /** Ours' paced runs: the overhead by stage, from the workflow histories. */
  overheadBreakdown?: OverheadBreakdown;
  notes: string[];
}

export interface ApiSweepPoint {
  offeredRatePerSec: number;
  apiLatencyMs: Quantiles;
  rawLatencyMs: Quantiles;
  errors: number;
  overheadP50Ms?: number;
  overheadP99Ms?: number;
  /** The API process's CPU per accepted request, and its share of one core, in that window. */
  apiCpuMsPerRequest?: number;
  apiBusy?: number;
  /** CPU used by every process we measure (API, harness, Temporal, ElasticMQ, simulator) / all cores. */
  machineBusy?: { api?: number; rawSendMessage?: number };
  /** Cores other processes took in each window (/proc/stat busy minus the processes above). */
  otherCores?: { api?: number; rawSendMessage?: number };
}

export interface LatencySample {
  count: number;
  errors: number;
  latencyMs: Quantiles;
}

export interface ApiReport {
  offeredRatePerSec: number;
  durationSeconds: number;
  api: LatencySample & { non2xx: number };
  rawSendMessage: LatencySample;
  overheadP50Ms?: number;
  overheadP99Ms?: number;
  processes: Record<string, ProcessReport>;
  /** CPU seconds of the shared processes during each of the two measurements. */
  sharedCpuSeconds: { api: Record<string, number>; rawSendMessage: Record<string, number> };
  /** autocannon against the API, and against a server that answers at once (the generator's own floor). */
  autocannon?: { api: LatencySample & { non2xx: number }; noopServer: LatencySample & { non2xx: number } };
  /** The same measurement at lower offered rates (and the main one last). */
  sweep?: ApiSweepPoint[];
}

/** One line of the ratio table: a figure of this run against a bound from the same run. */
export interface GoalResult {
  id: string;
  /** What is compared, e.g. `instant-group: ours / raw Temporal ceiling`. */
  name: string;
  /** The goal, e.g. `≥ 0.90`. */
  goal: string;
  /** The measured ratio or figure, undefined when the run lacks one of the figures. */
  value?: number;
  /** The bound the value is compared with (from the same run). */
  bound?: number;
  measured: string;
  /** undefined: could not be evaluated (system, scenario or figure not in the run). */
  pass?: boolean;
  /** The figures the ratio comes from. */
  from: string;
  /** The most cores other processes took during the line's runs; above GOALS.busyCoresLimit: not judged. */
  busyCores?: number;
}

export interface RatioRow {
  scenario: string;
  oursPerSec?: number;
  vsSeed?: number;
  vsPlain?: number;
  vsRaw?: number;
  vsCapacity?: number;
}

export interface BenchReport {
  command: string;
  date: string;
  quick: boolean;
  options: Record<string, unknown>;
  machine: { cpus: number; loadAverageAtStart: number[]; loadAverageAtEnd?: number[]; node: string };
  settings: Record<string, string>;
  scenarios: Scenario[];
  runs: RunReport[];
  api?: ApiReport;
  ratios: RatioRow[];
  /** The ratio table (older results: `targets`, absolute targets, no longer computed). */
  goals?: GoalResult[];
  wallSeconds?: number;
}
