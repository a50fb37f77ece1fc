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
  // C/L below the raw Temporal ceiling: where the orchestrator, not Temporal here, would be the limit.
  ...[8, 16].map((capacity): Scenario => ({
    id: `l1-c${capacity}`,
    title: `L = 1 s, C = ${capacity}, one group`,
    latencyMs: 1000,
    capacity,
    shape: 'group',
    mode: 'burst',
    extra: true,
  })),
  { ...burst('paced-instant', 'L = 0, ours at half its maximum rate', 0, 'group'), mode: 'paced' },
  { ...burst('paced-l1', 'L = 1 s, ours at half its maximum rate', 1000, 'group'), mode: 'paced' },
];

/** Scenario ids that are not queue scenarios: the raw ceiling's own run and the API alone. */
export const OTHER_SCENARIOS = ['raw-ceiling', 'api'];
