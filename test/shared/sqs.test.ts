/**
 * SQS client and queue setup (src/shared/sqs.ts): the client gives up on a silent server after its
 * request timeout, and the four FIFO queues are created with their redrive policies.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { GetQueueAttributesCommand, ListQueuesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  createSqsClient,
  ensureFeedbackQueues,
  queueArn,
  RESULT_MAX_RECEIVE_COUNT,
} from '../../src/shared/sqs';
import { LOCAL_CREDENTIALS, testConfig, testSqsClient } from '../support/stack';

describe('createSqsClient', () => {
  let silent: Server;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Accepts connections and never answers.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('fails a call to a server that does not answer after the request timeout, instead of waiting on', async () => {
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const client = createSqsClient(
      { region: 'ap-northeast-2', endpoint, requestTimeoutMs: 60_000 },
      { requestTimeoutMs: 400, maxAttempts: 1, credentials: LOCAL_CREDENTIALS },
    );
    const started = Date.now();
    try {
      await expect(client.send(new ListQueuesCommand({}))).rejects.toThrow();
    } finally {
      client.destroy();
    }
    expect(Date.now() - started).toBeLessThan(5000);
  }, 10_000);
});

describe('ensureFeedbackQueues', () => {
  let sqs: SQSClient;
  beforeAll(() => {
    sqs = testSqsClient(testConfig());
  });
  afterAll(() => sqs.destroy());

  const attributes = async (queueUrl: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] })))
      .Attributes ?? {};

  it('creates the request queue, its DLQ, the result queue and its DLQ, all FIFO, named after the prefix', async () => {
    const prefix = `t-setup-${randomUUID().slice(0, 8)}`;
    const queues = await ensureFeedbackQueues(sqs, prefix);
    expect(queues.requestQueueUrl).toMatch(new RegExp(`/${prefix}\\.fifo$`));
    expect(queues.dlqUrl).toMatch(new RegExp(`/${prefix}-dlq\\.fifo$`));
    expect(queues.resultQueueUrl).toMatch(new RegExp(`/${prefix}-result\\.fifo$`));
    expect(queues.resultDlqUrl).toMatch(new RegExp(`/${prefix}-result-dlq\\.fifo$`));
    for (const url of Object.values(queues)) {
      expect(await attributes(url)).toMatchObject({ FifoQueue: 'true', ContentBasedDeduplication: 'false' });
    }
    expect(await attributes(queues.requestQueueUrl)).toMatchObject({ VisibilityTimeout: '60' });
  });

  it('redrives the request queue to its DLQ after 10 receives and a result to the result DLQ after 1000 (SQS maximum) with 30 s visibility, by default', async () => {
    const queues = await ensureFeedbackQueues(sqs, `t-setup-${randomUUID().slice(0, 8)}`);
    const redrive = async (url: string) => JSON.parse((await attributes(url)).RedrivePolicy as string);
    expect(await redrive(queues.requestQueueUrl)).toMatchObject({
      deadLetterTargetArn: await queueArn(sqs, queues.dlqUrl),
      maxReceiveCount: 10,
    });
    expect(await redrive(queues.resultQueueUrl)).toMatchObject({
      deadLetterTargetArn: await queueArn(sqs, queues.resultDlqUrl),
      maxReceiveCount: RESULT_MAX_RECEIVE_COUNT,
    });
    expect(RESULT_MAX_RECEIVE_COUNT).toBe(1000);
    expect(await attributes(queues.resultQueueUrl)).toMatchObject({ VisibilityTimeout: '30' });
  });

  it('takes the visibility timeout and receive counts it is given, and finds the same queues again', async () => {
    const prefix = `t-setup-${randomUUID().slice(0, 8)}`;
    const options = {
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 2,
      resultMaxReceiveCount: 3,
      resultVisibilityTimeoutSeconds: 2,
    };
    const queues = await ensureFeedbackQueues(sqs, prefix, options);
    const request = await attributes(queues.requestQueueUrl);
    expect(request.VisibilityTimeout).toBe('30');
    expect(JSON.parse(request.RedrivePolicy as string).maxReceiveCount).toBe(2);
    const result = await attributes(queues.resultQueueUrl);
    expect(JSON.parse(result.RedrivePolicy as string).maxReceiveCount).toBe(3);
    expect(result.VisibilityTimeout).toBe('2');
    expect(await ensureFeedbackQueues(sqs, prefix, options)).toEqual(queues);
  });
});
