/** What the throughput suite compares: the systems, the scenarios they run, and the request counts. */

export type SystemId = 'ours' | 'seed' | 'plain' | 'raw';

export const ALL_SYSTEMS: SystemId[] = ['ours', 'seed', 'plain', 'raw'];

export const SYSTEM_LABELS: Record<SystemId, string> = {
  ours: 'ours',
  seed: 'seed-style worker',
  plain: 'plain consumer',
  raw: 'raw Temporal ceiling',
};

/** The request count the targets are defined for. */
export const FULL_N = 2000;

/** The simulator's maxNumSeqs in the default scenarios. */
export const CAPACITY = 64;

/** The bridge's BRIDGE_MAX_OPEN_QUEUE_RUNS by default (src/config/bridge.ts), the raw starter's bound too. */
export const DEFAULT_MAX_OPEN_RUNS = 1000;

export type QueueShape = 'group' | 'member';

export interface Scenario {
  id: string;
  title: string;
  latencyMs: number;
  capacity: number;
  shape: QueueShape;
  /** burst: all requests sent at once; paced: sent at a fixed rate. */
  mode: 'burst' | 'paced';
  /** Not in the default run (`--scenarios` names it). */
  extra?: boolean;
  /** Only these systems run it (default: every one of ours, seed-style and plain). */
  systems?: SystemId[];
  /** C/L at or below the raw Temporal ceiling: a goal of the ratio table (≥ 0.95 × min(C/L, ceiling)). */
  capacitySweep?: boolean;
  /**
   * The raw design runs it too (with --systems raw): the no-op workflow whose middle activity takes L, C
   * at a time, so its runs wait in its worker like ours' (the worker memory of as many runs held).
   */
  rawHeld?: boolean;
}

const burst = (id: string, title: string, latencyMs: number, shape: QueueShape): Scenario => ({
  id,
  title,
  latencyMs,
  capacity: CAPACITY,
  shape,
  mode: 'burst',
});

export const SCENARIOS: Scenario[] = [
  burst('instant-group', 'L = 0, one group', 0, 'group'),
  burst('instant-member', 'L = 0, group per member', 0, 'member'),
  burst('l1-group', 'L = 1 s, one group', 1000, 'group'),
  burst('l1-member', 'L = 1 s, group per member', 1000, 'member'),
  // C/L near or below the raw Temporal ceiling: where the orchestrator, not Temporal here, would be the
  // limit. Ours only (the baselines' rates at L = 1 s do not depend on C: one message or batch per L),
  // and at C = 16 the raw design held (see rawHeld).
  ...[8, 16].map((capacity): Scenario => ({
    id: `l1-c${capacity}`,
    title: `L = 1 s, C = ${capacity}, one group`,
    latencyMs: 1000,
    capacity,
    shape: 'group',
    mode: 'burst',
    systems: ['ours'],
    capacitySweep: true,
    // C/L = 16/s is below the raw ceiling on both engines: every raw run waits in its worker for a slot.
    rawHeld: capacity === 16,
  })),
  { ...burst('paced-instant', 'L = 0, ours at half its maximum rate', 0, 'group'), mode: 'paced' },
  { ...burst('paced-l1', 'L = 1 s, ours at half its maximum rate', 1000, 'group'), mode: 'paced' },
];

/** Scenario ids that are not queue scenarios: the raw ceiling's own run and the API alone. */
export const OTHER_SCENARIOS = ['raw-ceiling', 'api'];
