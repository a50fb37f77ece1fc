/**
 * What the bridge, the worker, the API and operators share about the workflows: FeedbackWorkflow's
 * name, input, outcome, failure details, query and search attributes, and RedeliverWorkflow's name
 * and input (their ids: keys.ts). Safe to import from workflow code.
 */
import { defineQuery } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { DeliveryChannel, DeliveryPolicy, FeedbackPolicy } from './policy';
import type { FeedbackResult } from './result';
import type { FeedbackRequest } from './request';

export const FEEDBACK_WORKFLOW_TYPE = 'FeedbackWorkflow';

export type RequestSource = 'api' | 'queue';

export interface FeedbackWorkflowInput {
  /**
   * The request id: our API's requestId, or `<memberId>-<SQS MessageId>` for a message the BE put on
   * the queue itself (keys.ts); also the result's requestId.
   */
  requestId: string;
  /** The validated request, dates in canonical form. */
  request: Omit<FeedbackRequest, 'requestId' | 'timestamp'>;
  /** When the request was made (canonical ISO): the API's timestamp, else the message's send time. */
  requestedAt: string;
  source: RequestSource;
  policy: FeedbackPolicy;
  /**
   * When the request reached us (canonical ISO): the message's SentTimestamp, or the time of an
   * operator's retry. The request's age for expiry counts from here.
   */
  acceptedAt: string;
  /**
   * When the message was sent to the request queue (its SentTimestamp, canonical ISO); a retry keeps
   * it. SQS deduplicates the BE's re-publish of the same body within 5 minutes of this, so a failure
   * result of a queue request is held until `sentAt + policy.failureHoldSeconds`.
   */
  sentAt: string;
  /**
   * The request's signature, for a message the BE put on the queue: its `MessageDeduplicationId`
   * (`<memberId>-sha256hex(body)`), the same for every re-request of the same body. Its earlier
   * failures make the failure hold grow (hold.ts). Absent for API requests; a retry keeps it.
   */
  signature?: string;
}

/** The failure hold (sentAt + failureHoldSeconds, growing with the request's earlier failures): hold.ts. */
export { failureHoldUntil } from './hold';

export const FEEDBACK_STAGES = [
  'queued',
  'generating',
  'delivering',
  /** Generation failed for good; the failure result waits for the BE's deduplication window to pass. */
  'holding',
  'delivered',
  'failed',
  'expired',
] as const;
export type FeedbackStage = (typeof FEEDBACK_STAGES)[number];

export interface FeedbackStatus {
  stage: FeedbackStage;
  /** While `holding`: when the failure result is sent (canonical ISO). */
  holdUntil?: string;
  /** Generation attempts that reached the guardrail (regenerations included). */
  generations: number;
  lastError?: string;
  content?: string;
  /** Tokens vLLM reported for this run's generations (regenerations included). */
  tokens?: TokenUsage;
}

export interface TokenUsage {
  prompt: number;
  completion: number;
}

export interface FeedbackOutcome {
  requestId: string;
  memberId: number;
  status: 'success' | 'error';
  content: string;
  generations: number;
  deliveredTo: DeliveryChannel[];
  error?: string;
  tokens?: TokenUsage;
}

export const statusQuery = defineQuery<FeedbackStatus>('status');

const keyword = (name: string) => defineSearchAttributeKey(name, SearchAttributeType.KEYWORD);
const int = (name: string) => defineSearchAttributeKey(name, SearchAttributeType.INT);

export const MemberIdSearchAttribute = int('MemberId');
/**
 * The run's stage while it runs, then `failed` or `expired` if it fails. `delivered` is never upserted:
 * a completed run (`ExecutionStatus = 'Completed'`) delivered, and keeps `delivering`.
 */
export const FeedbackStageSearchAttribute = keyword('FeedbackStage');
export const FeedbackSourceSearchAttribute = keyword('FeedbackSource');
/** The prompt template's version (`FEEDBACK_PROMPT_VERSION`, or derived from the template). */
export const PromptVersionSearchAttribute = keyword('PromptVersion');

/**
 * The request's signature (FeedbackWorkflowInput.signature), set at start for a BE queue message: the
 * runs of one request and its re-requests share it. Keyword: the Int slots are all used.
 */
export const RequestSignatureSearchAttribute = keyword('RequestSignature');

/** Tokens vLLM reported for the run (prompt and completion), set when generation ends. */
export const PromptTokensSearchAttribute = int('PromptTokens');
export const CompletionTokensSearchAttribute = int('CompletionTokens');

/** Every search attribute the bridge and the workflow set; each must be registered on the namespace. */
export const FEEDBACK_SEARCH_ATTRIBUTES = [
  MemberIdSearchAttribute,
  FeedbackStageSearchAttribute,
  FeedbackSourceSearchAttribute,
  PromptVersionSearchAttribute,
  RequestSignatureSearchAttribute,
  PromptTokensSearchAttribute,
  CompletionTokensSearchAttribute,
] as const;

/** The memo the bridge attaches to each run: a summary of the request, shown in the Web UI. */
export interface FeedbackMemo {
  memberId: number;
  source: RequestSource;
  requestedAt: string;
  personalChallenges: number;
  groupChallenges: number;
  promptVersion: string;
}

/**
 * The first detail of a run's own failure (its ApplicationFailure): why it failed and, when the BE was
 * sent a status code before the run failed, which (`"500"`, `"408"`).
 */
export interface RunFailureDetails {
  reason: string;
  content?: string;
}

/** Failure types the activities raise; the workflow and the retry policies refer to them by name. */
export const FailureTypes = {
  /** vLLM answered a 400 (other than context length) or another 4xx that retrying cannot heal. */
  VllmRejected: 'VllmRejected',
  /**
   * vLLM refuses the worker's configuration (401, 403, 404 unknown model, a context-length 400): an
   * outage of every request, retried like VllmUnavailable until the configuration is fixed.
   */
  VllmMisconfigured: 'VllmMisconfigured',
  /** vLLM or the network failed in a way that may heal. */
  VllmUnavailable: 'VllmUnavailable',
  /** The BE rejected the result (4xx other than 408/429): retrying will not help. */
  DeliveryRejected: 'DeliveryRejected',
  DeliveryUnavailable: 'DeliveryUnavailable',
  /** The run's own failure: generation failed for good; the BE was sent the recoverable "500". */
  GenerationFailed: 'GenerationFailed',
  /** The run's own failure: the request was older than its maximum age; the BE was sent "408". */
  RequestExpired: 'RequestExpired',
  /** The run's own failure: the result could not be delivered. */
  DeliveryFailed: 'DeliveryFailed',
  /**
   * The run's own failure: generation failed for good and no channel may carry the status code (the
   * BE's callback would store it as feedback); nothing was delivered, `feedback retry` runs it again.
   */
  FailureNotDelivered: 'FailureNotDelivered',
} as const;

/** RedeliverWorkflow: a stored result sent to the BE again (`feedback redeliver`); its id in keys.ts. */
export const REDELIVER_WORKFLOW_TYPE = 'RedeliverWorkflow';

export interface RedeliverInput {
  result: FeedbackResult;
  channels: DeliveryChannel[];
  /** Idempotency-Key of the callback and deduplication id of the result-queue message. */
  idempotencyKey: string;
  policy: DeliveryPolicy;
  /** Not sent before this time (canonical ISO): the failure hold of the request (failureHoldUntil). */
  notBefore?: string;
}
