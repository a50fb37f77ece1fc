/**
 * Graceful shutdown of the three entry points, as real OS processes: each is started with tsx and an
 * explicit environment, sent SIGTERM once ready, and must drain what it has in hand and exit 0.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import {
  FEEDBACK_WORKFLOW_TYPE,
  type FeedbackOutcome,
  type FeedbackWorkflowInput,
} from '../../src/domain/workflow';
import { createVllmSimulator, type VllmSimulator } from '../../dev/vllm-simulator';
import { startTcpProxy } from '../../dev/tcp-proxy';
import {
  serviceEnv,
  spawnEntryPoint,
  startSqsProxy,
  type EntryPoint,
  type SqsProxy,
} from '../support/processes';
import { freshQueues, testConfig, testSqsClient, testStack } from '../support/stack';
import { releaseAll, withDeadline } from '../support/teardown';

jest.setTimeout(120_000);

let sqs: SQSClient;
const children: EntryPoint[] = [];
const cleanups: Array<() => Promise<void>> = [];

beforeAll(() => {
  sqs = testSqsClient();
});

afterEach(() =>
  releaseAll([
    ['kill the processes', () => Promise.all(children.splice(0).map((c) => c.kill()))],
    ...cleanups
      .splice(0)
      .reverse()
      .map((cleanup, i) => [`cleanup ${i + 1}`, cleanup] as const),
  ]),
);

afterAll(() => sqs?.destroy());

const childEnv = serviceEnv;

function start(entry: string, env: Record<string, string>): EntryPoint {
  const child = spawnEntryPoint(entry, env);
  children.push(child);
  return child;
}

async function proxy(delayMs: number): Promise<SqsProxy> {
  const p = await startSqsProxy(testStack().sqsEndpoint, delayMs);
  cleanups.push(() => p.close());
  return p;
}

/** Whether connecting to `port` is refused (ECONNREFUSED) within `ms`, trying every 20 ms. */
async function refusedWithin(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  do {
    if ((await tryConnect(port)) === 'ECONNREFUSED') return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  } while (Date.now() < deadline);
  return false;
}

