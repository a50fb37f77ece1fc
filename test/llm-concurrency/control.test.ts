/**
 * LlmConcurrencyControl driven by hand (tick(), no timers) against a fake vLLM /metrics endpoint.
 */
import type { MetricMeter } from '@temporalio/common';
import type { LlmConcurrencySettings } from '../../src/config';
import { LlmConcurrencyControl, type LlmConcurrencyDeps } from '../../src/llm-concurrency/control';

const METRICS_URL = 'http://vllm.test:8000/metrics';

const settings = (overrides: Partial<LlmConcurrencySettings> = {}): LlmConcurrencySettings => ({
  mode: 'adaptive',
  min: 1,
  max: 128,
  initial: 64,
  targetWaiting: 2,
  intervalMs: 500,
  latencyTolerance: 1.5,
  ...overrides,
});

/** vLLM's /metrics text for the given gauges. */
const vllmPage = (running: number, waiting: number, kv = 0.5) =>
  [
    '# HELP vllm:num_requests_running Number of requests in model execution batches.',
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running{engine="0",model_name="qwen"} ${running}.0`,
    '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting{engine="0",model_name="qwen"} ${waiting}.0`,
    '# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.',
    '# TYPE vllm:kv_cache_usage_perc gauge',
    `vllm:kv_cache_usage_perc{engine="0",model_name="qwen"} ${kv}`,
    '',
  ].join('\n');

type Answer = { status: number; body: string } | Error;

/** A fetch that answers each call with the next of `answers` (the last one repeats). */
function fakeFetch(...answers: Answer[]) {
  let call = 0;
  const fn = jest.fn(async (_url: string | URL | Request, _init?: RequestInit) => {
    const answer = answers[Math.min(call, answers.length - 1)];
    call += 1;
    if (answer instanceof Error) throw answer;
    return new Response(answer.body, { status: answer.status });
  });
  return fn;
}

const ok = (body: string): Answer => ({ status: 200, body });

function logger() {
  return { info: jest.fn(), warn: jest.fn(), debug: jest.fn() };
}

function control(
  limit: LlmConcurrencySettings,
  fetchImpl?: ReturnType<typeof fakeFetch>,
  extra: Partial<LlmConcurrencyDeps> = {},
) {
  const log = logger();
  const concurrency = new LlmConcurrencyControl(limit, {
    logger: log as unknown as LlmConcurrencyDeps['logger'],
    metricsUrl: METRICS_URL,
    ...(fetchImpl ? { fetchImpl: fetchImpl as unknown as typeof fetch } : {}),
    ...extra,
  });
  return { concurrency, log };
}

/** Puts `count` calls in flight (permits reserved and marked used). */
function busy(concurrency: LlmConcurrencyControl, count: number) {
  for (let i = 0; i < count; i++) {
    expect(concurrency.limiter.tryAcquire()).toBe(true);
    concurrency.limiter.markUsed();
  }
}

