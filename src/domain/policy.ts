/** Where results go: the BE's callback, its result queue, or both (src/config/policy.ts says which is safe). */
export const DELIVERY_MODES = ['callback', 'queue', 'both'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];
/** Where one delivery goes: the BE's callback or its result queue. */
export type DeliveryChannel = Exclude<DeliveryMode, 'both'>;

/**
 * Timeouts and retry settings of one FeedbackWorkflow run. The bridge fills them from configuration
 * and passes them in the workflow input, so they are part of the run's history: a configuration
 * change applies to new runs and never changes a running one under its feet. The defaults are the
 * configuration schema's (`DEFAULT_POLICY` in src/config/policy.ts).
 */
export interface FeedbackPolicy {
  generateTimeoutSeconds: number;
  generateHeartbeatSeconds: number;
  generateRetryInitialSeconds: number;
  generateRetryMaxIntervalSeconds: number;
  /** After this long without a usable answer the BE gets content "500". */
  generateGiveUpAfterMinutes: number;
  /** How many times a text that fails the guardrail is generated again. */
  maxRegenerations: number;
  maxFeedbackChars: number;
  deliveryTimeoutSeconds: number;
  deliveryRetryMaxIntervalSeconds: number;
  deliveryGiveUpAfterHours: number;
  deliveryMode: DeliveryMode;
  /**
   * Whether a terminal failure's status code goes to the callback as well. The BE's callback
   * controller stores any content as the member's feedback, so by default only the result queue
   * carries it (and a callback-only run ends failed without delivering).
   */
  postFailuresToCallback: boolean;
  /**
   * A recoverable failure of a queue request is delivered no earlier than this many seconds after
   * the message's send time (`FeedbackWorkflowInput.sentAt`): the BE re-publishes the same body, with
   * the same deduplication id, the moment it reads the failure.
   */
  failureHoldSeconds: number;
  /**
   * The BE's time zone (IANA), where its week turns (Monday 00:00): a grown failure hold ends before
   * it (src/domain/hold.ts). Absent: UTC.
   */
  beTimeZone?: string;
  /**
   * The task queue of generateCheckedFeedback (its workers hold the LLM concurrency limit). Absent
   * (DEFAULT_POLICY: tests, recorded histories): the run's own task queue.
   */
  llmTaskQueue?: string;
  /**
   * A request that has waited longer than this since it reached our queue (`acceptedAt`) is not
   * generated; the BE gets "408". Absent or 0: never expires.
   */
  maxAgeMinutes?: number;
}

/** What a delivery needs of the policy (FeedbackWorkflow's and RedeliverWorkflow's): its timeouts and retries. */
export type DeliveryPolicy = Pick<
  FeedbackPolicy,
  'deliveryTimeoutSeconds' | 'deliveryGiveUpAfterHours' | 'deliveryRetryMaxIntervalSeconds'
>;
