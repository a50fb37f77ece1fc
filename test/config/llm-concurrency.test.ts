/**
 * The sections around the vLLM calls through loadConfig: the LLM concurrency limit
 * (src/config/llm-concurrency.ts), the LLM task queue and its rate limit (src/config/temporal.ts),
 * vLLM's metrics URL (src/config/vllm.ts) and the runs' priorities (src/config/priority.ts).
 */
import { problemsOf } from '../support/config';
import { loadConfig } from '../../src/config';

describe('the LLM task queue', () => {
  it('defaults to "<TEMPORAL_TASK_QUEUE>-llm", and is the same queue in the runs’ policy and for the worker', () => {
    const defaults = loadConfig({});
    expect(defaults.temporal.llmTaskQueue).toBe('leafresh-feedback-llm');
    expect(defaults.policy.llmTaskQueue).toBe('leafresh-feedback-llm');

    const renamed = loadConfig({ TEMPORAL_TASK_QUEUE: 'feedback-prod' });
    expect(renamed.temporal.llmTaskQueue).toBe('feedback-prod-llm');
    expect(renamed.policy.llmTaskQueue).toBe('feedback-prod-llm');
  });

  it('is LLM_TASK_QUEUE when set, in both places; an empty value means unset', () => {
    const set = loadConfig({ TEMPORAL_TASK_QUEUE: 'feedback-prod', LLM_TASK_QUEUE: 'gpu-pool-a' });
    expect(set.temporal.llmTaskQueue).toBe('gpu-pool-a');
    expect(set.policy.llmTaskQueue).toBe('gpu-pool-a');
    expect(loadConfig({ LLM_TASK_QUEUE: '' }).temporal.llmTaskQueue).toBe('leafresh-feedback-llm');
    expect(loadConfig({ LLM_TASK_QUEUE: '  ' }).policy.llmTaskQueue).toBe('leafresh-feedback-llm');
  });
});

describe('the concurrency bounds', () => {
  const limit = (env: Record<string, string>) => loadConfig(env).llmConcurrency;

  it('has the documented defaults: adaptive between 2 and 256, starting at 16', () => {
    expect(limit({})).toMatchObject({ mode: 'adaptive', min: 2, max: 256, initial: 16, targetWaiting: 2 });
  });

  it('keeps the minimum at most the maximum', () => {
    expect(limit({ LLM_CONCURRENCY_MIN: '50', LLM_CONCURRENCY_MAX: '8' })).toMatchObject({ min: 8, max: 8 });
  });

  it('clamps the initial limit into [min, max]', () => {
    expect(limit({ LLM_CONCURRENCY_MIN: '4', LLM_CONCURRENCY_INITIAL: '1' }).initial).toBe(4);
    expect(limit({ LLM_CONCURRENCY_MAX: '10', LLM_CONCURRENCY_INITIAL: '64' }).initial).toBe(10);
    expect(
      limit({ LLM_CONCURRENCY_MIN: '3', LLM_CONCURRENCY_MAX: '30', LLM_CONCURRENCY_INITIAL: '12' }).initial,
    ).toBe(12);
    // A minimum above the maximum: everything is the maximum.
    expect(
      limit({ LLM_CONCURRENCY_MIN: '40', LLM_CONCURRENCY_MAX: '20', LLM_CONCURRENCY_INITIAL: '30' }),
    ).toMatchObject({ min: 20, max: 20, initial: 20 });
  });

  it('reads fixed mode, the control interval and the latency tolerance', () => {
    expect(
      limit({
        LLM_CONCURRENCY_MODE: 'fixed',
        LLM_CONCURRENCY_INTERVAL_MS: '1000',
        LLM_CONCURRENCY_LATENCY_TOLERANCE: '2.5',
      }),
    ).toMatchObject({ mode: 'fixed', intervalMs: 1000, latencyTolerance: 2.5 });
  });

  it('rejects a limit below 1, an unknown mode and a tolerance that would cut on noise', () => {
    const problems = problemsOf(() =>
      loadConfig({
        LLM_CONCURRENCY_MAX: '0',
        LLM_CONCURRENCY_MODE: 'auto',
        LLM_CONCURRENCY_LATENCY_TOLERANCE: '1',
      }),
    );
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'LLM_CONCURRENCY_LATENCY_TOLERANCE',
      'LLM_CONCURRENCY_MAX',
      'LLM_CONCURRENCY_MODE',
    ]);
  });
});

describe("vLLM's metrics URL", () => {
  it("defaults to /metrics on vLLM's base URL, whatever form VLLM_API_URL has", () => {
    expect(loadConfig({}).vllm.metricsUrl).toBe('http://localhost:8800/metrics');
    expect(loadConfig({ VLLM_API_URL: 'http://gpu:8000/v1/chat/completions' }).vllm.metricsUrl).toBe(
      'http://gpu:8000/metrics',
    );
  });

  it('is VLLM_METRICS_URL when set, and absent with "none" (latency control only)', () => {
    expect(loadConfig({ VLLM_METRICS_URL: 'http://prom:9090/vllm' }).vllm.metricsUrl).toBe(
      'http://prom:9090/vllm',
    );
    const none = loadConfig({ VLLM_METRICS_URL: 'none' }).vllm;
    expect(none.metricsUrl).toBeUndefined();
    expect(problemsOf(() => loadConfig({ VLLM_METRICS_URL: 'gpu:8000/metrics' }))).toEqual([
      expect.stringMatching(/^VLLM_METRICS_URL: /),
    ]);
  });
});

describe('the rate limit toward the model', () => {
  it('is off when unset or empty, a positive number otherwise', () => {
    expect(loadConfig({}).temporal.llmRateLimitPerSecond).toBeUndefined();
    expect(loadConfig({ LLM_RATE_LIMIT_PER_SECOND: '' }).temporal.llmRateLimitPerSecond).toBeUndefined();
    expect(loadConfig({ LLM_RATE_LIMIT_PER_SECOND: '2.5' }).temporal.llmRateLimitPerSecond).toBe(2.5);
    for (const bad of ['0', '-1', 'fast']) {
      expect(problemsOf(() => loadConfig({ LLM_RATE_LIMIT_PER_SECOND: bad }))).toEqual([
        expect.stringMatching(/^LLM_RATE_LIMIT_PER_SECOND: /),
      ]);
    }
  });
});

describe('priorities and fairness', () => {
  it('puts API requests before the BE’s bulk queue, with the member as fairness key, by default', () => {
    expect(loadConfig({}).priority).toEqual({ api: 1, queue: 3, fairness: true });
  });

  it('reads the priority keys and turns fairness off only when told', () => {
    expect(
      loadConfig({ FEEDBACK_PRIORITY_API: '2', FEEDBACK_PRIORITY_QUEUE: '5', FEEDBACK_FAIRNESS: 'false' })
        .priority,
    ).toEqual({ api: 2, queue: 5, fairness: false });
    expect(loadConfig({ FEEDBACK_FAIRNESS: '' }).priority.fairness).toBe(true);
  });

  it('rejects priority keys outside 1..5', () => {
    const problems = problemsOf(() =>
      loadConfig({ FEEDBACK_PRIORITY_API: '0', FEEDBACK_PRIORITY_QUEUE: '6' }),
    );
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'FEEDBACK_PRIORITY_API',
      'FEEDBACK_PRIORITY_QUEUE',
    ]);
  });
});
