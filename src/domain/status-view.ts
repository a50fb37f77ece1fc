/**
 * The status view's schema, apart from the Temporal lookup (status.ts): the API's OpenAPI document
 * needs it without loading the Temporal client.
 */
import { z } from 'zod';
import { FEEDBACK_STAGES } from './workflow';

/**
 * What the status API and `feedback status` show; optional fields are absent when unknown. A zod
 * schema so that the OpenAPI document is generated from it (src/api/openapi.ts).
 */
export const feedbackStatusViewSchema = z
  .object({
    requestId: z.string(),
    workflowId: z.string(),
    stage: z.enum(FEEDBACK_STAGES),
    workflowStatus: z.string().meta({
      description:
        "Temporal's execution status (RUNNING, COMPLETED, FAILED, …), or NOT_STARTED while queued.",
    }),
    attempts: z
      .object({
        generations: z
          .number()
          .int()
          .optional()
          .meta({ description: 'Generations that reached the guardrail.' }),
        current: z
          .object({ activity: z.string(), attempt: z.number().int() })
          .optional()
          .meta({ description: 'The activity in progress and its attempt number.' }),
      })
      .meta({ description: 'Attempts so far.' }),
    lastError: z.string().optional(),
    holdUntil: z.string().optional().meta({
      description:
        "While `holding`: when the failure result goes to the result queue (after the BE's deduplication window).",
    }),
    content: z
      .string()
      .optional()
      .meta({ description: 'The content delivered to the BE ("500" after a terminal generation failure).' }),
    memberId: z.number().int().optional(),
    tokens: z
      .object({ prompt: z.number().int(), completion: z.number().int() })
      .optional()
      .meta({ description: "Tokens vLLM reported for the run's generations (set when generation ends)." }),
    summary: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: "The run's memo: a request summary." }),
    runId: z.string().optional(),
    startedAt: z.string().optional(),
    closedAt: z.string().optional(),
    acceptedAt: z
      .string()
      .optional()
      .meta({ description: 'When the API accepted a request that is still queued.' }),
    webUiUrl: z.string().optional().meta({ description: 'The run in the Temporal Web UI.' }),
  })
  .meta({ title: 'FeedbackStatus' });
export type FeedbackStatusView = z.infer<typeof feedbackStatusViewSchema>;
