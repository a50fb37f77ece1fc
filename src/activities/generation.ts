/**
 * generateCheckedFeedback: builds the prompt, asks vLLM (OpenAI-compatible chat completions) and checks
 * the answer with the guardrail. A rejected answer is a verdict, not an error: the workflow decides
 * whether to regenerate.
 */
import { performance } from 'node:perf_hooks';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AppConfig } from '../config';
import { checkFeedback, type GuardrailVerdict } from '../domain/guardrail';
import {
  buildPromptMessages,
  fitPrompt,
  promptText,
  PromptBudgetError,
  type ChatMessage,
} from '../domain/prompt';
import type { FeedbackRequest } from '../domain/request';
import { FailureTypes } from '../domain/workflow';
import { countTokens, USER_MESSAGE_TEMPLATE_TOKENS } from '../shared/mistral-tokenizer';
import { describeNetworkError, isRetryableStatus, postJson } from './http';
import {
  classifyVllmError,
  parseChatCompletion,
  parseVllmError,
  type ChatCompletionAnswer,
  type ChatCompletionRequest,
  type VllmConfigCause,
} from './vllm';
import { ModelContextError, VllmModelContext, type ModelContext, type VllmConfigStatus } from './vllm-config';

export interface GenerationDeps {
  vllm: AppConfig['vllm'];
  promptTemplate?: string;
  /** Told the latency of every vLLM call that got an HTTP answer (the LLM concurrency controller's input). */
  onVllmAnswer?: (latencyMs: number) => void;
  /** The model's context that bounds the prompt; default: VLLM_MAX_MODEL_LEN or vLLM's GET /v1/models. */
  modelContext?: ModelContext;
  /** Told of configuration errors and of answered calls (the worker's /ready). */
  configStatus?: VllmConfigStatus;
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

/** How generation turns a request into the prompt's messages. */
export type PromptBuilder = (request: CheckedGenerateInput['request']) => Promise<ChatMessage[]>;

/**
 * generateCheckedFeedback over a way to get the model's answer to the prompt (vLLM in the worker; a
 * script in tests and in the history recorder) and, in the worker, the prompt fitted to the model's
 * context (without: the whole prompt).
 */
export function checkedGeneration(
  promptTemplate: string | undefined,
  complete: (messages: ChatMessage[]) => Promise<ChatCompletionAnswer>,
  prompt: PromptBuilder = async (request) => buildPromptMessages(request, promptTemplate),
): (input: CheckedGenerateInput) => Promise<CheckedFeedback> {
  return async (input) => {
    const messages = await prompt(input.request);
    const answer = await complete(messages);
    return { ...answer, verdict: checkFeedback(answer.text, promptText(messages), input.maxChars) };
  };
}

/** generateCheckedFeedback against vLLM, its prompt fitted to the model's context. */
export function generateCheckedFeedback(deps: GenerationDeps) {
  const withContext = { ...deps, modelContext: deps.modelContext ?? new VllmModelContext(deps.vllm) };
  return checkedGeneration(
    deps.promptTemplate,
    (messages) => callVllm(withContext, messages),
    (request) => fittedPrompt(withContext, request),
  );
}

/**
 * The prompt fitted to `max_model_len − VLLM_MAX_TOKENS − the chat template's tokens`, counted with
 * Mistral's tokenizer as vLLM counts it, so that vLLM never finds a request too long.
 */
async function fittedPrompt(
  deps: GenerationDeps & { modelContext: ModelContext },
  request: CheckedGenerateInput['request'],
): Promise<ChatMessage[]> {
  let maxModelLen: number;
  try {
    maxModelLen = await withHeartbeats(() => deps.modelContext.maxModelLen());
  } catch (err) {
    if (!(err instanceof ModelContextError)) throw err;
    if (err.kind === 'configuration' && err.configCause) {
      throw configurationFailure(deps, err.configCause, err.message, err.status);
    }
    throw ApplicationFailure.create({
      message: err.message,
      type: FailureTypes.VllmUnavailable,
      details: err.status === undefined ? [] : [err.status],
    });
  }
  const maxTokens = maxModelLen - deps.vllm.maxTokens - USER_MESSAGE_TEMPLATE_TOKENS;
  try {
    const fitted = fitPrompt(request, deps.promptTemplate, { maxTokens, countTokens });
    if (fitted.personal.summarised + fitted.group.summarised > 0) {
      Context.current().log.info('Prompt fitted to the model context', {
        ...(fitted.tokens === undefined
          ? {}
          : { promptTokens: fitted.tokens + USER_MESSAGE_TEMPLATE_TOKENS }),
        maxModelLen,
        personal: fitted.personal,
        group: fitted.group,
      });
    }
    return fitted.messages;
  } catch (err) {
    if (!(err instanceof PromptBudgetError)) throw err;
    const message =
      `max_model_len ${maxModelLen} leaves ${maxTokens} tokens for the prompt beside VLLM_MAX_TOKENS ` +
      `${deps.vllm.maxTokens}; with every challenge summarised it takes ${err.needed}: raise ` +
      "vLLM's --max-model-len (or VLLM_MAX_MODEL_LEN) or lower VLLM_MAX_TOKENS";
    throw configurationFailure(deps, 'context-length', message);
  }
}

/**
 * A configuration vLLM refuses: counted by cause, reported to /ready, and thrown as a retryable failure
 * (VllmMisconfigured), so that the run waits like in an outage until the configuration is fixed.
 */
function configurationFailure(
  deps: Pick<GenerationDeps, 'configStatus'>,
  cause: VllmConfigCause,
  message: string,
  status?: number,
): ApplicationFailure {
  Context.current()
    .metricMeter.createCounter(
      'feedback_vllm_config_errors',
      undefined,
      "vLLM's answers that refuse the worker's configuration, by cause (unauthorized, forbidden, model-not-found, context-length).",
    )
    .add(1, { cause });
  deps.configStatus?.failed(cause, message);
  return ApplicationFailure.create({
    message: `vLLM configuration error (${cause}): ${message}`,
    type: FailureTypes.VllmMisconfigured,
    details: [status ?? null, cause],
  });
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

async function callVllm(
  deps: GenerationDeps & { modelContext: ModelContext },
  messages: ChatMessage[],
): Promise<ChatCompletionAnswer> {
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
    deps.configStatus?.answered();
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
  const meaning = classifyVllmError(error, isRetryableStatus);
  switch (meaning.kind) {
    case 'configuration':
      // The prompt was fitted to the context we knew: vLLM's differs (restarted with another
      // --max-model-len, or VLLM_MAX_MODEL_LEN is wrong). The retry reads it again.
      if (meaning.cause === 'context-length') deps.modelContext.forget();
      throw configurationFailure(deps, meaning.cause, message, error.status);
    case 'outage':
      throw ApplicationFailure.create({
        message,
        type: FailureTypes.VllmUnavailable,
        details: [error.status],
      });
    case 'rejected':
      throw ApplicationFailure.create({
        message,
        type: FailureTypes.VllmRejected,
        nonRetryable: true,
        details: [error.status],
      });
  }
}
