/** The flow suite's settings: the fixed ones of its scenarios, and its command-line options. */

/** The simulator's over-commitment penalty: a request started while others wait takes up to 1.5 × L. */
export const PENALTY = 0.5;
/** The adaptive limit's target of requests waiting at vLLM (LLM_CONCURRENCY_TARGET_WAITING). */
export const TARGET_WAITING = 2;
/** The fixed limits the adaptive one is compared with: the normal capacity, and LLM_CONCURRENCY_MAX. */
export const FIXED_LIMIT_CAPACITY = 64;
export const FIXED_LIMIT_BURST = 256;
/** Bulk runs open at most (BRIDGE_MAX_OPEN_QUEUE_RUNS): with C = 64 and L = 10 s, 30 s of vLLM work. */
export const MAX_OPEN_QUEUE_RUNS = 200;
/** vLLM's capacity in the capacity scenario's three phases. */
export const CAPACITY_PHASES = [64, 16, 64];
/** The burst scenario's vLLM: capacity and generation time. */
export const BURST_CAPACITY = 24;
export const BURST_LATENCY_MS = 4000;

export const ALL_SCENARIOS = ['capacity-adaptive', 'capacity-fixed', 'burst-adaptive', 'burst-fixed'];

export type LimitMode = 'adaptive' | 'fixed';

export interface Options {
  quick: boolean;
  scenarios: Set<string>;
  bulk: number;
  phaseSeconds: number;
  capacityLatencyMs: number;
  trickleUnloaded: number;
  trickleLoaded: number;
}

export function parseArgs(argv: string[]): Options {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const scenarios = new Set((value('--scenarios') ?? ALL_SCENARIOS.join(',')).split(','));
  for (const s of scenarios)
    if (!ALL_SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; known: ${ALL_SCENARIOS}`);
  const bulk = Number(value('--bulk') ?? (quick ? 800 : 5000));
  if (!Number.isInteger(bulk) || bulk < 1) throw new Error('--bulk must be a positive integer');
  return {
    quick,
    scenarios,
    bulk,
    phaseSeconds: quick ? 30 : 60,
    capacityLatencyMs: 10_000,
    trickleUnloaded: quick ? 8 : 15,
    trickleLoaded: quick ? 15 : 45,
  };
}