describe('LlmConcurrencyControl in metrics mode', () => {
  it('starts at the initial limit, on the metrics signal', () => {
    const { concurrency } = control(settings(), fakeFetch(ok(vllmPage(0, 0))));
    expect(concurrency.snapshot()).toEqual({ limit: 64, inUse: 0, signal: 'metrics' });
  });

  it('reads the metrics URL and cuts the limit when vLLM’s queue is long', async () => {
    const fetchImpl = fakeFetch(ok(vllmPage(16, 48, 0.8)));
    const { concurrency, log } = control(settings(), fetchImpl);
    busy(concurrency, 64);

    await concurrency.tick();

    expect(fetchImpl).toHaveBeenCalledTimes(1);
    expect(String(fetchImpl.mock.calls[0][0])).toBe(METRICS_URL);
    expect(fetchImpl.mock.calls[0][1]?.signal).toBeInstanceOf(AbortSignal);
    // 64 × (16 + 2) / (16 + 48) = 18
    expect(concurrency.snapshot()).toEqual({
      limit: 18,
      inUse: 64,
      signal: 'metrics',
      load: { running: 16, waiting: 48, kvCacheUsage: 0.8 },
    });
    expect(concurrency.limiter.limit).toBe(18);
    expect(log.debug).toHaveBeenCalledWith(
      expect.objectContaining({ limit: 18, previous: 64, inUse: 64, signal: 'metrics' }),
      'LLM concurrency limit changed',
    );
    expect(log.warn).not.toHaveBeenCalled();
  });

  it('grows the limit when nothing waits and the limit is used up', async () => {
    const { concurrency, log } = control(settings(), fakeFetch(ok(vllmPage(64, 0))));
    busy(concurrency, 64);
    await concurrency.tick();
    expect(concurrency.snapshot().limit).toBe(80);
    await concurrency.tick();
    expect(concurrency.snapshot().limit).toBe(80); // 64 in use of 80: demand-limited
    expect(log.debug).toHaveBeenCalledTimes(1);
  });

  it('keeps the limit when the worker does not use it up', async () => {
    const { concurrency, log } = control(settings(), fakeFetch(ok(vllmPage(3, 0))));
    busy(concurrency, 3);
    await concurrency.tick();
    expect(concurrency.snapshot().limit).toBe(64);
    expect(log.debug).not.toHaveBeenCalled();
  });

  it('does not run two steps at once', async () => {
    let answer: (response: Response) => void = () => undefined;
    const fetchImpl = jest.fn(
      () =>
        new Promise<Response>((resolve) => {
          answer = resolve;
        }),
    );
    const { concurrency } = control(settings(), fetchImpl as unknown as ReturnType<typeof fakeFetch>);
    busy(concurrency, 64);
    const first = concurrency.tick();
    await concurrency.tick(); // returns at once: a step is running
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    answer(new Response(vllmPage(16, 48)));
    await first;
    expect(concurrency.snapshot().limit).toBe(18);
  });
});

describe('LlmConcurrencyControl falling back to latency', () => {
  it('follows the latencies when fetching the metrics throws', async () => {
    const { concurrency } = control(settings({ initial: 16 }), fakeFetch(new Error('connect ECONNREFUSED')));
    busy(concurrency, 16);

    for (const ms of [100, 100, 100]) concurrency.observeLatency(ms);
    await concurrency.tick();
    expect(concurrency.snapshot()).toEqual({ limit: 18, inUse: 16, signal: 'latency' }); // 16 + ½√16

    // Latency well above 1.5 × the 100 ms baseline: halve (at most), smoothed: 18 × 0.75 = 13.5 -> 14.
    concurrency.observeLatency(1000);
    await concurrency.tick();
    expect(concurrency.snapshot().limit).toBe(14);

    // No call ended in the window: the limit stays.
    await concurrency.tick();
    expect(concurrency.snapshot().limit).toBe(14);
  });

  it('falls back when /metrics answers 500, and warns once, not on every tick', async () => {
    const fetchImpl = fakeFetch({ status: 500, body: 'Internal Server Error' });
    const { concurrency, log } = control(settings(), fetchImpl);
    await concurrency.tick();
    await concurrency.tick();
    await concurrency.tick();
    expect(fetchImpl).toHaveBeenCalledTimes(3);
    expect(concurrency.snapshot().signal).toBe('latency');
    expect(concurrency.snapshot()).not.toHaveProperty('load');
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenCalledWith(
      { problem: 'answered 500' },
      expect.stringContaining('follows latency'),
    );
  });

  it('falls back when the page is not vLLM’s metrics', async () => {
    const { concurrency, log } = control(settings(), fakeFetch(ok('<html>hello</html>')));
    await concurrency.tick();
    expect(concurrency.snapshot().signal).toBe('latency');
    expect(log.warn).toHaveBeenCalledWith(
      { problem: expect.stringContaining('vllm:num_requests_waiting') },
      expect.any(String),
    );
  });

  it('logs info when the metrics come back, and warns again when they fail again', async () => {
    const fetchImpl = fakeFetch(
      new Error('connect ECONNREFUSED'),
      new Error('connect ECONNREFUSED'),
      ok(vllmPage(16, 0)),
      ok(vllmPage(16, 0)),
      { status: 503, body: '' },
    );
    const { concurrency, log } = control(settings(), fetchImpl);

    await concurrency.tick();
    await concurrency.tick();
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenLastCalledWith({ problem: 'connect ECONNREFUSED' }, expect.any(String));
    expect(log.info).not.toHaveBeenCalled();

    await concurrency.tick();
    expect(concurrency.snapshot()).toMatchObject({ signal: 'metrics', load: { running: 16, waiting: 0 } });
    expect(log.info).toHaveBeenCalledTimes(1);
    expect(log.info).toHaveBeenCalledWith(expect.stringContaining('metrics are back'));
    await concurrency.tick();
    expect(log.info).toHaveBeenCalledTimes(1);

    await concurrency.tick();
    expect(concurrency.snapshot().signal).toBe('latency');
    expect(log.warn).toHaveBeenCalledTimes(2);
    expect(log.warn).toHaveBeenLastCalledWith({ problem: 'answered 503' }, expect.any(String));
  });

  it('continues from the limit the metrics had set, not from the initial one', async () => {
    const fetchImpl = fakeFetch(ok(vllmPage(16, 48)), new Error('timeout'));
    const { concurrency } = control(settings(), fetchImpl);
    busy(concurrency, 64);
    await concurrency.tick();
    expect(concurrency.snapshot().limit).toBe(18);

    await concurrency.tick(); // metrics down, no latency sample
    expect(concurrency.snapshot()).toEqual({ limit: 18, inUse: 64, signal: 'latency' });
  });

  it('uses the latency signal without fetching anything when there is no metrics URL', async () => {
    const fetchImpl = fakeFetch(ok(vllmPage(16, 48)));
    const { concurrency, log } = control(settings({ initial: 16 }), fetchImpl, { metricsUrl: undefined });
    expect(concurrency.snapshot().signal).toBe('latency');
    busy(concurrency, 16);
    concurrency.observeLatency(100);
    await concurrency.tick();
    expect(fetchImpl).not.toHaveBeenCalled();
    expect(concurrency.snapshot()).toEqual({ limit: 18, inUse: 16, signal: 'latency' });
    // No metrics configured is not a failure.
    expect(log.warn).not.toHaveBeenCalled();
  });
});

