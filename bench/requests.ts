/** What the benchmarks send: valid BE bodies, BE-style queue messages, simulator settings. */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { beDeduplicationId } from '../dev/be-double/publisher';
import { requestKey } from '../src/domain/keys';
import type { FeedbackQueues } from '../src/shared/sqs';

/** The emulator's credentials and the region of every benchmark stack. */
export const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const REGION = 'ap-northeast-2';

/** The BE's one FIFO message group for every request. */
export const BE_GROUP = 'feedback-request';

/** A valid BE request whose prompt carries `#m<memberId>`, so simulator records match requests. */
export function feedbackRequest(memberId: number) {
  const seoul = new Date(Date.now() + 9 * 3_600_000 - 2 * 86_400_000);
  const submittedAt = [
    seoul.getUTCFullYear(),
    seoul.getUTCMonth() + 1,
    seoul.getUTCDate(),
    seoul.getUTCHours(),
    seoul.getUTCMinutes(),
    seoul.getUTCSeconds(),
  ];
  return {
    memberId,
    personalChallenges: [
      { id: 1, title: `텀블러 사용하기 #m${memberId}`, isSuccess: memberId % 3 !== 0 },
      { id: 2, title: '대중교통 이용하기', isSuccess: memberId % 2 === 0 },
    ],
    groupChallenges: [
      {
        id: 10,
        title: '플로깅 챌린지',
        startDate: '2025-01-01T00:00:00',
        endDate: [2030, 12, 31, 23, 59, 59],
        submissions: [
          { isSuccess: true, submittedAt },
          { isSuccess: memberId % 2 === 1, submittedAt },
        ],
      },
    ],
  };
}

/**
 * As the BE sends it: no requestId or timestamp, dedup id `<memberId>-<sha256 of the body>`. Returns the
 * request key the bridge gives such a message (`<memberId>-<MessageId>`, src/domain/keys.ts).
 */
export async function sendRequest(
  sqs: SQSClient,
  queueUrl: string,
  memberId: number,
  group: string,
): Promise<string> {
  const body = JSON.stringify(feedbackRequest(memberId));
  const { MessageId } = await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageGroupId: group,
      MessageDeduplicationId: beDeduplicationId(memberId, body),
    }),
  );
  if (!MessageId) throw new Error('SendMessage answered without a MessageId');
  return requestKey({ memberId, messageId: MessageId });
}

/** Sets the simulator's capacity and latency (and over-commitment penalty) and clears its statistics. */
export async function configureSimulator(
  baseUrl: string,
  settings: { capacity: number; latencyMs: number; overcommitPenalty?: number },
): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`simulator ${path} answered ${response.status}`);
  };
  await post('/sim/capacity', { maxNumSeqs: settings.capacity });
  await post('/sim/latency', {
    latencyMs: settings.latencyMs,
    latencyPerTokenMs: 0,
    ...(settings.overcommitPenalty === undefined ? {} : { overcommitPenalty: settings.overcommitPenalty }),
  });
  await post('/sim/reset', {});
}

/** The environment both harnesses give our processes (and the baselines): local stack, no auth. */
export function benchEnv(stack: {
  temporalAddress: string;
  taskQueue: string;
  sqsEndpoint: string;
  queues: FeedbackQueues;
  apiPort: number;
  vllmUrl: string;
  callbackUrl: string;
}): NodeJS.ProcessEnv {
  return {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL_SQS: stack.sqsEndpoint,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SQS_FEEDBACK_QUEUE_URL: stack.queues.requestQueueUrl,
    AWS_SQS_FEEDBACK_DLQ_URL: stack.queues.dlqUrl,
    AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: stack.queues.resultQueueUrl,
    API_PORT: String(stack.apiPort),
    API_AUTH_MODE: 'none',
    API_HOST: '127.0.0.1',
    BRIDGE_HEALTH_PORT: '0',
    WORKER_HEALTH_PORT: '0',
    HEALTH_HOST: '127.0.0.1',
    VLLM_API_URL: stack.vllmUrl,
    DELIVERY_MODE: 'callback',
    BE_CALLBACK_BASE_URL: stack.callbackUrl,
    BE_CALLBACK_AUTHORIZATION: 'Bearer bench',
  };
}
