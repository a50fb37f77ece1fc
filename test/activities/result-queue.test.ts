import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ApplicationFailure } from '@temporalio/common';
import { resultQueueBacklog } from '../../src/activities/result-queue';

describe('resultQueueBacklog', () => {
  it("reads the result queue's waiting, in-flight and delayed counts", async () => {
    const sent: GetQueueAttributesCommand[] = [];
    const sqs = {
      send: (command: GetQueueAttributesCommand) => {
        sent.push(command);
        return Promise.resolve({
          Attributes: {
            ApproximateNumberOfMessages: '3',
            ApproximateNumberOfMessagesNotVisible: '2',
            ApproximateNumberOfMessagesDelayed: '0',
          },
        });
      },
    } as unknown as SQSClient; // only send is used
    expect(await resultQueueBacklog({ sqs, resultQueueUrl: 'http://sqs/result.fifo' })()).toEqual({
      visible: 3,
      inFlight: 2,
      delayed: 0,
    });
    expect(sent[0]).toBeInstanceOf(GetQueueAttributesCommand);
    expect(sent[0].input.QueueUrl).toBe('http://sqs/result.fifo');
  });

  it('fails for good without a result queue configured', async () => {
    const sqs = { send: () => Promise.reject(new Error('not called')) } as unknown as SQSClient;
    await expect(resultQueueBacklog({ sqs })()).rejects.toBeInstanceOf(ApplicationFailure);
  });
});
