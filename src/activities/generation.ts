/**
 * generateCheckedFeedback: builds the prompt, asks vLLM (OpenAI-compatible chat completions) and checks
 * the answer with the guardrail. A rejected answer is a verdict, not an error: the workflow decides
 * whether to regenerate.
 */
import { performance } from 'node:perf_hooks';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AppConfig } from '../config';
import { checkFeedback, type GuardrailVerdict } from '../domain/guardrail';
import { buildPromptMessages, promptText, type ChatMessage } from '../domain/prompt';
import type { FeedbackRequest } from '../domain/request';
import { FailureTypes } from '../domain/workflow';
import { describeNetworkError, isRetryableStatus, postJson } from './http';
import {
  parseChatCompletion,
  parseVllmError,
  type ChatCompletionAnswer,
  type ChatCompletionRequest,
} from './vllm';

export interface GenerationDeps {
  vllm: AppConfig['vllm'];
  promptTemplate?: string;
  /** Told the latency of every vLLM call that got an HTTP answer (the LLM concurrency controller's input). */
  onVllmAnswer?: (latencyMs: number) => void;
}

/**
 * What generateCheckedFeedback is given: the request, not the prompt (the activity builds it, so no
 * prompt text goes into the run's history).
 */
export interface CheckedGenerateInput {
  request: Pick<FeedbackRequest, 'personalChallenges' | 'groupChallenges'>;
  /** The guardrail's length bound (FeedbackPolicy.maxFeedbackChars). */
  maxChars: number;
}

/** vLLM's answer with the guardrail's verdict on it. */
export interface CheckedFeedback extends ChatCompletionAnswer {
  verdict: GuardrailVerdict;
}

/**
 * generateCheckedFeedback over a way to get the model's answer to the prompt (vLLM in the worker; a
 * script in tests and in the history recorder).
 */
export function checkedGeneration(
  promptTemplate: string | undefined,
  complete: (messages: ChatMessage[]) => Promise<ChatCompletionAnswer>,
): (input: CheckedGenerateInput) => Promise<CheckedFeedback> {
  return async (input) => {
    const messages = buildPromptMessages(input.request, promptTemplate);
    const answer = await complete(messages);
    return { ...answer, verdict: checkFeedback(answer.text, promptText(messages), input.maxChars) };
  };
}

/** generateCheckedFeedback against vLLM. */
export function generateCheckedFeedback(deps: GenerationDeps) {
  return checkedGeneration(deps.promptTemplate, (messages) => callVllm(deps, messages));
}

/** Heartbeats while `work` runs, so a dead worker is noticed after the heartbeat timeout. */
async function withHeartbeats<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const everyMs = Math.max(200, Math.floor((ctx.info.heartbeatTimeoutMs || 30_000) / 3));
  ctx.heartbeat();
  const timer = setInterval(() => ctx.heartbeat(), everyMs);
  try {
    return await work(ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}

async function callVllm(deps: GenerationDeps, messages: ChatMessage[]): Promise<ChatCompletionAnswer> {
  const body: ChatCompletionRequest = {
    model: deps.vllm.model,
    messages,
    temperature: deps.vllm.temperature,
    max_tokens: deps.vllm.maxTokens,
    stream: false,
  };
  const headers: Record<string, string> = deps.vllm.apiKey
    ? { authorization: `Bearer ${deps.vllm.apiKey}` }
    : {};
  const context = Context.current();
  const timeoutMs = context.info.startToCloseTimeoutMs || undefined;
  const started = performance.now();
  const latency = context.metricMeter.createHistogram(
    'feedback_vllm_request_duration',
    'int',
    'milliseconds',
    'vLLM chat-completion calls: time to the answer, by HTTP status (or "network").',
  );
  const response = await withHeartbeats(async (signal) => {
    try {
      // The abort (activity cancelled or timed out) closes the connection, which makes vLLM stop generating.
      return await postJson(deps.vllm.chatCompletionsUrl, body, {
        headers,
        signal,
        timeoutMs,
      });
    } catch (err) {
      if (!signal.aborted) latency.record(Math.round(performance.now() - started), { status: 'network' });
      throw ApplicationFailure.retryable(
        `vLLM unreachable: ${describeNetworkError(err)}`,
        FailureTypes.VllmUnavailable,
      );
    }
  });
  const elapsedMs = Math.round(performance.now() - started);
  latency.record(elapsedMs, { status: String(response.status) });
  deps.onVllmAnswer?.(elapsedMs);
  if (response.status === 200) {
    let answer: ChatCompletionAnswer;
    try {
      answer = parseChatCompletion(response.text);
    } catch (err) {
      throw ApplicationFailure.retryable(
        `vLLM sent an unreadable answer: ${(err as Error).message}`,
        FailureTypes.VllmUnavailable,
      );
    }
    if (answer.usage) {
      const tokens = context.metricMeter.createCounter(
        'feedback_llm_tokens',
        undefined,
        'Tokens vLLM reported (usage), by kind: prompt or completion.',
      );
      tokens.add(answer.usage.promptTokens, { kind: 'prompt' });
      tokens.add(answer.usage.completionTokens, { kind: 'completion' });
    }
    return answer;
  }
  const error = parseVllmError(response.status, response.text);
  const message = `vLLM answered ${error.status}: ${error.message}`;
  if (isRetryableStatus(response.status)) {
    throw ApplicationFailure.create({ message, type: FailureTypes.VllmUnavailable, details: [error.status] });
  }
  throw ApplicationFailure.create({
    message,
    type: FailureTypes.VllmRejected,
    nonRetryable: true,
    details: [error.status],
  });
}
