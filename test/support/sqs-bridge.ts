/** Helpers of the SQS bridge tests: a scripted Temporal client, a bridge on fresh queues, queue I/O. */
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Client, WorkflowStartOptions } from '@temporalio/client';
import { DEFAULT_POLICY } from '../../src/config';
import type { FeedbackWorkflowInput } from '../../src/domain/workflow';
import { SqsBridge, type BridgeOptions } from '../../src/sqs-bridge/bridge';
import { createLogger } from '../../src/shared/logger';
import type { FeedbackQueues } from '../../src/shared/sqs';

export type StartCall = {
  workflowType: string;
  options: WorkflowStartOptions & { args: [FeedbackWorkflowInput] };
};

/** A Temporal client whose `workflow.start` is scripted per test. */
export function fakeTemporal(start: (call: StartCall) => Promise<void>) {
  const calls: StartCall[] = [];
  const client = {
    workflow: {
      start: async (workflowType: string, options: StartCall['options']) => {
        const call = { workflowType, options };
        calls.push(call);
        await start(call);
        return { workflowId: options.workflowId };
      },
    },
  } as unknown as Client;
  return { client, calls };
}

/** A bridge with one poller, short polls and a silent logger, on `queues`. */
export function testBridge(
  sqs: SQSClient,
  queues: FeedbackQueues,
  temporal: Client,
  overrides: Partial<BridgeOptions> = {},
): SqsBridge {
  return new SqsBridge({
    sqs,
    temporal,
    logger: createLogger('bridge-test', 'silent'),
    requestQueueUrl: queues.requestQueueUrl,
    dlqUrl: queues.dlqUrl,
    taskQueue: 'tq',
    policy: DEFAULT_POLICY,
    pollers: 1,
    waitTimeSeconds: 1,
    maxMessages: 10,
    visibilityTimeoutSeconds: 30,
    backoffMaxMs: 500,
    ...overrides,
  });
}

export async function sendMessage(
  sqs: SQSClient,
  queueUrl: string,
  body: string,
  dedupId: string,
  group = 'feedback-request',
): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageGroupId: group,
      MessageDeduplicationId: dedupId,
    }),
  );
}

export async function receiveMessages(
  sqs: SQSClient,
  queueUrl: string,
  visibilityTimeout = 30,
  waitTimeSeconds = 1,
): Promise<Message[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitTimeSeconds,
      VisibilityTimeout: visibilityTimeout,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return out.Messages ?? [];
}

/** Messages on the queue, visible or in flight. */
export async function messageCount(sqs: SQSClient, queueUrl: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(out.Attributes?.ApproximateNumberOfMessages) +
    Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}

export const validBody = (memberId: number) =>
  JSON.stringify({ memberId, personalChallenges: [{ id: 1, title: '플로깅', isSuccess: true }] });
