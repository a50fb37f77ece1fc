/**
 * Baseline "seed-style worker": a TypeScript port of the original Python worker loop
 * (`model/feedback/sqs_feedback_worker.py` in the seed notes): receive one message with a 10 s long
 * poll, generate the feedback (one vLLM call), POST the callback, delete the message, sleep one
 * second, repeat. One message at a time by design; an error leaves the message on the queue until
 * its visibility timeout. Configured by the same environment variables as our processes.
 */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createLogger } from '../../src/shared/logger';
import { createSqsClient } from '../../src/shared/sqs';
import { loadBaselineConfig, processBody, untilStopSignal } from './common';

const WAIT_TIME_SECONDS = 10;
const SLEEP_BETWEEN_POLLS_MS = 1000;

async function main(): Promise<void> {
  const config = loadBaselineConfig();
  const logger = createLogger('seed-worker', config.logLevel);
  const queueUrl = config.sqs.requestQueueUrl as string;
  const sqs = createSqsClient(config.sqs, { requestTimeoutMs: (WAIT_TIME_SECONDS + 5) * 1000 });
  const abort = new AbortController();
  let running = true;
  void untilStopSignal().then(() => {
    running = false;
    abort.abort();
  });

  logger.info({ queueUrl }, 'seed-style worker polling');
  while (running) {
    try {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: WAIT_TIME_SECONDS,
        }),
        { abortSignal: abort.signal },
      );
      for (const message of out.Messages ?? []) {
        try {
          await processBody(config, message.Body ?? '', message.MessageId ?? '');
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
          logger.info({ messageId: message.MessageId }, 'feedback delivered');
        } catch (err) {
          logger.error({ err: (err as Error).message, messageId: message.MessageId }, 'processing failed');
        }
      }
    } catch (err) {
      if (!running) break;
      logger.error({ err: (err as Error).message }, 'receive failed');
    }
    if (running) await new Promise((resolve) => setTimeout(resolve, SLEEP_BETWEEN_POLLS_MS));
  }
  sqs.destroy();
  logger.info('stopped');
}

main().catch((err: unknown) => {
  process.stderr.write(`seed-worker: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
