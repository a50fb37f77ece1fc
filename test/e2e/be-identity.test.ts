/**
 * One queue message is one request, against the real local stack (Temporal dev server, ElasticMQ, the
 * vLLM simulator, the BE double): a redelivered message (its bridge died before the delete) starts no
 * second run, and the member gets one feedback. The scenarios that wait SQS's real 5-minute
 * deduplication window (the BE's re-publish after a failure, the same body a week later) are the slow
 * tier's: be-identity.slow.test.ts.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { eventually } from '../support/eventually';
import { beBody, runsOf, startPipeline, workflowResult, type Pipeline } from '../support/pipeline';
import { freshQueues } from '../support/stack';
import { testBridge } from '../support/sqs-bridge';

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await startPipeline('be-identity', 'queue', { beSubscriber: true });
}, 120_000);
afterAll(async () => {
  await pipeline?.stop();
});

/** A member id of its own per run: the test stack's Temporal keeps the runs of earlier runs. */
const memberId = 7_000_000 + Math.floor(Math.random() * 900_000) * 10 + 1;

/**
 * A bridge that dies between the start and the delete: its DeleteMessageBatch never returns, so the
 * message becomes visible again when its visibility timeout passes.
 */
function dyingSqs(sqs: SQSClient): SQSClient {
  const send = (command: Parameters<SQSClient['send']>[0]) =>
    command instanceof DeleteMessageBatchCommand ? new Promise(() => undefined) : sqs.send(command);
  return { send } as unknown as SQSClient; // only send() is used by the bridge
}

it('never runs a redelivered message twice', async () => {
  const queues = await freshQueues(pipeline.sqs, 'be-identity-redelivery');
  const sent = await pipeline.sqs.send(
    new SendMessageCommand({
      QueueUrl: queues.requestQueueUrl,
      MessageBody: beBody(memberId, '텀블러 사용하기'),
      MessageGroupId: 'feedback-request',
      MessageDeduplicationId: `${memberId}-redelivery`,
    }),
  );
  const bridgeOptions = {
    taskQueue: pipeline.taskQueue,
    policy: pipeline.config.policy,
    pollers: 1,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 5,
  };
  const dying = testBridge(dyingSqs(pipeline.sqs), queues, pipeline.temporal, bridgeOptions);
  dying.start();
  const workflowId = `feedback-${memberId}-${sent.MessageId}`;
  await workflowResult(pipeline.temporal, workflowId);

  // The dead bridge's message comes back after its visibility timeout; the next bridge finds the run.
  const next = testBridge(pipeline.sqs, queues, pipeline.temporal, bridgeOptions);
  const duplicates = await eventually(
    async () => {
      const out = await pipeline.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queues.requestQueueUrl,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
        }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) return { duplicates: 0, receiveCount: 0 };
      const report = await next.processBatch(messages);
      return {
        duplicates: report.duplicates,
        started: report.started,
        receiveCount: Number(messages[0].Attributes?.ApproximateReceiveCount),
      };
    },
    (r) => r.duplicates > 0,
    30_000,
  );
  expect(duplicates).toEqual({ duplicates: 1, started: 0, receiveCount: 2 });
  expect(await runsOf(pipeline.temporal, memberId)).toEqual([{ workflowId, status: 'COMPLETED' }]);
  const stored = await pipeline.receiver.waitFor(() =>
    pipeline.receiver.feedbacks().filter((f) => f.memberId === memberId).length > 0 ? true : undefined,
  );
  expect(stored).toBe(true);
});
