/**
 * resultQueueBacklog: how many results are still on the BE's result queue (waiting, in flight,
 * delayed), so that `feedback redeliver --since` re-sends only once the BE has drained it.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureTypes } from '../domain/workflow';
import type { DeliveryDeps } from './delivery';

export interface ResultQueueBacklog {
  visible: number;
  inFlight: number;
  delayed: number;
}

const ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
] as const;

export function resultQueueBacklog(deps: Pick<DeliveryDeps, 'sqs' | 'resultQueueUrl'>) {
  return async (): Promise<ResultQueueBacklog> => {
    if (!deps.resultQueueUrl) {
      throw ApplicationFailure.nonRetryable(
        'AWS_SQS_FEEDBACK_RESULT_QUEUE_URL is not configured',
        FailureTypes.DeliveryRejected,
      );
    }
    const out = await deps.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: deps.resultQueueUrl,
        AttributeNames: [...ATTRIBUTES],
      }),
    );
    const count = (name: (typeof ATTRIBUTES)[number]) => Number(out.Attributes?.[name] ?? 0) || 0;
    return {
      visible: count('ApproximateNumberOfMessages'),
      inFlight: count('ApproximateNumberOfMessagesNotVisible'),
      delayed: count('ApproximateNumberOfMessagesDelayed'),
    };
  };
}
