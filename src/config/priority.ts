/** The order in which waiting runs get their turn: Temporal priority keys by source, fairness per member. */
import { z } from 'zod';
import { int, optionalBool } from './fields';

export const prioritySection = z
  .object({
    /** Temporal priority keys (1 = first, 5 = last) of requests from the HTTP API and from the BE's queue. */
    FEEDBACK_PRIORITY_API: int(1, 5).default(1),
    FEEDBACK_PRIORITY_QUEUE: int(1, 5).default(3),
    /** Fairness key per member within a priority (needs matching.enableFairness on the server). */
    FEEDBACK_FAIRNESS: optionalBool,
  })
  .transform((env) => ({
    api: env.FEEDBACK_PRIORITY_API,
    queue: env.FEEDBACK_PRIORITY_QUEUE,
    fairness: env.FEEDBACK_FAIRNESS ?? true,
  }));
export type PrioritySettings = z.output<typeof prioritySection>;
