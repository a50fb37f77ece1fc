/**
 * The two LLM concurrency controllers as pure functions: the queue-depth controller on vLLM's gauges,
 * the latency-gradient fallback, and the parser of vLLM's Prometheus text.
 */
import {
  median,
  nextGradientState,
  nextLimitFromLoad,
  parseVllmMetrics,
  type GradientSettings,
  type QueueDepthSettings,
} from '../../src/llm-concurrency/controller';

const QUEUE: QueueDepthSettings = { min: 1, max: 128, targetWaiting: 2 };

describe('nextLimitFromLoad (queue depth)', () => {
  it('cuts the limit proportionally when more than the target waits: 64 × (16 + 2) / (16 + 48) = 18', () => {
    expect(nextLimitFromLoad(64, 64, { running: 16, waiting: 48 }, QUEUE)).toBe(18);
  });

  it('scales the calls in flight, not the limit, and rounds down (40 × 18 / 64 = 11.25 -> 11)', () => {
    expect(nextLimitFromLoad(64, 40, { running: 16, waiting: 48 }, QUEUE)).toBe(11);
  });

  it('never raises the limit while more than the target waits, even when more permits are held than it', () => {
    // 64 calls still in flight after the limit was lowered to 10: the scaled value (18) is above 10.
    expect(nextLimitFromLoad(10, 64, { running: 16, waiting: 48 }, QUEUE)).toBe(10);
    // Just above the target with everything running: the scaled value is barely below the calls in flight.
    expect(nextLimitFromLoad(20, 20, { running: 100, waiting: 3 }, QUEUE)).toBe(19);
  });

  it('cuts even when the KV cache is nearly full', () => {
    expect(nextLimitFromLoad(64, 64, { running: 16, waiting: 48, kvCacheUsage: 0.99 }, QUEUE)).toBe(18);
  });

  it('does not cut below the minimum', () => {
    expect(nextLimitFromLoad(64, 2, { running: 16, waiting: 48 }, { ...QUEUE, min: 4 })).toBe(4);
  });

  it('holds the limit while the KV cache is at least 95 % used', () => {
    const busy = { running: 32, waiting: 0 };
    expect(nextLimitFromLoad(32, 32, { ...busy, kvCacheUsage: 0.95 }, QUEUE)).toBe(32);
    expect(nextLimitFromLoad(32, 32, { ...busy, kvCacheUsage: 1 }, QUEUE)).toBe(32);
    expect(nextLimitFromLoad(32, 32, { ...busy, kvCacheUsage: 0.94 }, QUEUE)).toBe(40);
  });

  it('takes the KV cache threshold from the settings', () => {
    const load = { running: 32, waiting: 0, kvCacheUsage: 0.85 };
    expect(nextLimitFromLoad(32, 32, load, { ...QUEUE, kvCacheHigh: 0.8 })).toBe(32);
    expect(nextLimitFromLoad(32, 32, load, { ...QUEUE, kvCacheHigh: 0.9 })).toBe(40);
  });

  it('holds the limit when it is not used up (demand-limited)', () => {
    expect(nextLimitFromLoad(32, 31, { running: 31, waiting: 0 }, QUEUE)).toBe(32);
    expect(nextLimitFromLoad(32, 0, { running: 0, waiting: 0 }, QUEUE)).toBe(32);
    expect(nextLimitFromLoad(32, 31, { running: 31, waiting: 1 }, QUEUE)).toBe(32);
  });

  it('grows by a quarter when nothing waits and the limit is used up', () => {
    expect(nextLimitFromLoad(32, 32, { running: 32, waiting: 0 }, QUEUE)).toBe(40);
    expect(nextLimitFromLoad(10, 10, { running: 10, waiting: 0 }, QUEUE)).toBe(13); // ceil(2.5)
    expect(nextLimitFromLoad(10, 10, { running: 10, waiting: 0 }, { ...QUEUE, growth: 0.5 })).toBe(15);
  });

  it('does not grow while many of its calls are not yet counted by vLLM (they are on their way)', () => {
    // 64 calls in flight, vLLM counts 50: 14 are between the worker and vLLM; growing now overshoots.
    expect(nextLimitFromLoad(64, 64, { running: 50, waiting: 0 }, QUEUE)).toBe(64);
    // A few on their way (up to a tenth, or the target) are normal under load and do not stop growth.
    expect(nextLimitFromLoad(64, 64, { running: 57, waiting: 0 }, QUEUE)).toBe(80);
    expect(nextLimitFromLoad(16, 16, { running: 14, waiting: 0 }, QUEUE)).toBe(20);
    expect(nextLimitFromLoad(16, 16, { running: 13, waiting: 0 }, QUEUE)).toBe(16);
    // Once vLLM counts them all (here with another client's 6 calls), it grows again.
    expect(nextLimitFromLoad(64, 64, { running: 64, waiting: 0 }, QUEUE)).toBe(80);
    expect(nextLimitFromLoad(64, 64, { running: 70, waiting: 0 }, QUEUE)).toBe(80);
  });

  it('grows by at least one', () => {
    expect(nextLimitFromLoad(1, 1, { running: 1, waiting: 0 }, QUEUE)).toBe(2);
    expect(nextLimitFromLoad(10, 10, { running: 10, waiting: 0 }, { ...QUEUE, growth: 0 })).toBe(11);
  });

  it('grows by one when something waits but no more than the target', () => {
    expect(nextLimitFromLoad(32, 32, { running: 32, waiting: 1 }, QUEUE)).toBe(33);
    expect(nextLimitFromLoad(32, 32, { running: 32, waiting: 2 }, QUEUE)).toBe(33);
  });

  it('clamps the result to the bounds', () => {
    expect(nextLimitFromLoad(120, 120, { running: 120, waiting: 0 }, QUEUE)).toBe(128);
    expect(nextLimitFromLoad(128, 128, { running: 128, waiting: 0 }, QUEUE)).toBe(128);
    // A limit below the minimum (e.g. the bounds changed) is brought up to it even when held.
    expect(nextLimitFromLoad(1, 0, { running: 0, waiting: 0 }, { ...QUEUE, min: 4 })).toBe(4);
  });

  it('makes workers that share the same gauges converge together to running + target', () => {
    const load = { running: 16, waiting: 48 };
    const limits = [40, 24].map((inUse) => nextLimitFromLoad(64, inUse, load, QUEUE));
    expect(limits).toEqual([11, 6]);
    const total = limits.reduce((a, b) => a + b, 0);
    // running + target = 18, less at most one per worker for rounding down.
    expect(total).toBeLessThanOrEqual(18);
    expect(total).toBeGreaterThanOrEqual(18 - limits.length);
  });

  it('keeps vLLM near the target over many steps, whatever the number of workers', () => {
    // vLLM runs at most 16 requests at once; every worker always has work for its whole limit.
    const batch = 16;
    // One growth step of the whole batch (25 %): how far above the target a step can overshoot.
    const overshoot = Math.ceil(batch * 0.25);
    for (const start of [
      [40, 24],
      [16, 16, 16, 16],
      [100, 1, 1],
    ]) {
      let limits = [...start];
      const totals: number[] = [];
      for (let step = 0; step < 30; step++) {
        const total = limits.reduce((a, b) => a + b, 0);
        totals.push(total);
        const load = { running: Math.min(batch, total), waiting: Math.max(0, total - batch) };
        limits = limits.map((limit) => nextLimitFromLoad(limit, limit, load, QUEUE));
      }
      const after = totals.slice(1);
      // From 48+ waiting to at most the target plus one growth step in a single cut, and it stays there ...
      expect(Math.max(...after)).toBeLessThanOrEqual(batch + QUEUE.targetWaiting + overshoot);
      // ... without the limits collapsing below what vLLM runs at once (its batch stays full).
      expect(Math.min(...after)).toBeGreaterThanOrEqual(batch);
    }
  });
});

