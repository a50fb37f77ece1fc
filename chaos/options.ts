/**
 * A chaos run's options, from its command line
 * (`npm run chaos -- [--quick] [--n N] [--seed S] [--delivery M] [--temporal dev|cluster]`).
 */
import { temporalEngine, type TemporalEngine } from '../harness/cluster';

export interface Options {
  n: number;
  seed: number;
  quick: boolean;
  /** Length of the vLLM outage. */
  vllmDownMs: number;
  sendWindowMs: number;
  /** DELIVERY_MODE of the run: `queue` (default) is what the BE runs; `both` also puts the callback under faults. */
  delivery: 'queue' | 'both';
  /**
   * `dev`: the Temporal dev server (SQLite). `cluster`: a Temporal server on PostgreSQL, with the two faults
   * only a real deployment has: PostgreSQL crashing (immediate stop, down 30 s) and the server SIGKILLed.
   */
  temporal: TemporalEngine;
}

export function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  const n = value('--n') ?? (quick ? 100 : 1000);
  return {
    n,
    seed: value('--seed') ?? 7,
    quick,
    vllmDownMs: quick ? 20_000 : 60_000,
    sendWindowMs: quick ? 30_000 : Math.max(60_000, n * 80),
    delivery: deliveryMode(argv),
    temporal: temporalEngine(argv),
  };
}

function deliveryMode(argv: string[]): Options['delivery'] {
  const i = argv.indexOf('--delivery');
  const mode = i >= 0 ? argv[i + 1] : 'queue';
  // Not `callback`: that mode never posts a failure's code, so the BE never re-requests (by design).
  if (mode !== 'queue' && mode !== 'both')
    throw new Error(`--delivery must be queue or both (got ${String(mode)})`);
  return mode;
}
