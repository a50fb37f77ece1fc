/**
 * RedeliverWorkflow: sends a stored result to the BE again (`feedback redeliver`), with the same
 * delivery activity, timeouts and retries as FeedbackWorkflow. Its own workflow id
 * (`redeliver-<requestId>-<time>`) and idempotency key, so the BE can tell it from the first delivery.
 */
import type { FeedbackPolicy } from '../domain/policy';
import type { FeedbackResult } from '../domain/result';
import type { DeliveryChannel } from '../domain/workflow';
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
}

export async function RedeliverWorkflow(input: RedeliverInput): Promise<{ deliveredTo: DeliveryChannel[] }> {
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
