/**
 * FeedbackWorkflow's activities: thin, idempotent adapters with their clients injected
 * (`createActivities(deps)`); the worker passes real clients, tests pass fakes. Retries, timeouts and
 * backoff are Temporal's: nothing here loops.
 */
import { performance } from 'node:perf_hooks';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AppConfig } from '../config';
import { checkFeedback, type GuardrailVerdict } from '../domain/guardrail';
import { buildPromptMessages, promptText, type ChatMessage } from '../domain/prompt';
import { CALLBACK_PATH, type FeedbackResult } from '../domain/result';
import { FailureTypes, type DeliveryChannel } from '../domain/workflow';
import type { FeedbackRequest } from '../domain/request';
import { describeNetworkError, isRetryableStatus, joinUrl, postJson } from './http';
import { signatureHeaders } from '../shared/signing';
import {
  parseChatCompletion,
  parseVllmError,
  type ChatCompletionAnswer,
  type ChatCompletionRequest,
} from './vllm';

export interface ActivityDeps {
  vllm: AppConfig['vllm'];
  delivery: AppConfig['delivery'];
  resultQueueUrl?: string;
  promptTemplate?: string;
  sqs: SQSClient;
  /** Told the latency of every vLLM call that got an HTTP answer (the LLM concurrency controller's input). */
  onVllmAnswer?: (latencyMs: number) => void;
}

export interface DeliverInput {
  channel: DeliveryChannel;
  result: FeedbackResult;
  /** The workflow id: the BE (or its proxy) de-duplicates repeated callbacks with it. */
  idempotencyKey: string;
  /**
   * The result-queue message's deduplication id, unique to the run (its run id): retries of one
   * delivery deduplicate, while a new run's result is never swallowed by an earlier run's.
   */
  deduplicationId: string;
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

export function createActivities(deps: ActivityDeps) {
  return {
    /**
     * Builds the prompt, asks vLLM and checks the answer with the guardrail. A rejected answer is a
     * verdict, not an error: the workflow decides whether to regenerate.
     */
    generateCheckedFeedback: checkedGeneration(deps.promptTemplate, (messages) => callVllm(deps, messages)),

    async deliverResult(input: DeliverInput): Promise<void> {
      if (input.channel === 'callback') await deliverByCallback(deps, input);
      else await deliverToResultQueue(deps, input.result, input.deduplicationId);
    },
  };
}

export type FeedbackActivities = ReturnType<typeof createActivities>;

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

async function callVllm(deps: ActivityDeps, messages: ChatMessage[]): Promise<ChatCompletionAnswer> {
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

async function deliverByCallback(deps: ActivityDeps, input: DeliverInput): Promise<void> {
  const base = deps.delivery.callbackBaseUrl;
  if (!base) {
    throw ApplicationFailure.nonRetryable(
      'BE_CALLBACK_BASE_URL is not configured',
      FailureTypes.DeliveryRejected,
    );
  }
  const headers: Record<string, string> = { 'idempotency-key': input.idempotencyKey };
  if (deps.delivery.callbackAuthorization) headers.authorization = deps.delivery.callbackAuthorization;
  const url = joinUrl(base, CALLBACK_PATH);
  // Every answer of the BE by status (4xx other than 409 are rejections an operator must look at).
  const responses = Context.current().metricMeter.createCounter(
    'feedback_callback_responses',
    undefined,
    'Result callbacks by the BE\'s HTTP status ("network": no answer).',
  );
  let response;
  try {
    const secret = deps.delivery.callbackSigningSecret;
    response = await postJson(url, input.result, {
      headers,
      sign: secret ? (body) => signatureHeaders(secret, body) : undefined,
      signal: Context.current().cancellationSignal,
      timeoutMs: Context.current().info.startToCloseTimeoutMs || undefined,
    });
  } catch (err) {
    if (!Context.current().cancellationSignal.aborted) responses.add(1, { status: 'network' });
    throw ApplicationFailure.retryable(
      `callback unreachable: ${describeNetworkError(err)}`,
      FailureTypes.DeliveryUnavailable,
    );
  }
  responses.add(1, { status: String(response.status) });
  // 409: the BE has this member's week stored already (an earlier attempt of ours went through).
  if ((response.status >= 200 && response.status < 300) || response.status === 409) return;
  const message = `callback answered ${response.status}: ${response.text.slice(0, 200)}`;
  // The BE answers 404 for an unknown member and for any unexpected exception alike, so a 404 may
  // heal: it is retried with backoff until the delivery gives up.
  if (isRetryableStatus(response.status) || response.status === 404) {
    throw ApplicationFailure.create({
      message,
      type: FailureTypes.DeliveryUnavailable,
      details: [response.status],
    });
  }
  throw ApplicationFailure.create({
    message,
    type: FailureTypes.DeliveryRejected,
    nonRetryable: true,
    details: [response.status],
  });
}

async function deliverToResultQueue(
  deps: ActivityDeps,
  result: FeedbackResult,
  deduplicationId: string,
): Promise<void> {
  if (!deps.resultQueueUrl) {
    throw ApplicationFailure.nonRetryable(
      'AWS_SQS_FEEDBACK_RESULT_QUEUE_URL is not configured',
      FailureTypes.DeliveryRejected,
    );
  }
  // FIFO: group per member keeps one member's results in order; the run's id de-duplicates retries.
  await deps.sqs.send(
    new SendMessageCommand({
      QueueUrl: deps.resultQueueUrl,
      MessageBody: JSON.stringify(result),
      MessageGroupId: String(result.memberId),
      MessageDeduplicationId: deduplicationId,
    }),
  );
}
