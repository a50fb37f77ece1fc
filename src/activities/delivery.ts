/**
 * deliverResult: hands a result to the BE, by its callback (signed when a secret is set) or on its
 * FIFO result queue. Idempotent: the callback carries the run's idempotency key, the queue message
 * its deduplication id.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AppConfig } from '../config';
import { CALLBACK_PATH, type FeedbackResult } from '../domain/result';
import { FailureTypes } from '../domain/workflow';
import type { DeliveryChannel } from '../domain/policy';
import { signatureHeaders } from '../shared/signing';
import { describeNetworkError, isRetryableStatus, joinUrl, postJson } from './http';

export interface DeliveryDeps {
  delivery: AppConfig['delivery'];
  resultQueueUrl?: string;
  sqs: SQSClient;
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

export function deliverResult(deps: DeliveryDeps) {
  return async (input: DeliverInput): Promise<void> => {
    if (input.channel === 'callback') await deliverByCallback(deps, input);
    else await deliverToResultQueue(deps, input.result, input.deduplicationId);
  };
}

async function deliverByCallback(deps: DeliveryDeps, input: DeliverInput): Promise<void> {
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
  deps: DeliveryDeps,
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
