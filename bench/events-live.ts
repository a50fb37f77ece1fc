/**
 * One live run of each, on a running Temporal server, and their events counted (bench/events.ts): the
 * raw ceiling's NoopWorkflow, and a successful FeedbackWorkflow started as the SQS bridge starts a queue
 * request (startFeedbackWorkflow: its search attributes) with vLLM and the delivery scripted (the real
 * prompt and guardrail), its generation on a separate LLM task queue as in production.
 *
 *   TEMPORAL_ADDRESS=127.0.0.1:7233 npx tsx bench/events-live.ts [out-dir] [raw|feedback|rejected]
 *
 * Writes <out-dir>/{raw-noop,feedback-success}.json (the histories) and prints their counts. The
 * namespace needs our search attributes (scripts/infra.sh registers them).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowIdReusePolicy } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { checkedGeneration, type FeedbackActivities } from '../src/activities';
import { DEFAULT_POLICY, loadConfig } from '../src/config';
import { validateFeedbackRequest } from '../src/domain/request';
import { FailureTypes, type FeedbackWorkflowInput } from '../src/domain/workflow';
import { startFeedbackWorkflow } from '../src/run/start';
import { llmActivities, WORKFLOWS_PATH } from '../src/worker/worker';
import { serializeHistory } from '../scripts/record-histories';
import { createNoopActivities } from './baselines/noop-activities';
import { countEvents, formatCounts } from './events';

const REQUEST_FIXTURE = join(__dirname, '..', 'test', 'fixtures', 'contract', 'request-iso-dates.json');
const FEEDBACK = '하루 30분 걷기를 멋지게 해냈어요! 🌱 텀블러는 다음 주에 다시 도전해봐요.';

async function main(): Promise<void> {
  const { address, namespace } = loadConfig().temporal;
  const outDir = process.argv[2] ?? '.data/events-live';
  // One of the two alone (e.g. to read the visibility store's write counters around it); default both.
  const only = process.argv[3];
  mkdirSync(outDir, { recursive: true });
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const suffix = `${process.pid}-${Date.now()}`;
  const taskQueue = `events-live-${suffix}`;
  const llmTaskQueue = `${taskQueue}-llm`;
  const native = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });

  const histories: Array<[string, unknown]> = [];
  const save = async (name: string, workflowId: string) => {
    const json = serializeHistory(await client.workflow.getHandle(workflowId).fetchHistory());
    writeFileSync(join(outDir, `${name}.json`), json + '\n');
    histories.push([name, JSON.parse(json)]);
  };

  // The raw ceiling's run, as bench/baselines/raw-temporal.ts runs it.
  if (only !== 'feedback') await runRaw();
  if (only === undefined || only === 'feedback') await runFeedback();
  // A delivery the callback rejects (400): the run fails, its last upsert `failed` in the task that closes it.
  if (only === 'rejected') await runFeedback(true);

  for (const [name, history] of histories)
    process.stdout.write(`${formatCounts(name, countEvents(history))}\n`);
  await connection.close();
  await native.close();

  async function runRaw(): Promise<void> {
    const rawWorker = await Worker.create({
      connection: native,
      namespace,
      taskQueue,
      workflowsPath: require.resolve('./baselines/noop-workflow'),
      activities: createNoopActivities({ record: () => undefined }),
    });
    const rawId = `raw-events-${suffix}`;
    await rawWorker.runUntil(
      client.workflow.execute('NoopWorkflow', { taskQueue, workflowId: rawId, args: [Date.now()] }),
    );
    await save('raw-noop', rawId);
  }

  // A successful queue request through FeedbackWorkflow.
  async function runFeedback(rejected = false): Promise<void> {
    const generate = async () => ({ text: FEEDBACK, usage: { promptTokens: 812, completionTokens: 96 } });
    const activities: FeedbackActivities = {
      generateCheckedFeedback: checkedGeneration(undefined, generate),
      deliverResult: async () => {
        if (rejected)
          throw ApplicationFailure.create({
            message: 'callback answered 400: bad body',
            type: FailureTypes.DeliveryRejected,
            nonRetryable: true,
          });
      },
      countEarlierFailures: async () => 0,
    };
    const parsed = validateFeedbackRequest(JSON.parse(readFileSync(REQUEST_FIXTURE, 'utf8')));
    if (!parsed.ok) throw new Error(`${REQUEST_FIXTURE} is not a valid request`);
    const { requestId: _r, timestamp: _t, ...request } = parsed.value;
    const now = new Date().toISOString();
    const input: FeedbackWorkflowInput = {
      requestId: `events-live-${suffix}`,
      request,
      requestedAt: now,
      source: 'queue',
      policy: { ...DEFAULT_POLICY, llmTaskQueue, deliveryMode: rejected ? 'callback' : 'queue' },
      acceptedAt: now,
      sentAt: now,
      signature: `${request.memberId}-events-live-${suffix}`,
    };
    const worker = await Worker.create({
      connection: native,
      namespace,
      taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities,
    });
    const llmWorker = await Worker.create({
      connection: native,
      namespace,
      taskQueue: llmTaskQueue,
      activities: llmActivities(activities),
    });
    const { workflowId } = await llmWorker.runUntil(
      worker.runUntil(async () => {
        const started = await startFeedbackWorkflow(client, input, {
          taskQueue,
          reusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
        await client.workflow
          .getHandle(started.workflowId)
          .result()
          .catch((err: unknown) => {
            if (!rejected || !(err instanceof WorkflowFailedError)) throw err;
          });
        return started;
      }),
    );
    await save(rejected ? 'feedback-delivery-rejected' : 'feedback-success', workflowId);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `events-live failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
