/**
 * What the queue-reading baselines share with each other and with our service: the configuration
 * (the same environment variables), the prompt builder, the vLLM request body and the callback.
 * Only the orchestration around these calls differs between the systems being compared.
 */
import type { ChatCompletionRequest } from '../../src/activities/vllm';
import { parseChatCompletion } from '../../src/activities/vllm';
import { loadConfig, type AppConfig } from '../../src/config';
import { CALLBACK_PATH } from '../../src/domain/result';
import { fromEpochMillis } from '../../src/domain/datetime';
import { buildPromptMessages } from '../../src/domain/prompt';
import { parseFeedbackRequestBody } from '../../src/domain/request';
import type { FeedbackResult } from '../../src/domain/result';
import { joinUrl, postJson } from '../../src/activities/http';

export function loadBaselineConfig(): AppConfig {
  return loadConfig(process.env, ['requestQueue', 'delivery']);
}

/**
 * One message, end to end: parse the body, build the prompt, ask vLLM, POST the result to the
 * callback. Throws on anything that did not end in an accepted callback (the message stays queued).
 */
export async function processBody(config: AppConfig, body: string, messageId: string): Promise<void> {
  const parsed = parseFeedbackRequestBody(body);
  if (!parsed.ok) throw new Error(`invalid request: ${parsed.errors.map((e) => e.message).join('; ')}`);
  const request = parsed.value;
  const timestamp = request.timestamp ?? fromEpochMillis(Date.now());
  const content = await generate(config, buildPromptMessages(request, config.prompt.template));
  const result: FeedbackResult = {
    memberId: request.memberId,
    content,
    requestId: request.requestId ?? messageId,
    status: 'success',
    timestamp,
  };
  await deliver(config, result);
}

async function generate(config: AppConfig, messages: ChatCompletionRequest['messages']): Promise<string> {
  const body: ChatCompletionRequest = {
    model: config.vllm.model,
    messages,
    temperature: config.vllm.temperature,
    max_tokens: config.vllm.maxTokens,
    stream: false,
  };
  const response = await postJson(config.vllm.chatCompletionsUrl, body, {
    timeoutMs: config.policy.generateTimeoutSeconds * 1000,
  });
  if (response.status !== 200) throw new Error(`vLLM answered ${response.status}`);
  return parseChatCompletion(response.text).text;
}

async function deliver(config: AppConfig, result: FeedbackResult): Promise<void> {
  const base = config.delivery.callbackBaseUrl as string;
  const headers: Record<string, string> = {};
  if (config.delivery.callbackAuthorization) headers.authorization = config.delivery.callbackAuthorization;
  const response = await postJson(joinUrl(base, CALLBACK_PATH), result, {
    headers,
    timeoutMs: config.policy.deliveryTimeoutSeconds * 1000,
  });
  if (response.status < 200 || response.status >= 300)
    throw new Error(`callback answered ${response.status}`);
}

/** Resolves on the first SIGTERM or SIGINT, keeping the process alive until then. */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => undefined, 60_000);
    const done = (signal: NodeJS.Signals) => {
      clearInterval(keepAlive);
      resolve(signal);
    };
    process.once('SIGTERM', () => done('SIGTERM'));
    process.once('SIGINT', () => done('SIGINT'));
  });
}
