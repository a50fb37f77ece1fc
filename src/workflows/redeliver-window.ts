/**
 * RedeliverWindowWorkflow (`feedback redeliver --since`): re-sends results the BE lost in an outage,
 * to the result queue. It first waits until the result queue has drained (two reads in a row with
 * nothing waiting, in flight or delayed): the BE is processing again and no original is still on its
 * way. Then it sends each result, one at a time, unless the BE's week has turned since its first
 * delivery (`notAfter`), when the BE would file it under the new week.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { FeedbackActivities } from '../activities';
import type { RedeliverWindowInput, RedeliverWindowOutcome } from '../domain/redeliver-window';
import { deliveryActivities } from './proxies';

const { resultQueueBacklog } = proxyActivities<Required<Pick<FeedbackActivities, 'resultQueueBacklog'>>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function RedeliverWindowWorkflow(input: RedeliverWindowInput): Promise<RedeliverWindowOutcome> {
  const outcome: RedeliverWindowOutcome = { delivered: [], weekTurned: [], failed: [] };
  const deadline = Math.max(...input.items.map((item) => Date.parse(item.notAfter)));
  // Counts are approximate: two empty reads a check apart.
  for (let empty = 0; empty < 2 && Date.now() < deadline;) {
    const backlog = await resultQueueBacklog();
    empty = backlog.visible + backlog.inFlight + backlog.delayed === 0 ? empty + 1 : 0;
    if (empty < 2) await sleep(input.drainCheckSeconds * 1000);
  }
  for (const item of input.items) {
    const requestId = item.result.requestId;
    const left = Date.parse(item.notAfter) - Date.now();
    if (left <= 0) {
      outcome.weekTurned.push(requestId);
      continue;
    }
    // Retried like any delivery, but never past the week turn.
    const delivery = deliveryActivities({
      ...input.policy,
      deliveryGiveUpAfterHours: Math.min(input.policy.deliveryGiveUpAfterHours, left / 3_600_000),
    });
    try {
      await delivery.deliverResult({
        channel: 'queue',
        result: item.result,
        idempotencyKey: item.deduplicationId,
        deduplicationId: item.deduplicationId,
      });
      outcome.delivered.push(requestId);
    } catch (err) {
      outcome.failed.push({ requestId, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return outcome;
}