const GRADIENT: GradientSettings = { min: 1, max: 100, tolerance: 1.5 };

describe('nextGradientState (latency gradient)', () => {
  it('leaves the state unchanged without samples', () => {
    const state = { limit: 16, history: [100] };
    expect(nextGradientState(state, [], 16, GRADIENT)).toBe(state);
  });

  it('grows by √limit, smoothed by half, when latency is within tolerance and the limit is used up', () => {
    const next = nextGradientState({ limit: 16, history: [100] }, [100, 100, 100], 16, GRADIENT);
    expect(next.limit).toBe(18); // 16 + 0.5 × √16
    expect(next.history).toEqual([100, 100]);
    // The exact (unrounded) limit is kept: the next step grows from 18.
    expect(nextGradientState(next, [100], 18, GRADIENT).limit).toBeCloseTo(18 + 0.5 * Math.sqrt(18), 10);
  });

  it('counts latency exactly at tolerance × baseline as not queueing', () => {
    expect(nextGradientState({ limit: 16, history: [100] }, [150], 16, GRADIENT).limit).toBe(18);
  });

  it('does not grow when the limit is not used up', () => {
    const next = nextGradientState({ limit: 16, history: [100] }, [100], 15, GRADIENT);
    expect(next.limit).toBe(16);
    expect(next.history).toEqual([100, 100]);
  });

  it('shrinks by tolerance × baseline / recent, smoothed, when latency is above tolerance', () => {
    // gradient 150 / 200 = 0.75 -> target 12 -> 16 × 0.5 + 12 × 0.5 = 14.
    expect(nextGradientState({ limit: 16, history: [100] }, [200], 16, GRADIENT).limit).toBe(14);
    // It shrinks whether or not the limit is used up.
    expect(nextGradientState({ limit: 16, history: [100] }, [200], 3, GRADIENT).limit).toBe(14);
  });

  it('at most halves the target in one step (gradient floor 0.5)', () => {
    // 150 / 1000 = 0.15 -> 0.5 -> target 8 -> 12 (not 16 × 0.15 = 2.4 -> 9.2).
    expect(nextGradientState({ limit: 16, history: [100] }, [1000], 16, GRADIENT).limit).toBe(12);
  });

  it('weights the new target by the smoothing setting', () => {
    const state = { limit: 16, history: [100] };
    expect(nextGradientState(state, [1000], 16, { ...GRADIENT, smoothing: 1 }).limit).toBe(8);
    expect(nextGradientState(state, [100], 16, { ...GRADIENT, smoothing: 0.25 }).limit).toBe(17);
  });

  it('stays within the bounds', () => {
    expect(nextGradientState({ limit: 30, history: [100] }, [100], 30, { ...GRADIENT, max: 32 }).limit).toBe(
      32,
    );
    expect(nextGradientState({ limit: 2, history: [100] }, [1000], 2, { ...GRADIENT, min: 2 }).limit).toBe(2);
  });

  it('takes the median of the window’s samples, so one slow call does not count', () => {
    expect(nextGradientState({ limit: 16, history: [100] }, [100, 100, 10_000], 16, GRADIENT).limit).toBe(18);
  });

  it('uses the lowest of the recent window medians as the baseline', () => {
    // Baseline min(300, 100, 300, 200) = 100: 200 > 150 -> shrink (a mean or the last value would grow).
    const next = nextGradientState({ limit: 16, history: [300, 100, 300] }, [200], 16, GRADIENT);
    expect(next.limit).toBe(14);
    expect(next.history).toEqual([300, 100, 300, 200]);
    // A new lowest median becomes the baseline at once.
    expect(nextGradientState({ limit: 16, history: [300] }, [50], 16, GRADIENT).limit).toBe(18);
  });

  it('forgets medians older than the baseline window', () => {
    const state = { limit: 16, history: [100, 300, 300] };
    // Default window (120): 100 is still the baseline -> shrink.
    expect(nextGradientState(state, [300], 16, GRADIENT).limit).toBe(12);
    // Window of 3: the history becomes [300, 300, 300] -> baseline 300 -> grow.
    const next = nextGradientState(state, [300], 16, { ...GRADIENT, baselineWindows: 3 });
    expect(next.history).toEqual([300, 300, 300]);
    expect(next.limit).toBe(18);
  });
});

