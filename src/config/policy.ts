/**
 * What each run does: timeouts and retries (the workflow policy, passed to the run at start), where its
 * result goes, and the prompt it is generated from. The policy's type is the run's contract
 * (`FeedbackPolicy`, src/domain/policy.ts): this section's schema transforms into it.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DELIVERY_MODES, type DeliveryMode, type FeedbackPolicy } from '../domain/policy';
import { DEFAULT_BE_TIME_ZONE, isTimeZone } from '../domain/be-week';
import { DEFAULT_PROMPT_VERSION, GROUP_PLACEHOLDER, PERSONAL_PLACEHOLDER } from '../domain/prompt';
import { int, optionalBool, optionalKeys, optionalString, optionalUrl } from './fields';

/** Absent `llmTaskQueue`: the run's own task queue (loadConfig adds the configured one). */
export const policySection = z
  .object({
    VLLM_TIMEOUT_SECONDS: int(1, 3600).default(60),
    VLLM_HEARTBEAT_SECONDS: int(1, 600).default(10),
    VLLM_RETRY_INITIAL_SECONDS: int(1, 3600).default(1),
    VLLM_RETRY_MAX_INTERVAL_SECONDS: int(1, 3600).default(60),
    VLLM_GIVE_UP_AFTER_MINUTES: int(1, 7 * 24 * 60).default(120),
    FEEDBACK_MAX_REGENERATIONS: int(0, 10).default(2),
    FEEDBACK_MAX_CHARS: int(50, 10_000).default(600),
    DELIVERY_TIMEOUT_SECONDS: int(1, 600).default(15),
    DELIVERY_RETRY_MAX_INTERVAL_SECONDS: int(1, 3600).default(60),
    DELIVERY_GIVE_UP_AFTER_HOURS: int(1, 24 * 30).default(24),
    /** A request older than this (counted from when it reached our queue) is not generated: the BE gets "408". 0: never. */
    REQUEST_MAX_AGE_MINUTES: int(0, 60 * 24 * 365).default(72 * 60),
    // `queue` is what the BE runs: its result-queue subscriber understands "500"; its callback
    // controller stores any content as feedback (docs/be-contract.md).
    DELIVERY_MODE: z.enum(DELIVERY_MODES).default('queue'),
    /** Post a terminal failure's status code ("500", "408") to the callback too; only for a BE that reads codes there. */
    CALLBACK_POST_FAILURES: optionalBool,
    /**
     * A recoverable failure of a queue request is sent no earlier than this after the message's
     * SentTimestamp: the BE re-publishes the same body at once, and SQS drops it within 5 minutes.
     */
    FEEDBACK_FAILURE_HOLD_SECONDS: int(0, 24 * 3600).default(330),
    /**
     * The BE's time zone (IANA), where its week turns at Monday 00:00: a failure hold that grows with
     * a request's repeated failures ends before that turn. The BE's image sets no TZ: UTC.
     */
    BE_TIME_ZONE: optionalString.pipe(
      z
        .string()
        .refine(isTimeZone, { message: 'must be an IANA time zone, e.g. UTC or Asia/Seoul' })
        .optional(),
    ),
  })
  .transform((env): FeedbackPolicy => ({
    generateTimeoutSeconds: env.VLLM_TIMEOUT_SECONDS,
    generateHeartbeatSeconds: env.VLLM_HEARTBEAT_SECONDS,
    generateRetryInitialSeconds: env.VLLM_RETRY_INITIAL_SECONDS,
    generateRetryMaxIntervalSeconds: env.VLLM_RETRY_MAX_INTERVAL_SECONDS,
    generateGiveUpAfterMinutes: env.VLLM_GIVE_UP_AFTER_MINUTES,
    maxRegenerations: env.FEEDBACK_MAX_REGENERATIONS,
    maxFeedbackChars: env.FEEDBACK_MAX_CHARS,
    deliveryTimeoutSeconds: env.DELIVERY_TIMEOUT_SECONDS,
    deliveryRetryMaxIntervalSeconds: env.DELIVERY_RETRY_MAX_INTERVAL_SECONDS,
    deliveryGiveUpAfterHours: env.DELIVERY_GIVE_UP_AFTER_HOURS,
    deliveryMode: env.DELIVERY_MODE,
    postFailuresToCallback: env.CALLBACK_POST_FAILURES ?? false,
    failureHoldSeconds: env.FEEDBACK_FAILURE_HOLD_SECONDS,
    beTimeZone: env.BE_TIME_ZONE?.trim() ?? DEFAULT_BE_TIME_ZONE,
    maxAgeMinutes: env.REQUEST_MAX_AGE_MINUTES,
  }));

