/** The model server (vLLM's OpenAI-compatible API): where, which model, how, and what tokens cost. */
import { z } from 'zod';
import { int, optionalKeys, optionalString, url } from './fields';

/** `VLLM_API_URL` may be the base URL (`http://host:8800`, `.../v1`) or the full endpoint URL. */
export function vllmUrls(raw: string): { baseUrl: string; chatCompletionsUrl: string } {
  const trimmed = raw.replace(/\/+$/, '');
  const base = trimmed.replace(/\/chat\/completions$/, '').replace(/\/v1$/, '');
  return { baseUrl: base, chatCompletionsUrl: `${base}/v1/chat/completions` };
}

export const vllmSection = z
  .object({
    /** Base URL or the full chat-completions URL. */
    VLLM_API_URL: url.default('http://localhost:8800'),
    VLLM_MODEL: z.string().min(1).default('mistralai/Mistral-7B-Instruct-v0.3'),
    VLLM_API_KEY: optionalString,
    VLLM_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.7),
    VLLM_MAX_TOKENS: int(1, 32_768).default(512),
    /**
     * The model's context (vLLM's `--max-model-len`); unset: read from vLLM's GET /v1/models. Only for
     * a server that does not report it (a proxy in front of vLLM, another OpenAI-compatible server).
     */
    VLLM_MAX_MODEL_LEN: optionalString.pipe(
      z.coerce.number<string | undefined>().int().min(2).max(10_000_000).optional(),
    ),
    /** vLLM's Prometheus endpoint; default `<VLLM_API_URL base>/metrics`; `none`: it has none. */
    VLLM_METRICS_URL: optionalString.pipe(z.union([z.literal('none'), url]).optional()),
  })
  .transform((env) => {
    const urls = vllmUrls(env.VLLM_API_URL);
    return optionalKeys({
      ...urls,
      /** Absent: no metrics to read (the LLM concurrency limit then follows latency only). */
      metricsUrl:
        env.VLLM_METRICS_URL === 'none' ? undefined : (env.VLLM_METRICS_URL ?? `${urls.baseUrl}/metrics`),
      model: env.VLLM_MODEL,
      apiKey: env.VLLM_API_KEY,
      temperature: env.VLLM_TEMPERATURE,
      maxTokens: env.VLLM_MAX_TOKENS,
      /** Absent: vLLM's own figure (GET /v1/models) bounds the prompt. */
      maxModelLen: env.VLLM_MAX_MODEL_LEN,
    });
  });

/** Settings the section's schema cannot check one by one. */
export function vllmProblems(env: { VLLM_MAX_MODEL_LEN?: number; VLLM_MAX_TOKENS: number }): string[] {
  // The completion's tokens come out of the same context as the prompt's.
  return env.VLLM_MAX_MODEL_LEN !== undefined && env.VLLM_MAX_MODEL_LEN <= env.VLLM_MAX_TOKENS
    ? ['VLLM_MAX_MODEL_LEN: must be above VLLM_MAX_TOKENS (the prompt and the answer share the context)']
    : [];
}

/** For `feedback tokens`: price per million tokens (0: tokens only). */
export const costsSection = z
  .object({
    LLM_COST_PER_MILLION_PROMPT_TOKENS: z.coerce.number().min(0).default(0),
    LLM_COST_PER_MILLION_COMPLETION_TOKENS: z.coerce.number().min(0).default(0),
    LLM_COST_CURRENCY: z.string().min(1).max(10).default('USD'),
  })
  .transform((env) => ({
    promptPerMillion: env.LLM_COST_PER_MILLION_PROMPT_TOKENS,
    completionPerMillion: env.LLM_COST_PER_MILLION_COMPLETION_TOKENS,
    currency: env.LLM_COST_CURRENCY,
  }));