describe('LlmConcurrencyControl in fixed mode', () => {
  it('keeps the limit at the maximum and does nothing on tick', async () => {
    const fetchImpl = fakeFetch(ok(vllmPage(16, 48)));
    const { concurrency, log } = control(settings({ mode: 'fixed', initial: 8, max: 32 }), fetchImpl);
    expect(concurrency.snapshot()).toEqual({ limit: 32, inUse: 0, signal: 'fixed' });
    busy(concurrency, 32);
    for (let i = 0; i < 3; i++) concurrency.observeLatency(60_000);
    await concurrency.tick();
    await concurrency.tick();
    expect(fetchImpl).not.toHaveBeenCalled();
    expect(concurrency.snapshot()).toEqual({ limit: 32, inUse: 32, signal: 'fixed' });
    expect(log.warn).not.toHaveBeenCalled();
    expect(log.debug).not.toHaveBeenCalled();
  });
});

describe('LlmConcurrencyControl gauges', () => {
  it('records the limit, the calls in flight and vLLM’s waiting requests', async () => {
    const gauges = new Map<string, { set: jest.Mock }>();
    const meter = {
      createGauge: (name: string) => {
        const gauge = { set: jest.fn() };
        gauges.set(name, gauge);
        return gauge;
      },
    } as unknown as MetricMeter;
    const { concurrency } = control(settings(), fakeFetch(ok(vllmPage(16, 48))), { meter });
    const last = (name: string) => gauges.get(name)?.set.mock.lastCall?.[0];
    expect(last('feedback_llm_concurrency_limit')).toBe(64);
    expect(last('feedback_llm_in_flight')).toBe(0);
    // Gauges cannot be negative (the SDK refuses it): nothing is recorded before the first reading.
    expect(gauges.get('feedback_llm_vllm_waiting')?.set).not.toHaveBeenCalled();

    busy(concurrency, 64);
    await concurrency.tick();
    expect(last('feedback_llm_concurrency_limit')).toBe(18);
    expect(last('feedback_llm_in_flight')).toBe(64);
    expect(last('feedback_llm_vllm_waiting')).toBe(48);
  });
});
