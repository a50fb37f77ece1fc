/** SQS: the request queue and its DLQ, the result queue and its DLQ. Credentials come from the AWS chain. */
import { z } from 'zod';
import { int, optionalKeys, optionalUrl } from './fields';

export const sqsEnv = z.object({
  AWS_REGION: z.string().min(1).default('ap-northeast-2'),
  /** Only for an emulator (ElasticMQ). */
  AWS_ENDPOINT_URL_SQS: optionalUrl,
  AWS_SQS_FEEDBACK_QUEUE_URL: optionalUrl,
  /** The BE's name for the request queue: an alias of AWS_SQS_FEEDBACK_QUEUE_URL (one config map for both). */
  AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL: optionalUrl,
  AWS_SQS_FEEDBACK_DLQ_URL: optionalUrl,
  AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: optionalUrl,
  /** The result queue's DLQ (the BE's variable; the BE polls it). Used by the BE double and the docs' checks. */
  AWS_SQS_FEEDBACK_RESULT_DLQ_QUEUE_URL: optionalUrl,
  SQS_REQUEST_TIMEOUT_MS: int(100, 60_000).default(3000),
});
export const sqsSection = sqsEnv.transform((env) =>
  optionalKeys({
    region: env.AWS_REGION,
    endpoint: env.AWS_ENDPOINT_URL_SQS,
    requestQueueUrl: requestQueueUrl(env),
    dlqUrl: env.AWS_SQS_FEEDBACK_DLQ_URL,
    resultQueueUrl: env.AWS_SQS_FEEDBACK_RESULT_QUEUE_URL,
    resultDlqUrl: env.AWS_SQS_FEEDBACK_RESULT_DLQ_QUEUE_URL,
    requestTimeoutMs: env.SQS_REQUEST_TIMEOUT_MS,
  }),
);

export function requestQueueUrl(env: z.infer<typeof sqsEnv>): string | undefined {
  return env.AWS_SQS_FEEDBACK_QUEUE_URL ?? env.AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL;
}

/** The request queue's two names may both be set, to the same queue only. */
export function sqsProblems(env: z.infer<typeof sqsEnv>): string[] {
  const { AWS_SQS_FEEDBACK_QUEUE_URL: ours, AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL: theirs } = env;
  return ours && theirs && ours !== theirs
    ? [
        'AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL: differs from AWS_SQS_FEEDBACK_QUEUE_URL (set one, or both to the same queue)',
      ]
    : [];
}
