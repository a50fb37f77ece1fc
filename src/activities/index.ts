/**
 * FeedbackWorkflow's activities: thin, idempotent adapters with their clients injected
 * (`createActivities(deps)`); the worker passes real clients, tests pass fakes. Retries, timeouts and
 * backoff are Temporal's: nothing here loops. Generation (generation.ts) runs on the LLM task queue,
 * delivery (delivery.ts) and the count of a request's earlier failures (repeats.ts) on the workflows' own.
 */
import { deliverResult, type DeliveryDeps } from './delivery';
import { generateCheckedFeedback, type GenerationDeps } from './generation';
import { resultQueueBacklog } from './result-queue';
import { countEarlierFailuresActivity, type RepeatsDeps } from './repeats';

export type { DeliverInput } from './delivery';
export type { ResultQueueBacklog } from './result-queue';
export { checkedGeneration, type CheckedFeedback, type CheckedGenerateInput } from './generation';

export type { CountFailuresInput } from './repeats';

export type ActivityDeps = GenerationDeps & DeliveryDeps & RepeatsDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    generateCheckedFeedback: generateCheckedFeedback(deps),
    deliverResult: deliverResult(deps),
    resultQueueBacklog: resultQueueBacklog(deps),
    countEarlierFailures: countEarlierFailuresActivity(deps),
  };
}

type AllActivities = ReturnType<typeof createActivities>;
/**
 * The activities the worker registers. resultQueueBacklog is only RedeliverWindowWorkflow's: optional,
 * so that a fake of the feedback path (tests, recorded histories) needs none.
 */
export type FeedbackActivities = Omit<AllActivities, 'resultQueueBacklog'> &
  Partial<Pick<AllActivities, 'resultQueueBacklog'>>;
