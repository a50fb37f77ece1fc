/**
 * `npm run chaos [-- --quick] [--n 1000] [--seed 7]`: the durability proof. Starts the real local
 * stack (Temporal dev server on a SQLite file, ElasticMQ behind a TCP proxy, the vLLM simulator, two
 * workers, two bridges, the API), sends N requests through both entry points (HTTP API and BE-style
 * queue messages, with deliberate duplicates and a few poison messages) while it kills and restarts
 * processes and makes Temporal, SQS, vLLM and the callback misbehave, then checks per request:
 * exactly one accepted delivery, one result-queue message, every poison message in the DLQ with its
 * reason. Prints a table, writes JSON under chaos/results/, exits 1 when anything was lost or doubled.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ReceiveMessageCommand,
  DeleteMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { loadConfig } from '../src/config';
import { createCallbackReceiver, type CallbackReceiver } from '../src/dev/callback-receiver';
import { sha256Hex } from '../src/domain/keys';
import { createSqsClient, ensureFeedbackQueues, type FeedbackQueues } from '../src/shared/sqs';
import { startElasticMq, startTemporalDevServer } from './infra';
import { ProcessGroup, waitForHttp } from './processes';
import { startTcpProxy, type TcpProxy } from '../src/dev/tcp-proxy';
import { formatTable, mulberry32, percentile, ProgressBar, sleep } from './util';

const ROOT = join(__dirname, '..');
const DATA = join(ROOT, '.data', 'chaos');
const PORTS = { temporal: 27233, sqs: 29324, sqsProxy: 29325, vllm: 28800, vllmProxy: 28801, api: 28000 };
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

interface Options {
  n: number;
  seed: number;
  quick: boolean;
  /** Length of the vLLM outage. */
  vllmDownMs: number;
  sendWindowMs: number;
}

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  const n = value('--n') ?? (quick ? 100 : 1000);
  return {
    n,
    seed: value('--seed') ?? 7,
    quick,
    vllmDownMs: quick ? 20_000 : 60_000,
    sendWindowMs: quick ? 30_000 : Math.max(60_000, n * 80),
  };
}

interface ExpectedRequest {
  key: string;
  memberId: number;
  via: 'api' | 'queue';
  sentAt: number;
  title: string;
}

interface FaultLog {
  at: number;
  kind: string;
  detail?: string;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const random = mulberry32(options.seed);
  const config = loadConfig();
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(join(DATA, 'logs'), { recursive: true });
  const group = new ProcessGroup(join(DATA, 'logs'));
  cleanup = () => group.stopAll('SIGKILL');
  const faults: FaultLog[] = [];
  const t0 = Date.now();
  const note = (kind: string, detail?: string) => faults.push({ at: Date.now() - t0, kind, detail });

  // --- infrastructure -------------------------------------------------------------------------
  await startTemporalDevServer(group, {
    port: PORTS.temporal,
    dbFile: join(DATA, 'temporal.db'),
    home: DATA,
  });
  await startElasticMq(group, { port: PORTS.sqs });
  const proxy: TcpProxy = await startTcpProxy(PORTS.sqsProxy, PORTS.sqs);

  const direct = createSqsClient(
    { ...config.sqs, endpoint: `http://127.0.0.1:${PORTS.sqs}` },
    { credentials: CREDENTIALS, requestTimeoutMs: 10_000 },
  );
  const queues = await ensureFeedbackQueues(direct, 'chaos-feedback', { visibilityTimeoutSeconds: 30 });
  const viaProxy = (url: string) => url.replace(`:${PORTS.sqs}/`, `:${PORTS.sqsProxy}/`);
  const proxied: FeedbackQueues = {
    requestQueueUrl: viaProxy(queues.requestQueueUrl),
    dlqUrl: viaProxy(queues.dlqUrl),
    resultQueueUrl: viaProxy(queues.resultQueueUrl),
    resultDlqUrl: viaProxy(queues.resultDlqUrl),
  };
  // The BE's own sender goes through the proxy too: when "SQS" is down, it is down for everyone.
  const beSqs = createSqsClient(
    { ...config.sqs, endpoint: `http://127.0.0.1:${PORTS.sqsProxy}` },
    { credentials: CREDENTIALS, maxAttempts: 1, requestTimeoutMs: 3000 },
  );

