/** The model server (vLLM's OpenAI-compatible API): where, which model, how, and what tokens cost. */
import { z } from 'zod';
import { int, optionalString, url } from './fields';

export const vllmEnv = z.object({
  /** Base URL or the full chat-completions URL. */
  VLLM_API_URL: url.default('http://localhost:8800'),
  VLLM_MODEL: z.string().min(1).default('mistralai/Mistral-7B-Instruct-v0.3'),
  VLLM_API_KEY: optionalString,
  VLLM_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.7),
  VLLM_MAX_TOKENS: int(1, 32_768).default(512),
  /** For `feedback tokens`: price per million tokens (0: tokens only). */
  LLM_COST_PER_MILLION_PROMPT_TOKENS: z.coerce.number().min(0).default(0),
  LLM_COST_PER_MILLION_COMPLETION_TOKENS: z.coerce.number().min(0).default(0),
  LLM_COST_CURRENCY: z.string().min(1).max(10).default('USD'),
});
type VllmEnv = z.infer<typeof vllmEnv>;

export interface VllmSettings {
  chatCompletionsUrl: string;
  baseUrl: string;
  model: string;
  apiKey?: string;
  temperature: number;
  maxTokens: number;
}

export interface CostSettings {
  promptPerMillion: number;
  completionPerMillion: number;
  currency: string;
}

/** `VLLM_API_URL` may be the base URL (`http://host:8800`, `.../v1`) or the full endpoint URL. */
export function vllmUrls(raw: string): { baseUrl: string; chatCompletionsUrl: string } {
  const trimmed = raw.replace(/\/+$/, '');
  const base = trimmed.replace(/\/chat\/completions$/, '').replace(/\/v1$/, '');
  return { baseUrl: base, chatCompletionsUrl: `${base}/v1/chat/completions` };
}

export function vllmSettings(env: VllmEnv): VllmSettings {
  return {
    ...vllmUrls(env.VLLM_API_URL),
    model: env.VLLM_MODEL,
    apiKey: env.VLLM_API_KEY,
    temperature: env.VLLM_TEMPERATURE,
    maxTokens: env.VLLM_MAX_TOKENS,
  };
}

export function costSettings(env: VllmEnv): CostSettings {
  return {
    promptPerMillion: env.LLM_COST_PER_MILLION_PROMPT_TOKENS,
    completionPerMillion: env.LLM_COST_PER_MILLION_COMPLETION_TOKENS,
    currency: env.LLM_COST_CURRENCY,
  };
}
