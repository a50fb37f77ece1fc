/**
 * Creates the feedback queues (request FIFO + FIFO DLQ with redrive + result FIFO) on the configured
 * SQS endpoint and prints their URLs as JSON. Usage: tsx scripts/create-queues.ts <name-prefix>
 */
import { loadConfig } from '../src/config';
import { createSqsClient, ensureFeedbackQueues } from '../src/shared/sqs';

async function main(): Promise<void> {
  const prefix = process.argv[2] ?? 'leafresh-sqs-feedback';
  const config = loadConfig();
  const client = createSqsClient(config.sqs, { maxAttempts: 3 });
  const queues = await ensureFeedbackQueues(client, prefix);
  process.stdout.write(JSON.stringify(queues) + '\n');
  client.destroy();
}

main().catch((err: unknown) => {
  process.stderr.write(`create-queues failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
