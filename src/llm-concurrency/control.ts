/**
 * Runs the LLM concurrency controller of one worker process: every `intervalMs` it reads vLLM's
 * /metrics (queue-depth control) or, when there are none or they fail, the latencies of the calls that
 * ended (latency-gradient control), and sets the limit of the slot supplier that feeds the worker of
 * the LLM task queue. In `fixed` mode the limit is LLM_CONCURRENCY_MAX and nothing runs.
 */
import type { MetricMeter } from '@temporalio/common';
import type { Logger } from 'pino';
import type { LlmConcurrencySettings } from '../config';
import {
  clampLimit,
  initialGradientState,
  nextGradientState,
  nextLimitFromLoad,
  parseVllmMetrics,
  type GradientState,
  type VllmLoad,
} from './controller';
import { ConcurrencyLimiter } from './limiter';

export type ControlSignal = 'metrics' | 'latency' | 'fixed';

export interface LlmConcurrencySnapshot {
  limit: number;
  inUse: number;
  signal: ControlSignal;
  load?: VllmLoad;
}

export interface LlmConcurrencyDeps {
  logger: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** vLLM's Prometheus endpoint (`VLLM_METRICS_URL`); absent: the limit follows latency only. */
  metricsUrl?: string;
  fetchImpl?: typeof fetch;
  /** Gauges of the limit, the calls in flight and vLLM's queue (the worker passes the SDK's meter). */
  meter?: MetricMeter;
}

export class LlmConcurrencyControl {
  readonly limiter: ConcurrencyLimiter;
  private gradient: GradientState;
  private samples: number[] = [];
  private timer?: NodeJS.Timeout;
  private ticking = false;
  private lastSignal: ControlSignal;
  private lastLoad?: VllmLoad;
  private metricsDown = false;
  private readonly gauges?: {
    limit: ReturnType<MetricMeter['createGauge']>;
    inUse: ReturnType<MetricMeter['createGauge']>;
    waiting: ReturnType<MetricMeter['createGauge']>;
  };

  constructor(
    private readonly settings: LlmConcurrencySettings,
    private readonly deps: LlmConcurrencyDeps,
  ) {
    const initial = settings.mode === 'fixed' ? settings.max : settings.initial;
    this.limiter = new ConcurrencyLimiter(initial);
    this.gradient = initialGradientState(initial);
    this.lastSignal = settings.mode === 'fixed' ? 'fixed' : deps.metricsUrl ? 'metrics' : 'latency';
    if (deps.meter) {
      this.gauges = {
        limit: deps.meter.createGauge(
          'feedback_llm_concurrency_limit',
          'int',
          '',
          'Concurrent vLLM calls this worker allows now.',
        ),
        inUse: deps.meter.createGauge(
          'feedback_llm_in_flight',
          'int',
          '',
          'vLLM calls (generateCheckedFeedback activities) this worker runs now.',
        ),
        waiting: deps.meter.createGauge(
          'feedback_llm_vllm_waiting',
          'int',
          '',
          "vLLM's num_requests_waiting at the last read (absent until read).",
        ),
      };
      // The saturation alert compares vLLM's queue with the target the controllers hold it near.
      deps.meter
        .createGauge(
          'feedback_llm_vllm_waiting_target',
          'int',
          '',
          'LLM_CONCURRENCY_TARGET_WAITING: the vLLM queue length the concurrency controller aims for.',
        )
        .set(settings.targetWaiting);
      this.record();
    }
  }

  start(): void {
    if (this.settings.mode === 'fixed' || this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.settings.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The latency of a vLLM call that got an answer (any status): input of the gradient controller. */
  observeLatency(ms: number): void {
    if (this.settings.mode === 'fixed') return;
    this.samples.push(ms);
    if (this.samples.length > 10_000) this.samples.shift();
  }

  snapshot(): LlmConcurrencySnapshot {
    return {
      limit: this.limiter.limit,
      inUse: this.limiter.inUse,
      signal: this.lastSignal,
      ...(this.lastLoad ? { load: this.lastLoad } : {}),
    };
  }

  /** One control step (the interval calls it; tests call it directly). */
  async tick(): Promise<void> {
    if (this.settings.mode === 'fixed' || this.ticking) return;
    this.ticking = true;
    try {
      const samples = this.samples;
      this.samples = [];
      const load = await this.readLoad();
      const inUse = this.limiter.inUse;
      const before = this.limiter.limit;
      if (load) {
        this.lastSignal = 'metrics';
        this.lastLoad = load;
        const limit = nextLimitFromLoad(before, inUse, load, this.settings);
        // The latency baseline keeps learning, so a switch to the fallback starts from a known state.
        this.gradient = { ...nextGradientState(this.gradient, samples, inUse, this.gradientSettings), limit };
        this.limiter.setLimit(limit);
      } else {
        this.lastSignal = 'latency';
        this.lastLoad = undefined;
        this.gradient = nextGradientState(this.gradient, samples, inUse, this.gradientSettings);
        this.limiter.setLimit(clampLimit(this.gradient.limit, this.settings));
      }
      if (this.limiter.limit !== before) {
        this.deps.logger.debug(
          { limit: this.limiter.limit, previous: before, inUse, signal: this.lastSignal, ...load },
          'LLM concurrency limit changed',
        );
      }
      this.record();
    } finally {
      this.ticking = false;
    }
  }

  private get gradientSettings() {
    return { min: this.settings.min, max: this.settings.max, tolerance: this.settings.latencyTolerance };
  }

  private async readLoad(): Promise<VllmLoad | undefined> {
    const url = this.deps.metricsUrl;
    if (!url) return undefined;
    let load: VllmLoad | undefined;
    let problem: string | undefined;
    try {
      const response = await (this.deps.fetchImpl ?? fetch)(url, {
        signal: AbortSignal.timeout(Math.max(1000, this.settings.intervalMs)),
      });
      if (response.ok) {
        load = parseVllmMetrics(await response.text());
        if (!load) problem = 'no vllm:num_requests_running / vllm:num_requests_waiting in the answer';
      } else {
        problem = `answered ${response.status}`;
        await response.body?.cancel();
      }
    } catch (err) {
      problem = (err as Error).message;
    }
    // Logged on change only: a controller running every 500 ms must not flood the log.
    if (problem && !this.metricsDown) {
      this.deps.logger.warn(
        { problem },
        'vLLM metrics unavailable; the LLM concurrency limit follows latency until they are back',
      );
    } else if (!problem && this.metricsDown) {
      this.deps.logger.info('vLLM metrics are back; the LLM concurrency limit follows the queue again');
    }
    this.metricsDown = problem !== undefined;
    return load;
  }

  private record(): void {
    if (!this.gauges) return;
    this.gauges.limit.set(this.limiter.limit);
    this.gauges.inUse.set(this.limiter.inUse);
    // Gauges cannot be negative: without a reading (latency mode) the last value stays.
    if (this.lastLoad) this.gauges.waiting.set(this.lastLoad.waiting);
  }
}
