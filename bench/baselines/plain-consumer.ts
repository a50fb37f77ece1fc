/**
 * Baseline "plain concurrent consumer": bbc/sqs-consumer with batches of 10 and `handleMessageBatch`
 * processing each batch in parallel (generate + callback), no Temporal. It deletes the messages whose
 * processing succeeded; the others come back after the visibility timeout. As the library does, it
 * has one batch in flight at a time.
 */
import { Consumer } from 'sqs-consumer';
import { createLogger } from '../../src/shared/logger';
import { createSqsClient } from '../../src/shared/sqs';
import { loadBaselineConfig, processBody, untilStopSignal } from './common';

async function main(): Promise<void> {
  const config = loadBaselineConfig();
  const logger = createLogger('plain-consumer', config.logLevel);
  const waitTimeSeconds = config.bridge.waitTimeSeconds;
  const sqs = createSqsClient(config.sqs, {
    requestTimeoutMs: waitTimeSeconds * 1000 + config.sqs.requestTimeoutMs,
  });
  const consumer = Consumer.create({
    queueUrl: config.sqs.requestQueueUrl as string,
    sqs,
    batchSize: 10,
    waitTimeSeconds,
    visibilityTimeout: config.bridge.visibilityTimeoutSeconds,
    suppressFifoWarning: true,
    handleMessageBatch: async (messages) => {
      const outcomes = await Promise.allSettled(
        messages.map((m) => processBody(config, m.Body ?? '', m.MessageId ?? '')),
      );
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'rejected')
          logger.error(
            { err: (outcome.reason as Error).message, messageId: messages[i].MessageId },
            'processing failed',
          );
        else logger.info({ messageId: messages[i].MessageId }, 'feedback delivered');
      });
      return messages.filter((_, i) => outcomes[i].status === 'fulfilled');
    },
  });
  consumer.on('error', (err) => logger.error({ err: err.message }, 'SQS error'));
  consumer.on('processing_error', (err) => logger.error({ err: err.message }, 'processing error'));
  consumer.start();
  logger.info({ queueUrl: config.sqs.requestQueueUrl }, 'plain consumer polling');

  await untilStopSignal();
  const stopped = new Promise<void>((resolve) => consumer.once('stopped', () => resolve()));
  consumer.stop({ abort: true });
  await stopped;
  sqs.destroy();
  logger.info('stopped');
}

main().catch((err: unknown) => {
  process.stderr.write(`plain-consumer: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