describe('median', () => {
  it('is the middle value of an odd count, whatever the order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([7])).toBe(7);
  });

  it('is the mean of the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, 20])).toBe(15);
  });

  it('sorts numerically, not as strings, and leaves its input alone', () => {
    const values = [100, 9, 25, 3, 50];
    expect(median(values)).toBe(25); // as strings the middle would be 3
    expect(values).toEqual([100, 9, 25, 3, 50]);
  });
});

const MODEL = 'model_name="Qwen/Qwen2.5-7B-Instruct"';

/** A /metrics page as vLLM 0.10 writes it (abridged), one engine. */
const VLLM_PAGE = `# HELP python_gc_objects_collected_total Objects collected during gc
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total{generation="0"} 12345.0
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",${MODEL}} 16.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",${MODEL}} 48.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",${MODEL}} 0.83
# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",${MODEL}} 987654.0
# HELP vllm:e2e_request_latency_seconds Histogram of e2e request latency in seconds.
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{engine="0",le="0.3",${MODEL}} 2.0
vllm:e2e_request_latency_seconds_count{engine="0",${MODEL}} 40.0
`;

describe('parseVllmMetrics', () => {
  it('reads running, waiting and KV cache use from a real vLLM page', () => {
    expect(parseVllmMetrics(VLLM_PAGE)).toEqual({ running: 16, waiting: 48, kvCacheUsage: 0.83 });
  });

  it('reads metrics without labels, with a timestamp and with CRLF line ends', () => {
    const text = 'vllm:num_requests_running 3 1700000000000\r\nvllm:num_requests_waiting 1e1\r\n';
    expect(parseVllmMetrics(text)).toEqual({ running: 3, waiting: 10 });
  });

  it('sums the counts over label sets and takes the highest KV cache use', () => {
    const text = [
      `vllm:num_requests_running{engine="0",${MODEL}} 10.0`,
      `vllm:num_requests_running{engine="1",${MODEL}} 6.0`,
      `vllm:num_requests_waiting{engine="0",${MODEL}} 40.0`,
      `vllm:num_requests_waiting{engine="1",${MODEL}} 8.0`,
      `vllm:kv_cache_usage_perc{engine="0",${MODEL}} 0.5`,
      `vllm:kv_cache_usage_perc{engine="1",${MODEL}} 0.9`,
      `vllm:kv_cache_usage_perc{engine="2",${MODEL}} 0.7`,
    ].join('\n');
    expect(parseVllmMetrics(text)).toEqual({ running: 16, waiting: 48, kvCacheUsage: 0.9 });
  });

  it('falls back to vllm:gpu_cache_usage_perc (vLLM before 0.10)', () => {
    const text = [
      'vllm:num_requests_running{model_name="m"} 4.0',
      'vllm:num_requests_waiting{model_name="m"} 0.0',
      'vllm:gpu_cache_usage_perc{model_name="m"} 0.42',
    ].join('\n');
    expect(parseVllmMetrics(text)).toEqual({ running: 4, waiting: 0, kvCacheUsage: 0.42 });
  });

  it('prefers vllm:kv_cache_usage_perc when both names are present', () => {
    const text = [
      'vllm:num_requests_running 4',
      'vllm:num_requests_waiting 0',
      'vllm:gpu_cache_usage_perc 0.1',
      'vllm:kv_cache_usage_perc 0.6',
    ].join('\n');
    expect(parseVllmMetrics(text)?.kvCacheUsage).toBe(0.6);
  });

  it('leaves KV cache use out when vLLM does not report it', () => {
    const load = parseVllmMetrics('vllm:num_requests_running 4\nvllm:num_requests_waiting 2\n');
    expect(load).toEqual({ running: 4, waiting: 2 });
    expect(load).not.toHaveProperty('kvCacheUsage');
  });

  it('keeps zero values (an idle server)', () => {
    expect(parseVllmMetrics('vllm:num_requests_running 0\nvllm:num_requests_waiting 0\n')).toEqual({
      running: 0,
      waiting: 0,
    });
  });

  it.each([
    ['no waiting gauge', `vllm:num_requests_running{${MODEL}} 16.0\nvllm:kv_cache_usage_perc 0.5\n`],
    ['no running gauge', `vllm:num_requests_waiting{${MODEL}} 16.0\n`],
    ['only HELP/TYPE lines', '# HELP vllm:num_requests_running x\n# TYPE vllm:num_requests_waiting gauge\n'],
    ['a non-numeric value', 'vllm:num_requests_running 3\nvllm:num_requests_waiting NaN\n'],
    ['an empty page', ''],
    ['an HTML page', '<html><body>Not Found</body></html>'],
  ])('returns undefined for %s', (_label, text) => {
    expect(parseVllmMetrics(text)).toBeUndefined();
  });
});
