/** Talking to vLLM's OpenAI-compatible chat completions endpoint: request body and error parsing. */
import type { ChatMessage } from '../domain/prompt';

export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  temperature: number;
  max_tokens: number;
  stream: false;
}

export interface ChatCompletionAnswer {
  text: string;
  finishReason?: string;
  usage?: { promptTokens: number; completionTokens: number };
}

export interface VllmError {
  status: number;
  message: string;
  type?: string;
}

/**
 * Parses vLLM's error body in both shapes: up to v0.10.0 `{object:"error", message, type, code}`,
 * from v0.10.1 `{error:{message, type, code}}`; anything else (a proxy's HTML page) keeps the status.
 */
export function parseVllmError(status: number, bodyText: string): VllmError {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return { status, message: bodyText.trim().slice(0, 200) || `HTTP ${status}` };
  }
  const record = (body ?? {}) as Record<string, unknown>;
  const nested =
    record.error && typeof record.error === 'object' ? (record.error as Record<string, unknown>) : undefined;
  const source = nested ?? record;
  const message = typeof source.message === 'string' ? source.message : `HTTP ${status}`;
  const type = typeof source.type === 'string' ? source.type : undefined;
  return { status, message: message.slice(0, 500), type };
}

/** Extracts the answer from a 200 body; throws on a body that is not a chat completion. */
export function parseChatCompletion(bodyText: string): ChatCompletionAnswer {
  const body = JSON.parse(bodyText) as {
    choices?: Array<{ message?: { content?: unknown }; finish_reason?: string }>;
    usage?: { prompt_tokens?: number; completion_tokens?: number };
  };
  const choice = body.choices?.[0];
  if (!choice || !choice.message) throw new Error('chat completion has no choices[0].message');
  const content = choice.message.content;
  return {
    text: typeof content === 'string' ? content : '',
    finishReason: choice.finish_reason,
    usage:
      body.usage &&
      typeof body.usage.prompt_tokens === 'number' &&
      typeof body.usage.completion_tokens === 'number'
        ? { promptTokens: body.usage.prompt_tokens, completionTokens: body.usage.completion_tokens }
        : undefined,
  };
}

/**
 * vLLM answers that no request can cure, because the worker's settings and the server's disagree: the
 * API key (401; 403 from a proxy in front of it), the served model name (404: vLLM's
 * `serving_engine.py` `_check_model`), or the model's context (a prompt the budget made to fit
 * `max_model_len` that vLLM still finds too long). They are outages, retried like a 5xx.
 */
export type VllmConfigCause = 'unauthorized' | 'forbidden' | 'model-not-found' | 'context-length';

export const VLLM_CONFIG_CAUSES: readonly VllmConfigCause[] = [
  'unauthorized',
  'forbidden',
  'model-not-found',
  'context-length',
];

/**
 * vLLM's words for a prompt beyond the context (400), as of v0.11.0: with `--tokenizer-mode mistral`
 * the completion budget is cut to what the context leaves (`entrypoints/utils.py` `get_max_tokens`) and
 * a prompt that leaves nothing fails SamplingParams' check ("max_tokens must be at least 1, got -N.",
 * `sampling_params.py`); with a Hugging Face tokenizer `serving_engine.py` `_validate_input` says
 * "This model's maximum context length is …" (older versions too); the engine's own check
 * (`v1/engine/processor.py`) says "… is longer than the maximum model length of …".
 */
const CONTEXT_LENGTH =
  /maximum context length|maximum model length|max_tokens must be at least 1, got (?:-\d+|0)\b/i;

export function isContextLengthError(error: Pick<VllmError, 'status' | 'message'>): boolean {
  return error.status === 400 && CONTEXT_LENGTH.test(error.message);
}

/** What an error answer of vLLM means for the request: a configuration outage, an outage, or its own fault. */
export type VllmErrorClass =
  { kind: 'configuration'; cause: VllmConfigCause } | { kind: 'outage' } | { kind: 'rejected' };

export function classifyVllmError(error: VllmError, retryable: (status: number) => boolean): VllmErrorClass {
  if (error.status === 401) return { kind: 'configuration', cause: 'unauthorized' };
  if (error.status === 403) return { kind: 'configuration', cause: 'forbidden' };
  if (error.status === 404) return { kind: 'configuration', cause: 'model-not-found' };
  if (isContextLengthError(error)) return { kind: 'configuration', cause: 'context-length' };
  return retryable(error.status) ? { kind: 'outage' } : { kind: 'rejected' };
}

/**
 * The served model's entry in GET /v1/models (`{object: "list", data: [{id, max_model_len, …}]}`,
 * vLLM's `serving_models.py` `show_available_models`): whether it is served, and its context if the
 * server reports one. Throws on a body that is not a model list.
 */
export function parseModelList(bodyText: string, model: string): { served: boolean; maxModelLen?: number } {
  const body = JSON.parse(bodyText) as { data?: unknown };
  if (!Array.isArray(body.data)) throw new Error('the model list has no data array');
  const entry = (body.data as Array<{ id?: unknown; max_model_len?: unknown }>).find((m) => m?.id === model);
  if (!entry) return { served: false };
  const maxModelLen = entry.max_model_len;
  return typeof maxModelLen === 'number' && Number.isInteger(maxModelLen) && maxModelLen > 0
    ? { served: true, maxModelLen }
    : { served: true };
}
