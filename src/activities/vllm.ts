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
