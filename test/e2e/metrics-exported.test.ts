/**
 * Every metric the alerting rules and the dashboard query (deploy/monitoring) is exported by a process
 * of a running stack: the API, the bridge and the worker run as real processes on the test stack with
 * the vLLM simulator and the BE double's callback (DELIVERY_MODE=both), and traffic goes through every
 * path that creates a labelled series the PromQL names — an accepted and a refused API request, a
 * generation failure that holds its "500", a generation vLLM refuses once as a configuration error (401,
 * retried), a callback the BE rejects, a dead-lettered body. Then each
 * process's /metrics is scraped and every metric name parsed out of the rules' and the dashboard's
 * expressions must have a sample, except those deploy/monitoring/external-metrics.yml lists as coming
 * from other exporters.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Client, Connection, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { statusQuery } from '../../src/domain/workflow';
import { HOLDING_RUNS_QUERY } from '../../src/sqs-bridge/bridge';
import { createBeDouble, type BeDouble } from '../../dev/be-double';
import { createVllmSimulator, type VllmSimulator } from '../../dev/vllm-simulator';
import { acceptedRequest } from '../support/accepted';
import { eventually } from '../support/eventually';
import { externalMetrics, queriedMetrics } from '../support/monitoring';
import { serviceEnv, spawnEntryPoint, type EntryPoint } from '../support/processes';
import { freshQueues, testSqsClient, testStack } from '../support/stack';
import { releaseAll } from '../support/teardown';

jest.setTimeout(240_000);

/**
 * Long enough for the bridge's count of holding runs to see the run: the test scrapes once visibility
 * has it, and the bridge's first read (the first scrape of this file's bridge) is a fresh one.
 */
const HOLD_SECONDS = 10;

let sqs: SQSClient;
let simulator: VllmSimulator;
let receiver: BeDouble;
let connection: Connection;
let temporal: Client;
let queueUrl: string;
const children: EntryPoint[] = [];
const urls = { api: '', bridge: '', worker: '' };

const port = async (child: EntryPoint, msg: string) =>
  `http://127.0.0.1:${(await child.waitForLog(msg, 90_000)).port as number}`;

beforeAll(async () => {
  sqs = testSqsClient();
  simulator = createVllmSimulator({ maxNumSeqs: 4, latencyMs: 20 });
  const vllmUrl = (await simulator.listen(0)).url;
  receiver = createBeDouble({ members: 'any' });
  const callbackUrl = await receiver.listen(0);
  const queues = await freshQueues(sqs, 'metrics');
  queueUrl = queues.requestQueueUrl;
  const env = serviceEnv(queues, {
    DELIVERY_MODE: 'both',
    BE_CALLBACK_BASE_URL: callbackUrl,
    VLLM_API_URL: vllmUrl,
    BRIDGE_WAIT_TIME_SECONDS: '1',
    API_PORT: '0',
    API_HOST: '127.0.0.1',
    FEEDBACK_FAILURE_HOLD_SECONDS: String(HOLD_SECONDS),
  });
  const [api, bridge, worker] = ['api', 'sqs-bridge', 'worker'].map((name) =>
    spawnEntryPoint(`src/${name}/main.ts`, env),
  );
  children.push(api, bridge, worker);
  [urls.api, urls.bridge, urls.worker] = await Promise.all([
    port(api, 'API listening'),
    port(bridge, 'Health server listening'),
    port(worker, 'Health server listening'),
  ]);
  await Promise.all([worker.waitForLog('Worker running', 90_000), bridge.waitForLog('SQS bridge polling')]);
  connection = await Connection.connect({ address: testStack().temporalAddress });
  temporal = new Client({ connection });
}, 180_000);

afterAll(() =>
  releaseAll([
    ['kill the processes', () => Promise.all(children.map((c) => c.kill()))],
    ['close the Temporal connection', () => connection?.close()],
    ['close the vLLM simulator', () => simulator?.close()],
    ['close the BE double', () => receiver?.close()],
    ['destroy the SQS client', () => sqs?.destroy()],
  ]),
);

const memberId = () => 100_000 + Math.floor(Math.random() * 800_000);
const request = (member: number) => ({
  memberId: member,
  personalChallenges: [{ id: 1, title: '텀블러 사용하기', isSuccess: true }],
});

