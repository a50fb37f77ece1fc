/**
 * How a FeedbackWorkflow run is started, shared by the bridge (every request) and the operator CLI
 * (`feedback retry`): workflow id, reuse policy, search attributes and memo.
 */
import type { Client } from '@temporalio/client';
import type { PrioritySettings } from '../config';
import { WorkflowIdConflictPolicy, type WorkflowIdReusePolicy } from '@temporalio/common';
import { workflowIdFor } from '../domain/keys';
import { DEFAULT_PROMPT_VERSION } from '../domain/prompt';
import {
  CompletionTokensSearchAttribute,
  FEEDBACK_WORKFLOW_TYPE,
  PromptTokensSearchAttribute,
  FeedbackSourceSearchAttribute,
  FeedbackStageSearchAttribute,
  MemberIdSearchAttribute,
  PromptVersionSearchAttribute,
  RequestSignatureSearchAttribute,
  type FeedbackMemo,
  type FeedbackWorkflowInput,
} from '../domain/workflow';

export interface FeedbackStartOptions {
  taskQueue: string;
  /** Default: DEFAULT_PROMPT_VERSION. */
  promptVersion?: string;
  /** Set search attributes (they must be registered on the namespace). Default true. */
  searchAttributes?: boolean;
  /**
   * Temporal priority keys by source (1 first … 5 last; the run's activities inherit it), and whether
   * the member id is the fairness key. Default: the server's (3, no fairness key).
   */
  priority?: PrioritySettings;
  /**
   * Whether a closed run's id may start again: the bridge rejects every duplicate (one message, one
   * run); an operator's `feedback retry` of a failed run allows it. The conflict policy with an open
   * run is always FAIL.
   */
  reusePolicy: WorkflowIdReusePolicy;
}

/**
 * Starts the run for `input.requestId`. Throws WorkflowExecutionAlreadyStartedError when a run is open,
 * or closed and `settings.reusePolicy` does not allow another.
 */
export async function startFeedbackWorkflow(
  client: Client,
  input: FeedbackWorkflowInput,
  settings: FeedbackStartOptions,
): Promise<{ workflowId: string; runId: string }> {
  const promptVersion = settings.promptVersion ?? DEFAULT_PROMPT_VERSION;
  const { request } = input;
  const workflowId = workflowIdFor(input.requestId);
  const handle = await client.workflow.start(FEEDBACK_WORKFLOW_TYPE, {
    taskQueue: settings.taskQueue,
    workflowId,
    args: [input],
    workflowIdReusePolicy: settings.reusePolicy,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    ...(settings.priority
      ? {
          priority: {
            priorityKey: settings.priority[input.source],
            ...(settings.priority.fairness ? { fairnessKey: `member-${request.memberId}` } : {}),
          },
        }
      : {}),
    ...(settings.searchAttributes === false
      ? {}
      : {
          typedSearchAttributes: [
            { key: MemberIdSearchAttribute, value: request.memberId },
            { key: FeedbackStageSearchAttribute, value: 'queued' },
            { key: FeedbackSourceSearchAttribute, value: input.source },
            { key: PromptVersionSearchAttribute, value: promptVersion },
            // A BE queue message's signature: its earlier failures make the failure hold grow.
            ...(input.signature === undefined
              ? []
              : [{ key: RequestSignatureSearchAttribute, value: input.signature }]),
            // Set by the run when generation ends; present from the start so that the run can tell
            // they are registered (and a namespace without them fails the start, not the run).
            { key: PromptTokensSearchAttribute, value: 0 },
            { key: CompletionTokensSearchAttribute, value: 0 },
          ],
        }),
    memo: {
      memberId: request.memberId,
      source: input.source,
      requestedAt: input.requestedAt,
      personalChallenges: request.personalChallenges.length,
      groupChallenges: request.groupChallenges.length,
      promptVersion,
    } satisfies FeedbackMemo,
  });
  return { workflowId, runId: handle.firstExecutionRunId };
}
