/**
 * RedeliverWorkflow: sends a stored result to the BE again (`feedback redeliver`), with the same
 * delivery activity, timeouts and retries as FeedbackWorkflow. Its own workflow id
 * (`redeliver-<requestId>-<time>`), idempotency key and deduplication id, so the BE can tell it from
 * the first delivery. A failure result waits for the same hold as the first run's.
 */
import type { FeedbackPolicy } from '../domain/policy';
import type { FeedbackResult } from '../domain/result';
import type { DeliveryChannel } from '../domain/workflow';
import { sleep } from '@temporalio/workflow';
import { deliveryActivities } from './feedback';

export interface RedeliverInput {
  result: FeedbackResult;
  channels: DeliveryChannel[];
  /** Idempotency-Key of the callback and deduplication id of the result-queue message. */
  idempotencyKey: string;
  policy: Pick<
    FeedbackPolicy,
    'deliveryTimeoutSeconds' | 'deliveryGiveUpAfterHours' | 'deliveryRetryMaxIntervalSeconds'
  >;
  /** Not sent before this time (canonical ISO): the failure hold of the request (failureHoldUntil). */
  notBefore?: string;
}

export async function RedeliverWorkflow(input: RedeliverInput): Promise<{ deliveredTo: DeliveryChannel[] }> {
  const notBefore = input.notBefore === undefined ? NaN : Date.parse(input.notBefore);
  if (Number.isFinite(notBefore) && notBefore > Date.now()) await sleep(notBefore - Date.now());
  const delivery = deliveryActivities(input.policy);
  await Promise.all(
    input.channels.map((channel) =>
      delivery.deliverResult({
        channel,
        result: input.result,
        idempotencyKey: input.idempotencyKey,
        deduplicationId: input.idempotencyKey,
      }),
    ),
  );
  return { deliveredTo: input.channels };
}