async function post(body: unknown): Promise<Response> {
  return fetch(`${urls.api}/ai/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** The run's outcome once the bridge started it and it closed: 'completed' or the failure's cause. */
async function outcome(workflowId: string): Promise<string> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      await temporal.workflow.getHandle(workflowId).result();
      return 'completed';
    } catch (err) {
      if (err instanceof WorkflowFailedError)
        return (err.cause as { type?: string } | undefined)?.type ?? 'failed';
      if (!(err instanceof WorkflowNotFoundError) || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

const scrape = async (url: string) => (await fetch(`${url}/metrics`)).text();
const hasSample = (text: string, name: string) => new RegExp(`^${name}(?:\\{| )`, 'm').test(text);

describe('traffic through every counted path', () => {
  it('accepts a request that is generated and delivered to both channels', async () => {
    const { workflowId } = await acceptedRequest(await post(request(memberId())));
    expect(await outcome(workflowId)).toBe('completed');
  });

  it('refuses an invalid API request', async () => {
    expect((await post({ memberId: 'not a number' })).status).toBe(400);
  });

  it('fails a run whose callback the BE rejects', async () => {
    receiver.failNext(1, 400);
    const { workflowId } = await acceptedRequest(await post(request(memberId())));
    expect(await outcome(workflowId)).toBe('DeliveryFailed');
  });

  it('holds the "500" of a queue request whose generation failed, and the bridge counts it', async () => {
    simulator.setFaults([{ kind: 'error400', count: 1 }]);
    const member = memberId();
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(request(member)),
        MessageGroupId: 'feedback-request',
        MessageDeduplicationId: randomUUID(),
      }),
    );
    const workflowId = `feedback-${member}-${sent.MessageId}`;
    const stage = await eventually(
      () =>
        temporal.workflow
          .getHandle(workflowId)
          .query(statusQuery)
          .then((s) => s.stage)
          .catch(() => 'not started'),
      (s) => s === 'holding',
      30_000,
      200,
    );
    expect(stage).toBe('holding');
    // The bridge keeps a count for 15 s: scrape first when visibility counts this run.
    const visible = await eventually(
      async () =>
        (await temporal.workflow.count(`${HOLDING_RUNS_QUERY} AND WorkflowId = '${workflowId}'`)).count,
      (count) => count === 1,
      (HOLD_SECONDS - 5) * 1000,
      100,
    );
    expect(visible).toBe(1);
    const holding = await eventually(
      async () => /^feedback_bridge_holding_runs\{[^}]*\} (\d+)$/m.exec(await scrape(urls.bridge))?.[1],
      (value) => Number(value) >= 1,
      (HOLD_SECONDS - 5) * 1000,
      1000,
    );
    expect(Number(holding)).toBeGreaterThanOrEqual(1);
    expect(await outcome(workflowId)).toBe('GenerationFailed');
  });

  it('retries a generation vLLM refuses as a configuration error (401) and delivers', async () => {
    simulator.setFaults([{ kind: 'unauthorized', count: 1 }]);
    const { workflowId } = await acceptedRequest(await post(request(memberId())));
    expect(await outcome(workflowId)).toBe('completed');
    expect(simulator.stats().faultsInjected).toMatchObject({ unauthorized: 1 });
  });

  it('dead-letters a body that is not a request', async () => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: 'not json',
        MessageGroupId: 'feedback-request',
        MessageDeduplicationId: randomUUID(),
      }),
    );
    const text = await eventually(
      () => scrape(urls.bridge),
      (t) => /^feedback_bridge_dead_lettered_total\{[^}]*\} 1$/m.test(t),
      30_000,
      250,
    );
    expect(text).toMatch(/^feedback_bridge_dead_lettered_total\{[^}]*\} 1$/m);
  });
});

describe('/metrics after the traffic', () => {
  let scraped: string;

  beforeAll(async () => {
    scraped = (await Promise.all([urls.api, urls.bridge, urls.worker].map(scrape))).join('\n');
  });

  it('has every metric the alerting rules and the dashboard query (other exporters’ aside)', () => {
    const external = new Set(Object.values(externalMetrics()).flat());
    const queried = [...queriedMetrics()].filter(([name]) => !external.has(name));
    expect(queried.length).toBeGreaterThan(20);
    const missing = queried
      .filter(([name]) => !hasSample(scraped, name))
      .map(([name, uses]) => ({ name, uses }));
    expect(missing).toEqual([]);
  });

  it('has the labelled series this traffic created', () => {
    for (const series of [
      /^feedback_api_requests_total\{[^}]*route="\/ai\/feedback"[^}]*status="202"/m,
      /^feedback_api_requests_total\{[^}]*route="\/ai\/feedback"[^}]*status="400"/m,
      /^feedback_callback_responses_total\{[^}]*status="200"/m,
      /^feedback_callback_responses_total\{[^}]*status="400"/m,
      /^feedback_failures_total\{[^}]*outcome="delivery-failed"[^}]*reason="delivery"/m,
      /^feedback_failures_total\{[^}]*outcome="delivered"[^}]*reason="generation"/m,
      /^feedback_activity_outcomes_total\{[^}]*activityType="generateCheckedFeedback"[^}]*outcome="VllmRejected"/m,
      /^feedback_activity_outcomes_total\{[^}]*activityType="deliverResult"[^}]*outcome="DeliveryRejected"/m,
      /^feedback_llm_tokens_total\{[^}]*kind="completion"/m,
      /^feedback_vllm_config_errors_total\{[^}]*cause="unauthorized"/m,
    ])
      expect(scraped).toMatch(series);
  });
});
