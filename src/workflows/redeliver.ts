/**
 * RedeliverWorkflow: sends a stored result to the BE again (`feedback redeliver`), with the same
 * delivery activity, timeouts and retries as FeedbackWorkflow. Its own workflow id
 * (`redeliver-<requestId>-<time>`), idempotency key and deduplication id, so the BE can tell it from
 * the first delivery. A failure result waits for the same hold as the first run's.
 */
import { sleep } from '@temporalio/workflow';
import type { RedeliverInput } from '../domain/workflow';
import type { DeliveryChannel } from '../domain/policy';
import { deliveryActivities } from './proxies';

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
