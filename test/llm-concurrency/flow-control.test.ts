/**
 * LlmFlowControl driven by hand (tick(), no timers) against a fake vLLM /metrics endpoint.
 */
import type { MetricMeter } from '@temporalio/common';
import type { FlowSettings } from '../../src/config';
import { LlmFlowControl, type FlowControlDeps } from '../../src/llm-concurrency/flow-control';

const METRICS_URL = 'http://vllm.test:8000/metrics';

const settings = (overrides: Partial<FlowSettings> = {}): FlowSettings => ({
  taskQueue: 'feedback-llm',
  mode: 'adaptive',
  min: 1,
  max: 128,
  initial: 64,
  targetWaiting: 2,
  metricsUrl: METRICS_URL,
  intervalMs: 500,
  latencyTolerance: 1.5,
  priority: { api: 1, queue: 3, fairness: true },
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
  flow: FlowSettings,
  fetchImpl?: ReturnType<typeof fakeFetch>,
  extra: Partial<FlowControlDeps> = {},
) {
  const log = logger();
  const flowControl = new LlmFlowControl(flow, {
    logger: log as unknown as FlowControlDeps['logger'],
    ...(fetchImpl ? { fetchImpl: fetchImpl as unknown as typeof fetch } : {}),
    ...extra,
  });
  return { flowControl, log };
}

/** Puts `count` calls in flight (permits reserved and marked used). */
function busy(flowControl: LlmFlowControl, count: number) {
  for (let i = 0; i < count; i++) {
    expect(flowControl.limiter.tryAcquire()).toBe(true);
    flowControl.limiter.markUsed();
  }
}

describe('LlmFlowControl in metrics mode', () => {
  it('starts at the initial limit, on the metrics signal', () => {
    const { flowControl } = control(settings(), fakeFetch(ok(vllmPage(0, 0))));
    expect(flowControl.snapshot()).toEqual({ limit: 64, inUse: 0, signal: 'metrics' });
  });

  it('reads the metrics URL and cuts the limit when vLLM’s queue is long', async () => {
    const fetchImpl = fakeFetch(ok(vllmPage(16, 48, 0.8)));
    const { flowControl, log } = control(settings(), fetchImpl);
    busy(flowControl, 64);

    await flowControl.tick();

    expect(fetchImpl).toHaveBeenCalledTimes(1);
    expect(String(fetchImpl.mock.calls[0][0])).toBe(METRICS_URL);
    expect(fetchImpl.mock.calls[0][1]?.signal).toBeInstanceOf(AbortSignal);
    // 64 × (16 + 2) / (16 + 48) = 18
    expect(flowControl.snapshot()).toEqual({
      limit: 18,
      inUse: 64,
      signal: 'metrics',
      load: { running: 16, waiting: 48, kvCacheUsage: 0.8 },
    });
    expect(flowControl.limiter.limit).toBe(18);
    expect(log.debug).toHaveBeenCalledWith(
      expect.objectContaining({ limit: 18, previous: 64, inUse: 64, signal: 'metrics' }),
      'LLM concurrency limit changed',
    );
    expect(log.warn).not.toHaveBeenCalled();
  });

  it('grows the limit when nothing waits and the limit is used up', async () => {
    const { flowControl, log } = control(settings(), fakeFetch(ok(vllmPage(64, 0))));
    busy(flowControl, 64);
    await flowControl.tick();
    expect(flowControl.snapshot().limit).toBe(80);
    await flowControl.tick();
    expect(flowControl.snapshot().limit).toBe(80); // 64 in use of 80: demand-limited
    expect(log.debug).toHaveBeenCalledTimes(1);
  });

  it('keeps the limit when the worker does not use it up', async () => {
    const { flowControl, log } = control(settings(), fakeFetch(ok(vllmPage(3, 0))));
    busy(flowControl, 3);
    await flowControl.tick();
    expect(flowControl.snapshot().limit).toBe(64);
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
    const { flowControl } = control(settings(), fetchImpl as unknown as ReturnType<typeof fakeFetch>);
    busy(flowControl, 64);
    const first = flowControl.tick();
    await flowControl.tick(); // returns at once: a step is running
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    answer(new Response(vllmPage(16, 48)));
    await first;
    expect(flowControl.snapshot().limit).toBe(18);
  });
});

describe('LlmFlowControl falling back to latency', () => {
  it('follows the latencies when fetching the metrics throws', async () => {
    const { flowControl } = control(settings({ initial: 16 }), fakeFetch(new Error('connect ECONNREFUSED')));
    busy(flowControl, 16);

    for (const ms of [100, 100, 100]) flowControl.observeLatency(ms);
    await flowControl.tick();
    expect(flowControl.snapshot()).toEqual({ limit: 18, inUse: 16, signal: 'latency' }); // 16 + ½√16

    // Latency well above 1.5 × the 100 ms baseline: halve (at most), smoothed: 18 × 0.75 = 13.5 -> 14.
    flowControl.observeLatency(1000);
    await flowControl.tick();
    expect(flowControl.snapshot().limit).toBe(14);

    // No call ended in the window: the limit stays.
    await flowControl.tick();
    expect(flowControl.snapshot().limit).toBe(14);
  });

  it('falls back when /metrics answers 500, and warns once, not on every tick', async () => {
    const fetchImpl = fakeFetch({ status: 500, body: 'Internal Server Error' });
    const { flowControl, log } = control(settings(), fetchImpl);
    await flowControl.tick();
    await flowControl.tick();
    await flowControl.tick();
    expect(fetchImpl).toHaveBeenCalledTimes(3);
    expect(flowControl.snapshot().signal).toBe('latency');
    expect(flowControl.snapshot()).not.toHaveProperty('load');
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenCalledWith(
      { problem: 'answered 500' },
      expect.stringContaining('follows latency'),
    );
  });

  it('falls back when the page is not vLLM’s metrics', async () => {
    const { flowControl, log } = control(settings(), fakeFetch(ok('<html>hello</html>')));
    await flowControl.tick();
    expect(flowControl.snapshot().signal).toBe('latency');
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
    const { flowControl, log } = control(settings(), fetchImpl);

    await flowControl.tick();
    await flowControl.tick();
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenLastCalledWith({ problem: 'connect ECONNREFUSED' }, expect.any(String));
    expect(log.info).not.toHaveBeenCalled();

    await flowControl.tick();
    expect(flowControl.snapshot()).toMatchObject({ signal: 'metrics', load: { running: 16, waiting: 0 } });
    expect(log.info).toHaveBeenCalledTimes(1);
    expect(log.info).toHaveBeenCalledWith(expect.stringContaining('metrics are back'));
    await flowControl.tick();
    expect(log.info).toHaveBeenCalledTimes(1);

    await flowControl.tick();
    expect(flowControl.snapshot().signal).toBe('latency');
    expect(log.warn).toHaveBeenCalledTimes(2);
    expect(log.warn).toHaveBeenLastCalledWith({ problem: 'answered 503' }, expect.any(String));
  });

  it('continues from the limit the metrics had set, not from the initial one', async () => {
    const fetchImpl = fakeFetch(ok(vllmPage(16, 48)), new Error('timeout'));
    const { flowControl } = control(settings(), fetchImpl);
    busy(flowControl, 64);
    await flowControl.tick();
    expect(flowControl.snapshot().limit).toBe(18);

    await flowControl.tick(); // metrics down, no latency sample
    expect(flowControl.snapshot()).toEqual({ limit: 18, inUse: 64, signal: 'latency' });
  });

  it('uses the latency signal without fetching anything when there is no metrics URL', async () => {
    const fetchImpl = fakeFetch(ok(vllmPage(16, 48)));
    const { flowControl, log } = control(settings({ metricsUrl: undefined, initial: 16 }), fetchImpl);
    expect(flowControl.snapshot().signal).toBe('latency');
    busy(flowControl, 16);
    flowControl.observeLatency(100);
    await flowControl.tick();
    expect(fetchImpl).not.toHaveBeenCalled();
    expect(flowControl.snapshot()).toEqual({ limit: 18, inUse: 16, signal: 'latency' });
    // No metrics configured is not a failure.
    expect(log.warn).not.toHaveBeenCalled();
  });
});

describe('LlmFlowControl in fixed mode', () => {
  it('keeps the limit at the maximum and does nothing on tick', async () => {
    const fetchImpl = fakeFetch(ok(vllmPage(16, 48)));
    const { flowControl, log } = control(settings({ mode: 'fixed', initial: 8, max: 32 }), fetchImpl);
    expect(flowControl.snapshot()).toEqual({ limit: 32, inUse: 0, signal: 'fixed' });
    busy(flowControl, 32);
    for (let i = 0; i < 3; i++) flowControl.observeLatency(60_000);
    await flowControl.tick();
    await flowControl.tick();
    expect(fetchImpl).not.toHaveBeenCalled();
    expect(flowControl.snapshot()).toEqual({ limit: 32, inUse: 32, signal: 'fixed' });
    expect(log.warn).not.toHaveBeenCalled();
    expect(log.debug).not.toHaveBeenCalled();
  });
});

describe('LlmFlowControl gauges', () => {
  it('records the limit, the calls in flight and vLLM’s waiting requests', async () => {
    const gauges = new Map<string, { set: jest.Mock }>();
    const meter = {
      createGauge: (name: string) => {
        const gauge = { set: jest.fn() };
        gauges.set(name, gauge);
        return gauge;
      },
    } as unknown as MetricMeter;
    const { flowControl } = control(settings(), fakeFetch(ok(vllmPage(16, 48))), { meter });
    const last = (name: string) => gauges.get(name)?.set.mock.lastCall?.[0];
    expect(last('feedback_llm_concurrency_limit')).toBe(64);
    expect(last('feedback_llm_in_flight')).toBe(0);
    // Gauges cannot be negative (the SDK refuses it): nothing is recorded before the first reading.
    expect(gauges.get('feedback_llm_vllm_waiting')?.set).not.toHaveBeenCalled();

    busy(flowControl, 64);
    await flowControl.tick();
    expect(last('feedback_llm_concurrency_limit')).toBe(18);
    expect(last('feedback_llm_in_flight')).toBe(64);
    expect(last('feedback_llm_vllm_waiting')).toBe(48);
  });
});