  const receiver: CallbackReceiver = createCallbackReceiver();
  const callbackUrl = await receiver.listen(0);
  receiver.setFaults({ failRate: 0.1, failStatus: 503, slowRate: 0.03, slowMs: 7000, random });

  // --- the service ------------------------------------------------------------------------------
  const env: NodeJS.ProcessEnv = {
    LOG_LEVEL: 'info',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    TEMPORAL_ADDRESS: `127.0.0.1:${PORTS.temporal}`,
    TEMPORAL_TASK_QUEUE: 'chaos-feedback',
    AWS_REGION: config.sqs.region,
    AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${PORTS.sqsProxy}`,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_SQS_FEEDBACK_QUEUE_URL: proxied.requestQueueUrl,
    AWS_SQS_FEEDBACK_DLQ_URL: proxied.dlqUrl,
    AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: proxied.resultQueueUrl,
    API_PORT: String(PORTS.api),
    API_AUTH_MODE: 'none',
    API_HOST: '127.0.0.1',
    // Two bridges and two workers on one machine: each health server on a free port.
    BRIDGE_HEALTH_PORT: '0',
    WORKER_HEALTH_PORT: '0',
    HEALTH_HOST: '127.0.0.1',
    BRIDGE_WAIT_TIME_SECONDS: '5',
    BRIDGE_BACKOFF_MAX_MS: '5000',
    BRIDGE_VISIBILITY_TIMEOUT_SECONDS: '30',
    // Through a proxy: the vLLM outage is the proxy going down, so the simulator keeps its records.
    VLLM_API_URL: `http://127.0.0.1:${PORTS.vllmProxy}`,
    VLLM_TIMEOUT_SECONDS: '10',
    VLLM_HEARTBEAT_SECONDS: '3',
    VLLM_RETRY_MAX_INTERVAL_SECONDS: '10',
    DELIVERY_MODE: 'both',
    BE_CALLBACK_BASE_URL: callbackUrl,
    BE_CALLBACK_AUTHORIZATION: 'Bearer chaos-secret',
    DELIVERY_TIMEOUT_SECONDS: '5',
    DELIVERY_RETRY_MAX_INTERVAL_SECONDS: '10',
    VLLM_SIM_PORT: String(PORTS.vllm),
    VLLM_SIM_MAX_NUM_SEQS: '64',
    VLLM_SIM_LATENCY_MS: '200',
  };
  const node = process.execPath;
  const dist = (path: string) => [join(ROOT, 'dist', 'src', path)];
  const simFaults = [
    { kind: 'hang', probability: 0.05 },
    { kind: 'error500', probability: 0.15 },
    { kind: 'slow', probability: 0.1, slowMs: 3000 },
  ];
  group.start('vllm-simulator', node, dist('simulator/main.js'), env);
  await waitForHttp(`http://127.0.0.1:${PORTS.vllm}/health`);
  await fetch(`http://127.0.0.1:${PORTS.vllm}/sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ rules: simFaults }),
  });
  const vllmProxy: TcpProxy = await startTcpProxy(PORTS.vllmProxy, PORTS.vllm);
  for (const name of ['worker-1', 'worker-2']) group.start(name, node, dist('worker/main.js'), env);
  for (const name of ['bridge-1', 'bridge-2']) group.start(name, node, dist('sqs-bridge/main.js'), env);
  group.start('api', node, dist('api/main.js'), env);
  await waitForHttp(`http://127.0.0.1:${PORTS.api}/health`);

  // --- result-queue consumer (the BE's side, unaffected by the proxy) --------------------------
  const resultCounts = new Map<string, number>();
  let consuming = true;
  const consumer = consume(
    direct,
    queues.resultQueueUrl,
    () => consuming,
    (body) => {
      const key = String((JSON.parse(body) as { requestId?: string }).requestId);
      resultCounts.set(key, (resultCounts.get(key) ?? 0) + 1);
    },
  );

  // --- fault schedule ---------------------------------------------------------------------------
  const window = options.sendWindowMs;
  const at = (from: number, to: number) => from + random() * (to - from);
  const schedule: Array<{ at: number; run: () => Promise<void> }> = [];
  const workerKills = [
    at(5_000, window * 0.3),
    at(window * 0.35, window * 0.6),
    at(window * 0.65, window + 10_000),
  ];
  workerKills.forEach((time, i) =>
    schedule.push({
      at: time,
      run: async () => {
        const name = `worker-${(i % 2) + 1}`;
        // Kill while vLLM calls are in flight (up to 15 s of waiting), so recovery can be measured.
        for (let waited = 0; waited < 15_000 && (await simulatorRunning()) < 2; waited += 200)
          await sleep(200);
        await group.stop(name, 'SIGKILL');
        note('kill', name);
        await sleep(1000 + random() * 2000);
        group.restart(name);
      },
    }),
  );
  [at(8_000, window * 0.5), at(window * 0.5, window)].forEach((time, i) =>
    schedule.push({
      at: time,
      run: async () => {
        const name = `bridge-${i + 1}`;
        await group.stop(name, 'SIGKILL');
        note('kill', name);
        await sleep(2000);
        group.restart(name);
      },
    }),
  );
  schedule.push({
    at: at(window * 0.2, window * 0.7),
    run: async () => {
      await group.stop('temporal', 'SIGTERM');
      note('temporal-down', '10 s');
      await sleep(10_000);
      group.restart('temporal');
      note('temporal-up');
    },
  });
  schedule.push({
    at: at(window * 0.1, window * 0.8),
    run: async () => {
      await proxy.down();
      note('sqs-down', '8 s');
      await sleep(8_000);
      await proxy.up();
      note('sqs-up');
    },
  });
  schedule.push({
    at: at(window * 0.6, window * 0.8),
    run: async () => {
      await vllmProxy.down();
      note('vllm-down', `${options.vllmDownMs / 1000} s`);
      await sleep(options.vllmDownMs);
      await vllmProxy.up();
      note('vllm-up');
    },
  });
  const faultRuns = schedule.map((f) => sleep(f.at).then(f.run));

  async function simulatorRunning(): Promise<number> {
    try {
      const stats = (await fetch(`http://127.0.0.1:${PORTS.vllm}/sim/stats`).then((r) => r.json())) as {
        running: number;
      };
      return stats.running;
    } catch {
      return 0;
    }
  }

  // --- traffic ------------------------------------------------------------------------------
  const expected = new Map<string, ExpectedRequest>();
  const poison: string[] = [];
  let api503 = 0;
  let duplicatesSent = 0;
  const progress = new ProgressBar(options.n);
  const ticker = setInterval(
    () =>
      progress.render(
        receiver.accepted().length,
        `api 503s ${api503} | faults ${faults.length} | ${Math.round((Date.now() - t0) / 1000)}s`,
      ),
    1000,
  );

  const sends: Promise<void>[] = [];
  const poisonAt = new Set([
    3,
    Math.floor(options.n * 0.3),
    Math.floor(options.n * 0.5),
    Math.floor(options.n * 0.7),
    options.n - 2,
  ]);
  for (let i = 0; i < options.n; i++) {
    await sleep(window / options.n);
    const memberId = 100_000 + i;
    const title = `플로깅 하기 #${i}`;
    const request = {
      memberId,
      personalChallenges: [{ id: i, title, isSuccess: i % 3 !== 0 }],
      groupChallenges: [],
    };
    if (i % 2 === 0) {
      sends.push(
        postWithRetry(request).then((r) => {
          api503 += r.rejected;
          if (r.requestId)
            expected.set(r.requestId, { key: r.requestId, memberId, via: 'api', sentAt: r.sentAt, title });
        }),
      );
    } else {
      const body = JSON.stringify(request);
      const key = `${memberId}-${sha256Hex(body)}`;
      const copies = [key];
      if (i % 10 === 1) copies.push(key); // the BE retrying a send: same dedup id
      if (i % 15 === 1) copies.push(`other-${key}`.slice(0, 128)); // same body, another dedup id
      duplicatesSent += copies.length - 1;
      sends.push(
        (async () => {
          const sentAt = Date.now();
          for (const dedupId of copies) await sendWithRetry(beSqs, proxied.requestQueueUrl, body, dedupId);
          expected.set(key, { key, memberId, via: 'queue', sentAt, title });
        })(),
      );
    }
    if (poisonAt.has(i)) {
      const bodies = [
        '{"memberId": 1, "personalChallenges": [',
        JSON.stringify({ memberId: -1, personalChallenges: [{ id: 1, title: 't', isSuccess: true }] }),
        JSON.stringify({
          memberId: 5,
          groupChallenges: [
            { id: 1, title: 't', startDate: '2025-02-30T00:00:00', endDate: [2025, 3, 1, 0, 0] },
          ],
        }),
        JSON.stringify({ memberId: 6, personalChallenges: [], groupChallenges: [] }),
        '["not", "an", "object"]',
      ];
      const body = bodies[poison.length % bodies.length];
      poison.push(body);
      sends.push(sendWithRetry(beSqs, proxied.requestQueueUrl, body, `poison-${i}`));
    }
  }
  await Promise.all(sends);
  await Promise.all(faultRuns);
  note('traffic-and-faults-done');

  // --- quiescence ---------------------------------------------------------------------------
  // Quiescence: every request has its outcome, or nothing was delivered for two minutes (a request
  // still without an outcome then is lost). A hard cap keeps the run bounded.
  const hardDeadline = Date.now() + 30 * 60_000;
  const done = () =>
    [...expected.keys()].every(
      (key) => acceptedKeys(receiver, key).length > 0 && (resultCounts.get(key) ?? 0) > 0,
    );
  let lastProgress = Date.now();
  let lastCount = -1;
  while (!done() && Date.now() < hardDeadline && Date.now() - lastProgress < 120_000) {
    const count = receiver.attempts().length + [...resultCounts.values()].reduce((a, b) => a + b, 0);
    if (count !== lastCount) {
      lastCount = count;
      lastProgress = Date.now();
    }
    await sleep(1000);
  }
  await sleep(15_000); // late duplicates would show up here
  clearInterval(ticker);
  progress.render(receiver.accepted().length, 'settled');
  progress.finish();
  consuming = false;
  await consumer;

  // --- checks -------------------------------------------------------------------------------
  const dlq = await drain(direct, queues.dlqUrl);
  const simulatorStats = (await fetch(`http://127.0.0.1:${PORTS.vllm}/sim/stats`).then((r) =>
    r.json(),
  )) as Record<string, unknown>;
  const simRequests = (await fetch(`http://127.0.0.1:${PORTS.vllm}/sim/requests`).then((r) =>
    r.json(),
  )) as SimRecord[];

  let deliveredOnce = 0;
  let duplicatesAccepted = 0;
  let lost = 0;
  let errorContent = 0;
  let resultMissing = 0;
  let resultDoubled = 0;
  const latencies: number[] = [];
  const lostKeys: string[] = [];
  for (const request of expected.values()) {
    const accepted = acceptedKeys(receiver, request.key);
    if (accepted.length === 0) {
      lost++;
      lostKeys.push(request.key);
    } else if (accepted.length > 1) duplicatesAccepted++;
    else deliveredOnce++;
    const first = receiver
      .attempts()
      .find((a) => a.status === 200 && (a.body as { requestId?: string })?.requestId === request.key);
    if (first) latencies.push(first.at - request.sentAt);
    if (receiver.accepted().some((r) => r.requestId === request.key && r.content === '500')) errorContent++;
    const results = resultCounts.get(request.key) ?? 0;
    if (results === 0) resultMissing++;
    if (results > 1) resultDoubled++;
  }
  const dlqBodies = dlq.map((m) => m.body);
  const dlqWithoutReason = dlq.filter((m) => !m.reason).length;
  const unexpectedInDlq = dlqBodies.filter((b) => !poison.includes(b)).length;
  const poisonMissing = poison.filter((p) => !dlqBodies.includes(p)).length;
  const recovery = recoveryAfterKills(faults, simRequests, t0);

  const attempts = receiver.attempts();
  const report = {
    command: ['npm run chaos', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(
      ' ',
    ),
    date: new Date().toISOString(),
    options,
    requests: {
      total: expected.size,
      viaApi: [...expected.values()].filter((r) => r.via === 'api').length,
      viaQueue: [...expected.values()].filter((r) => r.via === 'queue').length,
      duplicateSends: duplicatesSent,
      poison: poison.length,
      api503Answers: api503,
    },
    outcome: {
      deliveredOnce,
      duplicatesAccepted,
      lost,
      lostKeys: lostKeys.slice(0, 20),
      deliveredAsError500: errorContent,
      resultQueueMissing: resultMissing,
      resultQueueDoubled: resultDoubled,
      dlq: { found: dlq.length, poisonMissing, unexpected: unexpectedInDlq, withoutReason: dlqWithoutReason },
    },
    faults: {
      workerKills: faults.filter((f) => f.kind === 'kill' && f.detail?.startsWith('worker')).length,
      bridgeKills: faults.filter((f) => f.kind === 'kill' && f.detail?.startsWith('bridge')).length,
      temporalRestarts: faults.filter((f) => f.kind === 'temporal-down').length,
      sqsOutages: faults.filter((f) => f.kind === 'sqs-down').length,
      vllmOutages: faults.filter((f) => f.kind === 'vllm-down').length,
      vllmInjected: simulatorStats.faultsInjected,
      callbackInjected: receiver.faultsInjected(),
      callbackAttempts: attempts.length,
      callbackRepeatsOfAcceptedKeys: receiver.duplicates(),
      timeline: faults,
    },
    latencyMs: {
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      max: Math.max(0, ...latencies),
    },
    recoveryAfterWorkerKillMs: recovery,
  };
  const failed =
    lost > 0 ||
    duplicatesAccepted > 0 ||
    resultMissing > 0 ||
    resultDoubled > 0 ||
    poisonMissing > 0 ||
    unexpectedInDlq > 0 ||
    dlqWithoutReason > 0;

  process.stdout.write(
    '\n' +
      formatTable([
        [
          'requests',
          `${report.requests.total} (${report.requests.viaApi} API, ${report.requests.viaQueue} queue, ${duplicatesSent} duplicate sends, ${poison.length} poison)`,
        ],
        ['delivered once', String(deliveredOnce)],
        ['duplicates accepted', String(duplicatesAccepted)],
        ['lost', String(lost)],
        ['result queue missing / doubled', `${resultMissing} / ${resultDoubled}`],
        ['delivered as "500"', String(errorContent)],
        [
          'DLQ',
          `${dlq.length} (poison missing ${poisonMissing}, unexpected ${unexpectedInDlq}, without reason ${dlqWithoutReason})`,
        ],
        [
          'faults injected',
          `${report.faults.workerKills} worker kills, ${report.faults.bridgeKills} bridge kills, ${report.faults.temporalRestarts} Temporal restart, ` +
            `${report.faults.sqsOutages} SQS outage, ${report.faults.vllmOutages} vLLM outage (${options.vllmDownMs / 1000} s), ` +
            `vLLM ${JSON.stringify(simulatorStats.faultsInjected)}, callback ${JSON.stringify(receiver.faultsInjected())}, API 503s ${api503}`,
        ],
        ['callback attempts (repeats of accepted keys)', `${attempts.length} (${receiver.duplicates()})`],
        ['e2e time p50 / p99', `${fmtMs(report.latencyMs.p50)} / ${fmtMs(report.latencyMs.p99)}`],
        [
          'recovery after worker kill (max per kill)',
          recovery.map((r) => (r.maxMs === undefined ? 'n/a' : fmtMs(r.maxMs))).join(', '),
        ],
        ['verdict', failed ? 'FAILED' : 'PASSED: nothing lost, nothing doubled'],
      ]) +
      '\n',
  );
  mkdirSync(join(ROOT, 'chaos', 'results'), { recursive: true });
  const file = join(
    ROOT,
    'chaos',
    'results',
    `${report.date.slice(0, 10)}-n${options.n}${options.quick ? '-quick' : ''}.json`,
  );
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`report: ${file}\n`);

  await group.stopAll('SIGTERM');
  await proxy.close();
  await vllmProxy.close();
  await receiver.close();
  direct.destroy();
  beSqs.destroy();
  process.exitCode = failed ? 1 : 0;

  // --- helpers bound to this run ---------------------------------------------------------------
  async function postWithRetry(
    body: unknown,
  ): Promise<{ requestId?: string; sentAt: number; rejected: number }> {
    let rejected = 0;
    for (let attempt = 0; attempt < 60; attempt++) {
      const sentAt = Date.now();
      try {
        const res = await fetch(`http://127.0.0.1:${PORTS.api}/ai/feedback`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(5000),
        });
        await res.arrayBuffer(); // drain the body (the 202's data is null; the id is a header)
        const requestId = res.headers.get('x-request-id');
        if (res.status === 202 && requestId) return { requestId, sentAt, rejected };
        rejected++;
      } catch {
        rejected++;
      }
      await sleep(1000);
    }
    return { sentAt: Date.now(), rejected };
  }
}

