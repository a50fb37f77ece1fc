/**
 * The two controllers of the LLM concurrency limit, as pure functions of what they observe, so they
 * are unit-tested without timers or servers (src/llm-concurrency/control.ts runs them on an interval).
 *
 * 1. Queue depth (vLLM's /metrics): hold `vllm:num_requests_waiting` near a small target. Above the
 *    target, every worker scales its own calls in flight by (running + target) / (running + waiting):
 *    all workers read the same gauges, so their limits together shrink to what vLLM runs plus the
 *    target within one step, without knowing how many workers there are. At or below the target, a
 *    worker that uses its whole limit, and whose calls vLLM's gauges already count, grows it: by a
 *    quarter while nothing waits, by one otherwise.
 *    A KV cache nearly full holds the limit (vLLM would start preempting).
 * 2. Latency gradient (no metrics): the idea of Netflix's Gradient2 / Envoy's adaptive concurrency.
 *    Compare the recent latency with a baseline (the lowest recent one); within `tolerance` × the
 *    baseline the limit grows by √limit, beyond it the limit is multiplied by tolerance × baseline /
 *    recent (at least halved), smoothed.
 */

export interface LimitBounds {
  min: number;
  max: number;
}

/** vLLM's gauges: requests in the running batch, requests queued, KV cache use (0..1). */
export interface VllmLoad {
  running: number;
  waiting: number;
  kvCacheUsage?: number;
}

export interface QueueDepthSettings extends LimitBounds {
  targetWaiting: number;
  /** Growth per step while nothing waits, as a fraction of the limit (default 0.25). */
  growth?: number;
  /** KV cache use from which the limit does not grow (default 0.95). */
  kvCacheHigh?: number;
}

export const clampLimit = (limit: number, bounds: LimitBounds): number =>
  Math.min(bounds.max, Math.max(bounds.min, Math.round(limit)));

/**
 * The next limit from vLLM's load. `inUse`: this worker's calls in flight now (generateCheckedFeedback
 * activities running).
 */
export function nextLimitFromLoad(
  limit: number,
  inUse: number,
  load: VllmLoad,
  settings: QueueDepthSettings,
): number {
  const { running, waiting } = load;
  if (waiting > settings.targetWaiting) {
    const outstanding = running + waiting;
    const scaled = Math.floor((inUse * (running + settings.targetWaiting)) / outstanding);
    return clampLimit(Math.min(limit, scaled), settings);
  }
  if ((load.kvCacheUsage ?? 0) >= (settings.kvCacheHigh ?? 0.95)) return clampLimit(limit, settings);
  // Demand-limited (the limit is not used up): growing it would only let a future burst overshoot.
  if (inUse < limit) return clampLimit(limit, settings);
  // Many of our calls have not reached vLLM yet (its counts include every client's calls, so they are
  // at least ours once ours arrived): its gauges do not show them, growing now would overshoot. A few
  // are always on their way under load (up to the target or a tenth), which must not stop growth.
  const inTransit = inUse - (running + waiting);
  if (inTransit > Math.max(settings.targetWaiting, Math.ceil(inUse / 10))) return clampLimit(limit, settings);
  const step = waiting === 0 ? Math.max(1, Math.ceil(limit * (settings.growth ?? 0.25))) : 1;
  return clampLimit(limit + step, settings);
}

export interface GradientSettings extends LimitBounds {
  /** Latency within tolerance × baseline counts as "not queueing" (e.g. 1.5). */
  tolerance: number;
  /** Weight of the new value (default 0.5). */
  smoothing?: number;
  /** How many recent windows the baseline is the minimum of (default 120). */
  baselineWindows?: number;
}

export interface GradientState {
  /** Exact (unrounded) limit, so smoothing does not stall on rounding. */
  limit: number;
  /** Median latency of each recent window, oldest first. */
  history: number[];
}

export function initialGradientState(limit: number): GradientState {
  return { limit, history: [] };
}

/**
 * One window of the latency-gradient controller: `samples` are the latencies (ms) of the calls that
 * ended in the window, `inUse` the calls in flight at its end.
 */
export function nextGradientState(
  state: GradientState,
  samples: readonly number[],
  inUse: number,
  settings: GradientSettings,
): GradientState {
  if (samples.length === 0) return state;
  const recent = median(samples);
  const history = [...state.history, recent].slice(-(settings.baselineWindows ?? 120));
  const baseline = Math.min(...history);
  const limit = state.limit;
  let target: number;
  if (recent <= settings.tolerance * baseline) {
    // Not queueing: grow, unless the limit is not used up.
    target = inUse >= Math.floor(limit) ? limit + Math.sqrt(limit) : limit;
  } else {
    const gradient = Math.max(0.5, (settings.tolerance * baseline) / recent);
    target = limit * gradient;
  }
  const smoothing = settings.smoothing ?? 0.5;
  const next = limit * (1 - smoothing) + target * smoothing;
  return { limit: Math.min(settings.max, Math.max(settings.min, next)), history };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The three gauges from vLLM's Prometheus text (counts summed over label sets, e.g. several
 * engines; the highest cache use). Undefined when running or waiting is missing: not a vLLM metrics page.
 */
export function parseVllmMetrics(text: string): VllmLoad | undefined {
  const sums = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = /^(vllm:[a-z_]+)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[2]);
    if (!Number.isFinite(value)) continue;
    const previous = sums.get(match[1]);
    // Counts add up over label sets; a usage fraction does not (the fullest cache counts).
    const combined = match[1].endsWith('_perc') ? Math.max(previous ?? 0, value) : (previous ?? 0) + value;
    sums.set(match[1], combined);
  }
  const running = sums.get('vllm:num_requests_running');
  const waiting = sums.get('vllm:num_requests_waiting');
  if (running === undefined || waiting === undefined) return undefined;
  // Renamed in vLLM 0.10 (gpu_cache_usage_perc before).
  const kv = sums.get('vllm:kv_cache_usage_perc') ?? sums.get('vllm:gpu_cache_usage_perc');
  return { running, waiting, ...(kv === undefined ? {} : { kvCacheUsage: kv }) };
}