/** The policy of the schema's defaults (tests, recorded histories); the LLM calls on the run's task queue. */
export const DEFAULT_POLICY: FeedbackPolicy = policySection.parse({});

/** Where the worker delivers by callback (the delivery mode is the run's: `FeedbackPolicy.deliveryMode`). */
export const deliverySection = z
  .object({
    BE_CALLBACK_BASE_URL: optionalUrl,
    BE_CALLBACK_AUTHORIZATION: optionalString,
    /** When set, callbacks carry X-Leafresh-Timestamp and X-Leafresh-Signature (HMAC-SHA256). */
    BE_CALLBACK_SIGNING_SECRET: optionalString.pipe(
      z.string().min(32, 'must be at least 32 characters').optional(),
    ),
  })
  .transform((env) =>
    optionalKeys({
      callbackBaseUrl: env.BE_CALLBACK_BASE_URL,
      callbackAuthorization: env.BE_CALLBACK_AUTHORIZATION,
      /** HMAC-SHA256 secret for the callback's signature headers (secret, never logged). */
      callbackSigningSecret: env.BE_CALLBACK_SIGNING_SECRET,
    }),
  );

/** The prompt (placeholders {personal_challenges} and {group_challenges}, as in the seed) and its version. */
export const promptSection = z
  .object({
    FEEDBACK_PROMPT_TEMPLATE: optionalString.refine(
      (t) => t === undefined || (t.includes(PERSONAL_PLACEHOLDER) && t.includes(GROUP_PLACEHOLDER)),
      { message: `must contain ${PERSONAL_PLACEHOLDER} and ${GROUP_PLACEHOLDER}` },
    ),
    /** Searchable as PromptVersion. Default: DEFAULT_PROMPT_VERSION, or `custom-<hash>` of the template. */
    FEEDBACK_PROMPT_VERSION: optionalString.pipe(
      z
        .string()
        .max(100)
        .regex(/^[\w.:-]+$/, 'letters, digits, ".", ":", "_" and "-" only')
        .optional(),
    ),
  })
  .transform((env) =>
    optionalKeys({
      template: env.FEEDBACK_PROMPT_TEMPLATE,
      version:
        env.FEEDBACK_PROMPT_VERSION ??
        (env.FEEDBACK_PROMPT_TEMPLATE === undefined
          ? DEFAULT_PROMPT_VERSION
          : `custom-${createHash('sha256').update(env.FEEDBACK_PROMPT_TEMPLATE, 'utf8').digest('hex').slice(0, 12)}`),
    }),
  );

/** Problems of a process that delivers or starts runs (the `delivery` requirement). */
export function deliveryProblems(
  mode: DeliveryMode,
  urls: { callbackBaseUrl?: string; resultQueueUrl?: string },
): string[] {
  const missing: string[] = [];
  if (mode !== 'queue' && !urls.callbackBaseUrl) {
    missing.push(`BE_CALLBACK_BASE_URL: required when DELIVERY_MODE=${mode}`);
  }
  if (mode !== 'callback' && !urls.resultQueueUrl) {
    missing.push(`AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: required when DELIVERY_MODE=${mode}`);
  }
  return missing;
}

/**
 * Settings that are valid but risky with the Leafresh BE; the bridge (which puts the delivery mode in
 * each run's policy) and the worker (which delivers) log them at start.
 */
export function deliveryWarnings({
  policy,
}: {
  policy: Pick<FeedbackPolicy, 'deliveryMode' | 'postFailuresToCallback'>;
}): string[] {
  const warnings: string[] = [];
  if (policy.deliveryMode === 'both') {
    warnings.push(
      'DELIVERY_MODE=both is unsafe with the Leafresh BE: it checks for an existing week and saves later, ' +
        'without a unique key, so two deliveries at once can store two feedbacks for a member. Use queue ' +
        '(or callback) for the BE; keep both for other consumers.',
    );
  }
  if (policy.postFailuresToCallback && policy.deliveryMode !== 'queue') {
    warnings.push(
      'CALLBACK_POST_FAILURES=true: the Leafresh BE stores any callback content as feedback, a "500" too. ' +
        'Only for a BE that reads status codes on that path.',
    );
  }
  return warnings;
}