/** Resolves with the connection error code, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve('connected')));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** A TCP server that accepts connections and never answers (a Temporal that hangs). */
async function blackHole(): Promise<{ address: string; connected: Promise<void> }> {
  const sockets: net.Socket[] = [];
  let connected!: () => void;
  const firstConnection = new Promise<void>((resolve) => (connected = resolve));
  const server = net.createServer((socket) => {
    sockets.push(socket);
    connected();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, connected: firstConnection };
}

const REQUEST = { memberId: 77, personalChallenges: [{ id: 1, title: '텀블러 사용하기', isSuccess: true }] };

describe('SIGTERM', () => {
  it('API: answers the request in flight, refuses new connections, exits 0', async () => {
    const queues = await freshQueues(sqs, 'stop-api');
    // Every SQS call of the API takes ~1 s, so a request is still in flight when SIGTERM arrives.
    const slowSqs = await proxy(1000);
    const api = start(
      'src/api/main.ts',
      childEnv(queues, { AWS_ENDPOINT_URL_SQS: slowSqs.url, API_PORT: '0', API_HOST: '127.0.0.1' }),
    );
    const { port } = (await api.waitForLog('API listening')) as { port: number };
    expect(port).toBeGreaterThan(0);

    let answeredAt = 0;
    const inFlight = fetch(`http://127.0.0.1:${port}/ai/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(REQUEST),
    }).then(async (res) => {
      answeredAt = Date.now();
      await res.arrayBuffer();
      return { status: res.status, requestId: res.headers.get('x-request-id') };
    });
    await slowSqs.nextRequest('AmazonSQS.SendMessageBatch');
    const signalledAt = api.signal('SIGTERM');
    await api.waitForLog('Shutting down');

    // The listener closes right after that log line, while the request above still waits for SQS.
    expect(await refusedWithin(port, 500)).toBe(true);
    expect(answeredAt).toBe(0);

    const answer = await inFlight;
    expect(answer.status).toBe(202);
    const exit = await api.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(answeredAt).toBeGreaterThan(signalledAt);
    // Exits as soon as the last answer is out, without waiting for the keep-alive timeout.
    expect(exit.at - answeredAt).toBeLessThan(1000);

    const queued = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues.requestQueueUrl, WaitTimeSeconds: 1 }),
    );
    expect(answer.requestId).toBeTruthy();
    expect(queued.Messages?.map((m) => JSON.parse(m.Body ?? '{}').requestId)).toEqual([answer.requestId]);
  });

  it('bridge: stops its 20 s long polls and exits 0 within seconds', async () => {
    const queues = await freshQueues(sqs, 'stop-bridge');
    const countingSqs = await proxy(0);
    const bridge = start(
      'src/sqs-bridge/main.ts',
      childEnv(queues, {
        AWS_ENDPOINT_URL_SQS: countingSqs.url,
        BRIDGE_WAIT_TIME_SECONDS: '20',
        BRIDGE_POLLERS: '2',
      }),
    );
    await bridge.waitForLog('SQS bridge polling');
    // Both pollers are in a long poll.
    const deadline = Date.now() + 10_000;
    const receives = () => countingSqs.requests.filter((r) => r.action === 'AmazonSQS.ReceiveMessage');
    while (receives().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(receives()).toHaveLength(2);
    expect(receives().every((r) => r.answeredAt === undefined)).toBe(true);

    const signalledAt = bridge.signal('SIGTERM');
    const exit = await bridge.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - signalledAt).toBeLessThan(5000);
    expect(countingSqs.requests.filter((r) => r.receivedAt >= signalledAt)).toEqual([]);
    expect(bridge.logs.map((l) => l.msg)).toContain('Stopped');
  });

  it.each([
    ['bridge', 'src/sqs-bridge/main.ts'],
    ['worker', 'src/worker/main.ts'],
  ])('%s: a SIGTERM while it is still connecting to Temporal exits 0 at once', async (_name, entry) => {
    const queues = await freshQueues(sqs, 'stop-early');
    const temporal = await blackHole();
    const child = start(entry, childEnv(queues, { TEMPORAL_ADDRESS: temporal.address }));
    await temporal.connected;

    const signalledAt = child.signal('SIGTERM');
    const exit = await child.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - signalledAt).toBeLessThan(2000);
    expect(child.output.join('')).toMatch(/SIGTERM while starting; exiting/);
  });

  describe('worker', () => {
    let simulator: VllmSimulator;
    let vllmUrl: string;
    let temporal: Client;

    beforeAll(async () => {
      simulator = createVllmSimulator({ maxNumSeqs: 4, latencyMs: 3000 });
      vllmUrl = (await simulator.listen(0)).url;
      temporal = new Client({
        connection: await Connection.connect({ address: testStack().temporalAddress }),
      });
    });

    afterAll(() =>
      releaseAll([
        ['close the Temporal connection', () => temporal?.connection.close()],
        ['close the vLLM simulator', () => simulator?.close()],
      ]),
    );

    it('lets the activity in flight finish, exits 0, and the workflow completes on the next worker', async () => {
      const queues = await freshQueues(sqs, 'stop-worker');
      const env = childEnv(queues, { VLLM_API_URL: vllmUrl });
      const first = start('src/worker/main.ts', env);
      await first.waitForLog('Worker running', 60_000);

      const requestId = randomUUID();
      const input: FeedbackWorkflowInput = {
        requestId,
        request: {
          memberId: REQUEST.memberId,
          personalChallenges: REQUEST.personalChallenges,
          groupChallenges: [],
        },
        requestedAt: '2025-06-16T09:00:00+09:00',
        source: 'api',
        acceptedAt: new Date().toISOString(),
        sentAt: new Date().toISOString(),
        // the vLLM call goes to the LLM task queue of this worker (as the bridge would set it).
        policy: {
          ...testConfig().policy,
          deliveryMode: 'queue',
          llmTaskQueue: `${env.TEMPORAL_TASK_QUEUE}-llm`,
        },
      };
      const handle = await temporal.workflow.start(FEEDBACK_WORKFLOW_TYPE, {
        taskQueue: env.TEMPORAL_TASK_QUEUE,
        workflowId: `feedback-${requestId}`,
        args: [input],
      });
      simulator.resetStats();
      const deadline = Date.now() + 30_000;
      while (simulator.stats().running === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(simulator.stats().running).toBe(1);

      const signalledAt = first.signal('SIGTERM');
      const exit = await first.exited;
      expect(exit).toMatchObject({ code: 0, signal: null });
      // the vLLM call ran to its end (vLLM answered 200) before the process exited.
      const [call] = simulator.stats().requests;
      expect(call).toMatchObject({ status: 200 });
      expect(call.finishedAt).toBeGreaterThan(signalledAt);
      expect(call.finishedAt).toBeLessThanOrEqual(exit.at);

      // The rest of the workflow runs on the next worker, without generating again.
      const second = start('src/worker/main.ts', env);
      await second.waitForLog('Worker running', 60_000);
      const outcome = (await handle.result()) as FeedbackOutcome;
      expect(outcome).toMatchObject({ requestId, status: 'success', deliveredTo: ['queue'] });
      expect(simulator.stats().received).toBe(1);

      second.signal('SIGTERM');
      expect(await second.exited).toMatchObject({ code: 0, signal: null });
    });
  });
});

// Regression (chaos run): a worker and a bridge restarted during the Temporal outage exited with
// "connection refused" and stayed down. They must wait for Temporal instead.
describe('start-up while Temporal is down', () => {
  /** Starts `entry` behind a closed proxy to Temporal; opens it once the process says it retries. */
  async function startWhileTemporalIsDown(entry: string): Promise<EntryPoint> {
    const port = await freePort();
    const [host, temporalPort] = testStack().temporalAddress.split(':');
    const temporal = await startTcpProxy(port, Number(temporalPort), host);
    await temporal.down();
    cleanups.push(() => temporal.close());
    const queues = await freshQueues(sqs, 'startup');
    const child = start(entry, childEnv(queues, { TEMPORAL_ADDRESS: `127.0.0.1:${port}` }));
    await child.waitForLog('Temporal unreachable; retrying', 30_000);
    await temporal.up();
    return child;
  }

  it.each([
    ['bridge', 'src/sqs-bridge/main.ts', 'SQS bridge polling'],
    ['worker', 'src/worker/main.ts', 'Worker running'],
  ])('%s: waits for Temporal and starts once it is reachable', async (_name, entry, readyLog) => {
    const child = await startWhileTemporalIsDown(entry);
    await child.waitForLog(readyLog, 60_000);
    // Signalled at once: a SIGTERM right after the ready line stops it in order (the worker used to
    // lose a signal that arrived while it was still in the code that logs "Worker running").
    child.signal('SIGTERM');
    expect(await withDeadline(child.exited, 15_000, 'exit after SIGTERM')).toMatchObject({
      code: 0,
      signal: null,
    });
    expect(child.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['Shutting down', 'Stopped']));
  });

  // The SDK shuts its Runtime down when a connection fails with nothing else open, and makes a new
  // one on the next try: instruments taken from the first Runtime's meter would never be exported.
  it('worker started during the outage exports its LLM flow-control gauges once running', async () => {
    const child = await startWhileTemporalIsDown('src/worker/main.ts');
    const { port: healthPort } = await child.waitForLog('Health server listening', 60_000);
    await child.waitForLog('Worker running', 60_000);
    const metrics = await (await fetch(`http://127.0.0.1:${healthPort as number}/metrics`)).text();
    expect(metrics).toMatch(/^feedback_llm_concurrency_limit(\{[^}]*\})? \d+$/m);
    expect(metrics).toMatch(/^feedback_llm_vllm_waiting_target(\{[^}]*\})? \d+$/m);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