async function sendWithRetry(sqs: SQSClient, queueUrl: string, body: string, dedupId: string): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageGroupId: 'feedback-request',
          MessageDeduplicationId: dedupId,
        }),
      );
      return;
    } catch {
      await sleep(1000);
    }
  }
  throw new Error(`could not send ${dedupId} in 60 attempts`);
}

async function consume(
  sqs: SQSClient,
  queueUrl: string,
  running: () => boolean,
  onBody: (body: string) => void,
): Promise<void> {
  while (running()) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const messages = out.Messages ?? [];
    for (const m of messages) onBody(m.Body ?? '{}');
    if (messages.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  }
}

async function drain(sqs: SQSClient, queueUrl: string): Promise<Array<{ body: string; reason?: string }>> {
  const out: Array<{ body: string; reason?: string }> = [];
  for (let empty = 0; empty < 3;) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) empty++;
    for (const m of messages)
      out.push({ body: m.Body ?? '', reason: m.MessageAttributes?.reason?.StringValue });
    if (messages.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  }
  return out;
}

/** Distinct idempotency keys (workflow ids) whose delivery the BE accepted for one request. */
function acceptedKeys(receiver: CallbackReceiver, requestKey: string): string[] {
  const keys = new Set<string>();
  for (const a of receiver.attempts()) {
    if (
      a.status === 200 &&
      (a.body as { requestId?: string })?.requestId === requestKey &&
      a.idempotencyKey
    ) {
      keys.add(a.idempotencyKey);
    }
  }
  return [...keys];
}

