/**
 * Timeouts and retry settings of one FeedbackWorkflow run. The bridge fills them from configuration
 * and passes them in the workflow input, so they are part of the run's history: a configuration
 * change applies to new runs and never changes a running one under its feet.
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
  deliveryMode: 'callback' | 'queue' | 'both';
  /**
   * The task queue of generateFeedback (its workers hold the LLM concurrency limit). Absent (runs
   * started before flow control): the run's own task queue.
   */
  llmTaskQueue?: string;
  /**
   * A request that has waited longer than this since it reached our queue (`acceptedAt`) is not
   * generated; the BE gets "408". Absent or 0: never expires.
   */
  maxAgeMinutes?: number;
}

export const DEFAULT_POLICY: FeedbackPolicy = {
  generateTimeoutSeconds: 60,
  generateHeartbeatSeconds: 10,
  generateRetryInitialSeconds: 1,
  generateRetryMaxIntervalSeconds: 60,
  generateGiveUpAfterMinutes: 120,
  maxRegenerations: 2,
  maxFeedbackChars: 600,
  deliveryTimeoutSeconds: 15,
  deliveryRetryMaxIntervalSeconds: 60,
  deliveryGiveUpAfterHours: 24,
  deliveryMode: 'callback',
};
