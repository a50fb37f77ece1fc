/**
 * The BE double as a process (dev/be-double), for `npm start`:
 *
 *   be-double-main                      subscribes to the result queue and its DLQ and serves the
 *                                       callback on BE_DOUBLE_PORT; logs every stored feedback
 *   be-double-main publish <memberId> <file|->
 *                                       publishes the request in <file> for <memberId> as the BE does
 *                                       (through the running double when there is one, so that it can
 *                                       re-publish it on a status code; else straight to the queue)
 *   be-double-main advance <days>       moves the running double's clock on (e.g. 7: the next week)
 *   be-double-main outage <minutes>     takes the running double's database down that long (0: up)
 *
 * Queue URLs come from the normal settings: AWS_SQS_FEEDBACK_QUEUE_URL (or _REQUEST_QUEUE_URL),
 * AWS_SQS_FEEDBACK_RESULT_QUEUE_URL, AWS_SQS_FEEDBACK_RESULT_DLQ_QUEUE_URL.
 */
import { readFileSync } from 'node:fs';
import { loadConfig, type AppConfig } from '../../src/config';
import { loadDevConfig } from '../config';
import { createLogger } from '../../src/shared/logger';
import { onShutdown, runMain } from '../../src/shared/process';
import { createSqsClient } from '../../src/shared/sqs';
import { CLOCK_PATH, createBeDouble, OUTAGE_PATH, PUBLISH_PATH, type Publication } from '.';

const [command, ...args] = process.argv.slice(2);

if (command === 'publish') {
  publish(args).then(
    (line) => process.stdout.write(`${line}\n`),
    (err: unknown) => {
      process.stderr.write(`be-double publish: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
} else if (command === 'advance') {
  advance(args).then(
    (line) => process.stdout.write(`${line}\n`),
    (err: unknown) => {
      process.stderr.write(`be-double advance: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
} else if (command === 'outage') {
  outage(args).then(
    (line) => process.stdout.write(`${line}\n`),
    (err: unknown) => {
      process.stderr.write(`be-double outage: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
} else if (command === undefined) {
  serve();
} else {
  process.stderr.write(
    `be-double: unknown command ${command} (none: serve; publish <memberId> <file|->; advance <days>; outage <minutes>)\n`,
  );
  process.exit(2);
}

function serve(): void {
  runMain('be-double', async () => {
    const config = loadConfig();
    const logger = createLogger('be-double', config.logLevel);
    const { requestQueueUrl, resultQueueUrl, resultDlqUrl } = config.sqs;
    // Long polls of 20 s need a longer request timeout than the processes' default.
    const sqs = createSqsClient(config.sqs, { requestTimeoutMs: 30_000 });
    const dev = loadDevConfig().beDouble;
    const double = createBeDouble({
      timeZone: dev.timeZone,
      subscriber: { pollDelayMs: dev.pollDelayMs },
      sqs,
      requestQueueUrl,
      resultQueueUrl,
      resultDlqUrl,
      // Requests of a local run come through our API for any memberId; the BE's member table has them all.
      members: 'any',
      logger,
    });
    const url = await double.listen(dev.port);
    if (resultQueueUrl) double.startSubscriber();
    else logger.warn('AWS_SQS_FEEDBACK_RESULT_QUEUE_URL is not set: only the callback is served');
    logger.info(
      { callback: url, resultQueueUrl, resultDlqUrl, week: double.week(), timeZone: double.timeZone },
      'BE double listening (callback) and subscribed (result queue)',
    );
    onShutdown(logger, async () => {
      await double.close();
      sqs.destroy();
    });
  });
}

async function publish(argv: string[]): Promise<string> {
  const [member, file] = argv;
  const memberId = Number(member);
  if (!Number.isSafeInteger(memberId) || memberId <= 0 || !file)
    throw new Error('usage: publish <memberId> <file|-> (the request JSON; its memberId is replaced)');
  const request = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8')) as Record<string, unknown>;
  const body = JSON.stringify({ ...request, memberId });
  const config = loadConfig();
  const viaRunning = await publishThroughRunningDouble(loadDevConfig().beDouble.port, body);
  const publication = viaRunning ?? (await publishDirectly(config, body));
  return `published for member ${memberId}${viaRunning ? ' (through the running BE double)' : ''}: deduplicationId ${publication.deduplicationId}, messageId ${publication.messageId ?? '-'}`;
}

async function advance(argv: string[]): Promise<string> {
  const days = Number(argv[0]);
  if (!Number.isFinite(days) || days <= 0)
    throw new Error('usage: advance <days> (e.g. 7 for the next week)');
  const { port } = loadDevConfig().beDouble;
  const response = await fetch(`http://127.0.0.1:${port}${CLOCK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ days }),
    signal: AbortSignal.timeout(10_000),
  });
  const envelope = (await response.json()) as { message: string; data: { week: string } | null };
  if (!response.ok || !envelope.data) throw new Error(envelope.message);
  return `the BE double's clock moved ${days} days on: results are now filed under the week of ${envelope.data.week}`;
}

async function outage(argv: string[]): Promise<string> {
  const minutes = Number(argv[0]);
  if (argv[0] === undefined || !Number.isFinite(minutes) || minutes < 0)
    throw new Error('usage: outage <minutes> (0 brings the database back)');
  const response = await fetch(`http://127.0.0.1:${loadDevConfig().beDouble.port}${OUTAGE_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ minutes }),
    signal: AbortSignal.timeout(10_000),
  });
  const envelope = (await response.json()) as { message: string };
  if (!response.ok) throw new Error(envelope.message);
  return minutes > 0
    ? `the BE double's database is down for ${minutes} minutes: results stay on the result queue until its redrive`
    : "the BE double's database is up again";
}

async function publishThroughRunningDouble(port: number, body: string): Promise<Publication | undefined> {
  let response: Response;
  try {
    response = await fetch(`http://127.0.0.1:${port}${PUBLISH_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    return undefined; // no double running: publish straight to the queue
  }
  const envelope = (await response.json()) as { message: string; data: Publication | null };
  if (!response.ok || !envelope.data) throw new Error(envelope.message);
  return envelope.data;
}

async function publishDirectly(config: AppConfig, body: string): Promise<Publication> {
  const sqs = createSqsClient(config.sqs);
  try {
    const double = createBeDouble({ sqs, requestQueueUrl: config.sqs.requestQueueUrl });
    return await double.publish(body);
  } finally {
    sqs.destroy();
  }
}