interface SimRecord {
  receivedAt: number;
  finishedAt?: number;
  status?: number;
  prompt?: string;
}

/**
 * For each worker kill: the vLLM calls the dead worker had in flight (the simulator saw their
 * connections drop at the kill) and how long until each prompt was asked again by another worker.
 */
function recoveryAfterKills(
  faults: FaultLog[],
  records: SimRecord[],
  t0: number,
): Array<{ killAtMs: number; aborted: number; maxMs?: number; medianMs?: number }> {
  return faults
    .filter((f) => f.kind === 'kill' && f.detail?.startsWith('worker'))
    .map((kill) => {
      const killAt = t0 + kill.at;
      const aborted = records.filter(
        (r) =>
          r.status === undefined &&
          r.finishedAt !== undefined &&
          r.receivedAt < killAt &&
          r.finishedAt >= killAt - 500 &&
          r.finishedAt <= killAt + 3000,
      );
      const delays = aborted
        .map((r) =>
          records.find((next) => next.prompt === r.prompt && next.receivedAt > (r.finishedAt ?? killAt)),
        )
        .filter((next): next is SimRecord => next !== undefined)
        .map((next) => next.receivedAt - killAt);
      return {
        killAtMs: kill.at,
        aborted: aborted.length,
        maxMs: delays.length ? Math.max(...delays) : undefined,
        medianMs: percentile(delays, 0.5),
      };
    });
}

function fmtMs(ms: number | undefined): string {
  return ms === undefined ? 'n/a' : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

let cleanup: () => Promise<void> = async () => undefined;

main().catch(async (err: unknown) => {
  process.stderr.write(`chaos run failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  await cleanup();
  process.exit(2);
});
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
