/**
 * vLLM's side of the worker's configuration: the model's context (max_model_len, which bounds the
 * prompt) and whether vLLM currently refuses the configuration (the worker's /ready names the cause).
 */
import type { AppConfig } from '../config';
import type { ReadinessCheck } from '../shared/health';
import { getJson, isRetryableStatus, joinUrl, describeNetworkError } from './http';
import { classifyVllmError, parseModelList, parseVllmError, type VllmConfigCause } from './vllm';

/** Why the model's context could not be had: a configuration vLLM refuses, or vLLM out of reach. */
export class ModelContextError extends Error {
  constructor(
    readonly kind: 'configuration' | 'outage',
    message: string,
    readonly configCause?: VllmConfigCause,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ModelContextError';
  }
}

/** The model's context in tokens (prompt and completion together). */
export interface ModelContext {
  maxModelLen(): Promise<number>;
  /** vLLM disagreed with the figure (a context-length answer): read it again next time. */
  forget(): void;
}

export interface VllmModelContextOptions {
  /** How long a figure read from vLLM is used before it is read again (vLLM may restart with another). */
  ttlMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

/**
 * `VLLM_MAX_MODEL_LEN` when set, else the `max_model_len` vLLM reports for the served model on
 * GET /v1/models, kept for `ttlMs`. Concurrent callers share one request; a failed read is not kept,
 * and is not retried here: the activity fails and Temporal retries it.
 */
export class VllmModelContext implements ModelContext {
  private cached?: { value: number; at: number };
  private reading?: Promise<number>;
  private readonly now: () => number;

  constructor(
    private readonly vllm: Pick<AppConfig['vllm'], 'baseUrl' | 'model' | 'apiKey' | 'maxModelLen'>,
    private readonly options: VllmModelContextOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  maxModelLen(): Promise<number> {
    if (this.vllm.maxModelLen !== undefined) return Promise.resolve(this.vllm.maxModelLen);
    const cached = this.cached;
    if (cached && this.now() - cached.at < (this.options.ttlMs ?? 5 * 60_000)) {
      return Promise.resolve(cached.value);
    }
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  forget(): void {
    this.cached = undefined;
  }

  private async read(): Promise<number> {
    const url = joinUrl(this.vllm.baseUrl, '/v1/models');
    let response;
    try {
      response = await getJson(url, {
        headers: this.vllm.apiKey ? { authorization: `Bearer ${this.vllm.apiKey}` } : {},
        timeoutMs: this.options.timeoutMs ?? 10_000,
      });
    } catch (err) {
      throw new ModelContextError('outage', `vLLM unreachable: ${describeNetworkError(err)}`);
    }
    if (response.status !== 200) {
      const error = parseVllmError(response.status, response.text);
      const message = `vLLM's model list answered ${error.status}: ${error.message}`;
      const meaning = classifyVllmError(error, isRetryableStatus);
      if (meaning.kind === 'configuration') {
        throw new ModelContextError('configuration', message, meaning.cause, error.status);
      }
      // A 4xx other than the above from the model list is no fault of any request either.
      throw new ModelContextError('outage', message, undefined, error.status);
    }
    let entry;
    try {
      entry = parseModelList(response.text, this.vllm.model);
    } catch (err) {
      throw new ModelContextError('outage', `vLLM sent an unreadable model list: ${(err as Error).message}`);
    }
    if (!entry.served) {
      throw new ModelContextError(
        'configuration',
        `vLLM does not serve the model \`${this.vllm.model}\` (GET /v1/models; VLLM_MODEL must be its --served-model-name)`,
        'model-not-found',
      );
    }
    if (entry.maxModelLen === undefined) {
      throw new ModelContextError(
        'configuration',
        `the server reports no max_model_len for \`${this.vllm.model}\` on GET /v1/models: set VLLM_MAX_MODEL_LEN`,
        'context-length',
      );
    }
    this.cached = { value: entry.maxModelLen, at: this.now() };
    return entry.maxModelLen;
  }
}

/** A configuration error vLLM answered, as the worker last saw it. */
export interface VllmConfigProblem {
  cause: VllmConfigCause;
  message: string;
  /** When this cause was first seen in a row (ISO). */
  since: string;
}

/**
 * Whether vLLM currently refuses the worker's configuration: the activities report each configuration
 * error and each answered call. A problem is current until a call is answered or, with no traffic to
 * tell, for `forgetAfterMs` after it was last seen (every waiting run retries within a minute).
 */
export class VllmConfigStatus {
  private problem?: { cause: VllmConfigCause; message: string; sinceMs: number; lastMs: number };
  private readonly now: () => number;

  constructor(private readonly options: { now?: () => number; forgetAfterMs?: number } = {}) {
    this.now = options.now ?? Date.now;
  }

  failed(cause: VllmConfigCause, message: string): void {
    const now = this.now();
    const sinceMs = this.current()?.cause === cause ? (this.problem?.sinceMs ?? now) : now;
    this.problem = { cause, message, sinceMs, lastMs: now };
  }

  answered(): void {
    this.problem = undefined;
  }

  current(): VllmConfigProblem | undefined {
    const problem = this.problem;
    if (!problem || this.now() - problem.lastMs > (this.options.forgetAfterMs ?? 5 * 60_000))
      return undefined;
    return { cause: problem.cause, message: problem.message, since: new Date(problem.sinceMs).toISOString() };
  }

  /** `vllm-config` on /ready: failing while a configuration error is current, naming its cause first. */
  readinessCheck(): ReadinessCheck {
    return {
      name: 'vllm-config',
      check: async () => {
        const problem = this.current();
        if (!problem) return;
        const error = new Error(`${problem.cause} since ${problem.since}: ${problem.message}`);
        error.name = 'VllmConfigurationError';
        throw error;
      },
    };
  }
}
