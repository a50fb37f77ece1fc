/**
 * `npm run chaos [-- --quick] [--n 1000] [--seed 7] [--delivery queue|both]`: the durability proof. Starts the real local
 * stack (Temporal dev server on a SQLite file, ElasticMQ behind a TCP proxy, the vLLM simulator, two
 * workers, two bridges, the API) and the BE double (dev/be-double) in place of the BE, sends N
 * requests through both entry points (HTTP API and the double publishing as the BE, with deliberate
 * duplicate sends and a few poison messages) while it kills and restarts processes and makes Temporal,
 * SQS, vLLM (3 % terminal 400s among its faults) and the callback misbehave. When week one has settled
 * (no FeedbackWorkflow running, the queues empty) the double's clock moves a week on and some members
 * send the identical body again. The verdict is the double's store: every member has exactly one real
 * feedback per week, none has a status code stored as feedback, none is left without; the BE could
 * process every result; every poison message is in the DLQ with its reason. Prints a table, writes JSON
 * under chaos/results/, exits 1 when anything was lost, doubled or wrong.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { createBeDouble, type ExpectedWeek } from '../dev/be-double';
import { createSqsClient, ensureFeedbackQueues, type FeedbackQueues } from '../src/shared/sqs';
import { startElasticMq, startTemporalDevServer } from './infra';
import { ProcessGroup, waitForHttp } from './processes';
import { startTcpProxy, type TcpProxy } from '../dev/tcp-proxy';
import { formatTable, mulberry32, percentile, ProgressBar, sleep } from './util';

const ROOT = join(__dirname, '..');
const DATA = join(ROOT, '.data', 'chaos');
const PORTS = { temporal: 27233, sqs: 29324, sqsProxy: 29325, vllm: 28800, vllmProxy: 28801, api: 28000 };
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
/** The double's clock starts on a Wednesday noon in Seoul, so a run never crosses a week by itself. */
const WEEK_ONE_NOW = Date.parse('2026-06-17T12:00:00+09:00');
const WEEK_MS = 7 * 24 * 3_600_000;
/** SQS drops a repeat of a deduplication id sent within 5 minutes. */
const DEDUP_WINDOW_MS = 5 * 60_000;
/** A bound on each week's settling, in case a run never closes (the verdict then shows what is missing). */
const SETTLE_LIMIT_MS = 30 * 60_000;

interface Options {
  n: number;
  seed: number;
  quick: boolean;
  /** Length of the vLLM outage. */
  vllmDownMs: number;
  sendWindowMs: number;
  /** DELIVERY_MODE of the run: `queue` (default) is what the BE runs; `both` also puts the callback under faults. */
  delivery: 'queue' | 'both';
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
    delivery: deliveryMode(argv),
  };
}

function deliveryMode(argv: string[]): Options['delivery'] {
  const i = argv.indexOf('--delivery');
  const mode = i >= 0 ? argv[i + 1] : 'queue';
  // Not `callback`: that mode never posts a failure's code, so the BE never re-requests (by design).
  if (mode !== 'queue' && mode !== 'both')
    throw new Error(`--delivery must be queue or both (got ${String(mode)})`);
  return mode;
}

/** A member-week the run expects exactly one feedback for. */
interface Expected extends ExpectedWeek {
  via: 'api' | 'queue';
  /** Wall-clock time of the (first) send. */
  sentAt: number;
  /** The request body as the BE builds it. */
  body: string;
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
  // The BE double publishes, subscribes and polls the result DLQ through the proxy too: when "SQS" is
  // down, it is down for everyone. 30 s per call for its 20 s long polls; one SDK attempt, as its
  // publisher makes its own three.
  const beSqs = createSqsClient(
    { ...config.sqs, endpoint: `http://127.0.0.1:${PORTS.sqsProxy}` },
    { credentials: CREDENTIALS, maxAttempts: 1, requestTimeoutMs: 30_000 },
  );
  const be = createBeDouble({
    sqs: beSqs,
    requestQueueUrl: proxied.requestQueueUrl,
    resultQueueUrl: proxied.resultQueueUrl,
    resultDlqUrl: proxied.resultDlqUrl,
    now: WEEK_ONE_NOW,
  });
  const callbackUrl = await be.listen(0);
  // The BE answers 404 for any unexpected exception; 503 from a proxy or a restart in between.
  be.setFaults({ failRate: 0.1, failStatus: [404, 503], slowRate: 0.03, slowMs: 7000, random });
  const temporalConnection = await Connection.connect({ address: `127.0.0.1:${PORTS.temporal}` });
  const temporal = new Client({ connection: temporalConnection });

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
    // `queue` by default, as the BE runs. With `both` the callback's faults count too, and the double
    // refuses the second copy of each feedback as a duplicate of the week (the real BE might store both:
    // docs/be-contract.md). Status codes go to the queue only.
    DELIVERY_MODE: options.delivery,
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
    // Terminal: the run sends "500" (held until 5.5 min after the request's send) and the BE re-requests.
    { kind: 'error400', probability: 0.03 },
  ];
  group.start('vllm-simulator', node, [join(ROOT, 'dist', 'dev', 'vllm-simulator', 'main.js')], env);
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

  // --- the BE's result-queue subscriber and result-DLQ poller -----------------------------------
  be.startSubscriber();

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

  // --- week one: traffic -----------------------------------------------------------------------
  const weekOne = be.week();
  const expected = new Map<string, Expected>();
  const addExpected = (e: Expected) => expected.set(`${e.memberId}|${e.week}`, e);
  const poison: string[] = [];
  let api503 = 0;
  let duplicatesSent = 0;
  const progress = new ProgressBar(options.n);
  const ticker = setInterval(
    () =>
      progress.render(
        be.feedbacks().length,
        `api 503s ${api503} | faults ${faults.length} | re-published ${be.republishes().length} | ${Math.round((Date.now() - t0) / 1000)}s`,
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
    const request = {
      memberId,
      personalChallenges: [{ id: i, title: `플로깅 하기 #${i}`, isSuccess: i % 3 !== 0 }],
      groupChallenges: [],
    };
    const body = JSON.stringify(request);
    if (i % 2 === 0) {
      // The BE knows its members and would assemble this body again on a status-code result.
      be.knowMember(memberId, body);
      sends.push(
        postWithRetry(request).then((r) => {
          api503 += r.rejected;
          // Every attempt may have left a request behind (a 503 or a timeout after SQS took it).
          if (r.requestId)
            addExpected({
              memberId,
              week: weekOne,
              requests: r.attempts,
              via: 'api',
              sentAt: r.sentAt,
              body,
            });
        }),
      );
    } else {
      sends.push(
        (async () => {
          const sentAt = Date.now();
          await publishWithRetry(body);
          let requests = 1;
          if (i % 10 === 1) {
            await publishWithRetry(body); // the BE sending again: same dedup id, dropped by SQS
            duplicatesSent++;
          }
          if (i % 15 === 1) {
            // The same body as a new message under another producer's dedup id: a new request.
            await sendWithRetry(beSqs, proxied.requestQueueUrl, body, `other-${memberId}-${i}`);
            duplicatesSent++;
            requests++;
          }
          addExpected({ memberId, week: weekOne, requests, via: 'queue', sentAt, body });
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
      const poisonBody = bodies[poison.length % bodies.length];
      poison.push(poisonBody);
      sends.push(sendWithRetry(beSqs, proxied.requestQueueUrl, poisonBody, `poison-${i}`));
    }
  }
  await Promise.all(sends);
  await Promise.all(faultRuns);
  note('traffic-and-faults-done');

  // --- week one settles ------------------------------------------------------------------------
  const weekOneSettled = await settle();
  note('week-one-settled', weekOneSettled ? undefined : 'limit reached');

  // --- week two: identical bodies a week later ------------------------------------------------------
  // A quarter of the members (two of every eight, API and queue alike) ask again with the identical
  // body: the same challenge with the same outcome, no group submission.
  const again = [...expected.values()].filter((e) => (e.memberId - 100_000) % 8 <= 1);
  // The double's clock jumps a week, ElasticMQ's does not: wait out the dedup window of the last send
  // of those bodies (a re-publish included), as a week would.
  const againIds = new Set(again.map((e) => e.memberId));
  const lastSend = Math.max(
    0,
    ...be
      .published()
      .filter((p) => againIds.has(p.memberId))
      .map((p) => p.at),
  );
  while (be.now() < lastSend + DEDUP_WINDOW_MS + 10_000) {
    progress.render(be.feedbacks().length, 'waiting out the 5 min dedup window before week two');
    await sleep(Math.min(5000, lastSend + DEDUP_WINDOW_MS + 10_000 - be.now()));
  }
  be.advance(WEEK_MS);
  const weekTwo = be.week();
  note('week-two', weekTwo);
  await Promise.all(
    again.map(async (e, k) => {
      await sleep((k * 10_000) / Math.max(1, again.length));
      if (e.via === 'queue') {
        const sentAt = Date.now();
        await publishWithRetry(e.body);
        addExpected({ memberId: e.memberId, week: weekTwo, via: 'queue', sentAt, body: e.body });
      } else {
        const r = await postWithRetry(JSON.parse(e.body) as unknown);
        api503 += r.rejected;
        if (r.requestId)
          addExpected({
            memberId: e.memberId,
            week: weekTwo,
            requests: r.attempts,
            via: 'api',
            sentAt: r.sentAt,
            body: e.body,
          });
      }
    }),
  );
  const weekTwoSettled = await settle();
  clearInterval(ticker);
  progress.render(be.feedbacks().length, 'settled');
  progress.finish();

  // --- checks -------------------------------------------------------------------------------
  const dlq = await drain(direct, queues.dlqUrl);
  const simulatorStats = (await fetch(`http://127.0.0.1:${PORTS.vllm}/sim/stats`).then((r) =>
    r.json(),
  )) as Record<string, unknown>;
  const simRequests = (await fetch(`http://127.0.0.1:${PORTS.vllm}/sim/requests`).then((r) =>
    r.json(),
  )) as SimRecord[];

  const verdict = be.verdict([...expected.values()]);
  const latencies = [...expected.values()]
    .filter((e) => e.week === weekOne)
    .map((e) => {
      const stored = be.feedback(e.memberId, e.week);
      return stored ? stored.receivedAt - e.sentAt : undefined;
    })
    .filter((ms): ms is number => ms !== undefined);
  const stored = be.feedbacks();
  const republishes = be.republishes();
  const unprocessed = be.rejections();
  const resultDlq = be.dlqFailures();
  const dlqBodies = dlq.map((m) => m.body);
  const dlqWithoutReason = dlq.filter((m) => !m.reason).length;
  const unexpectedInDlq = dlqBodies.filter((b) => !poison.includes(b)).length;
  const poisonMissing = poison.filter((p) => !dlqBodies.includes(p)).length;
  const recovery = recoveryAfterKills(faults, simRequests, t0);
  const expectedList = [...expected.values()];
  const memberWeeks = expectedList.length;
  const offending = new Set(
    [...verdict.missing, ...verdict.statusCodeStored, ...verdict.doubled, ...verdict.unexpected].map(
      (mw) => `${mw.memberId}|${mw.week}`,
    ),
  ).size;

  const attempts = be.attempts();
  const report = {
    command: ['npm run chaos', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(
      ' ',
    ),
    date: new Date().toISOString(),
    options,
    requests: {
      memberWeeks,
      weekOne: { week: weekOne, members: expectedList.filter((e) => e.week === weekOne).length },
      weekTwo: { week: weekTwo, members: expectedList.filter((e) => e.week === weekTwo).length },
      viaApi: expectedList.filter((e) => e.via === 'api').length,
      viaQueue: expectedList.filter((e) => e.via === 'queue').length,
      duplicateSends: duplicatesSent,
      poison: poison.length,
      api503Answers: api503,
    },
    outcome: {
      verdict: {
        ok: verdict.ok,
        missing: verdict.missing.length,
        statusCodeStored: verdict.statusCodeStored.length,
        doubled: verdict.doubled.length,
        unexpectedWeek: verdict.unexpected.length,
        examples: {
          missing: verdict.missing.slice(0, 20),
          statusCodeStored: verdict.statusCodeStored.slice(0, 20),
          doubled: verdict.doubled.slice(0, 20),
          unexpectedWeek: verdict.unexpected.slice(0, 20),
        },
      },
      stored: {
        total: stored.length,
        viaQueue: stored.filter((f) => f.via === 'queue').length,
        viaCallback: stored.filter((f) => f.via === 'callback').length,
      },
      duplicatesRefusedByBe: be.duplicates().length,
      statusCodeResults: {
        total: republishes.length,
        republished: republishes.filter((r) => r.sent).length,
        byContent: countBy(republishes.map((r) => r.content)),
      },
      resultsBeCouldNotProcess: { count: unprocessed.length, examples: unprocessed.slice(0, 10) },
      resultDlq: resultDlq.length,
      settled: { weekOne: weekOneSettled, weekTwo: weekTwoSettled },
      requestDlq: {
        found: dlq.length,
        poisonMissing,
        unexpected: unexpectedInDlq,
        withoutReason: dlqWithoutReason,
      },
    },
    faults: {
      workerKills: faults.filter((f) => f.kind === 'kill' && f.detail?.startsWith('worker')).length,
      bridgeKills: faults.filter((f) => f.kind === 'kill' && f.detail?.startsWith('bridge')).length,
      temporalRestarts: faults.filter((f) => f.kind === 'temporal-down').length,
      sqsOutages: faults.filter((f) => f.kind === 'sqs-down').length,
      vllmOutages: faults.filter((f) => f.kind === 'vllm-down').length,
      vllmInjected: simulatorStats.faultsInjected,
      callbackInjected: be.faultsInjected(),
      callbackAttempts: attempts.length,
      callbackStatuses: countBy(attempts.map((a) => String(a.status))),
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
    !verdict.ok ||
    !weekOneSettled ||
    !weekTwoSettled ||
    unprocessed.length > 0 ||
    resultDlq.length > 0 ||
    poisonMissing > 0 ||
    unexpectedInDlq > 0 ||
    dlqWithoutReason > 0;

  process.stdout.write(
    '\n' +
      formatTable([
        [
          'requests',
          `${memberWeeks} member-weeks: ${report.requests.weekOne.members} in week ${weekOne}, ${report.requests.weekTwo.members} identical bodies in week ${weekTwo}; ` +
            `${report.requests.viaApi} API, ${report.requests.viaQueue} queue, ${duplicatesSent} duplicate sends, ${poison.length} poison`,
        ],
        ['one real feedback per member-week', `${memberWeeks - offending} / ${memberWeeks}`],
        ['without feedback', String(verdict.missing.length)],
        ['status code stored as feedback', String(verdict.statusCodeStored.length)],
        ['delivered more often than requested', String(verdict.doubled.length)],
        ['filed under a week not expected', String(verdict.unexpected.length)],
        [
          'stored (queue / callback)',
          `${report.outcome.stored.viaQueue} / ${report.outcome.stored.viaCallback}; the BE refused ${report.outcome.duplicatesRefusedByBe} duplicates of a week`,
        ],
        [
          'status-code results',
          `${republishes.length} ${JSON.stringify(report.outcome.statusCodeResults.byContent)}, re-published ${report.outcome.statusCodeResults.republished}`,
        ],
        ['results the BE could not process', `${unprocessed.length} (result DLQ ${resultDlq.length})`],
        [
          'request DLQ',
          `${dlq.length} (poison missing ${poisonMissing}, unexpected ${unexpectedInDlq}, without reason ${dlqWithoutReason})`,
        ],
        [
          'faults injected',
          `${report.faults.workerKills} worker kills, ${report.faults.bridgeKills} bridge kills, ${report.faults.temporalRestarts} Temporal restart, ` +
            `${report.faults.sqsOutages} SQS outage, ${report.faults.vllmOutages} vLLM outage (${options.vllmDownMs / 1000} s), ` +
            `vLLM ${JSON.stringify(simulatorStats.faultsInjected)}, callback ${JSON.stringify(be.faultsInjected().byStatus)} + ${be.faultsInjected().slow} slow, API 503s ${api503}`,
        ],
        [
          'callback attempts (by status)',
          `${attempts.length} ${JSON.stringify(report.faults.callbackStatuses)}`,
        ],
        ['e2e time p50 / p99 (week one)', `${fmtMs(report.latencyMs.p50)} / ${fmtMs(report.latencyMs.p99)}`],
        [
          'recovery after worker kill (max per kill)',
          recovery.map((r) => (r.maxMs === undefined ? 'n/a' : fmtMs(r.maxMs))).join(', '),
        ],
        [
          'settled (no run open, queues empty)',
          `week one ${weekOneSettled ? 'yes' : 'NO'}, week two ${weekTwoSettled ? 'yes' : 'NO'}`,
        ],
        [
          'verdict',
          failed ? 'FAILED' : 'PASSED: one real feedback per member and week, none lost, none a status code',
        ],
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

  await be.close();
  await group.stopAll('SIGTERM');
  await proxy.close();
  await vllmProxy.close();
  await temporalConnection.close();
  direct.destroy();
  beSqs.destroy();
  process.exitCode = failed ? 1 : 0;

  // --- helpers bound to this run ---------------------------------------------------------------
  /**
   * Waits until no FeedbackWorkflow is running and the request and result queues (and the result
   * DLQ) hold nothing, seen twice 3 s apart: work moves between Temporal and the queues between the
   * two reads of one look. Gives up after SETTLE_LIMIT_MS.
   */
  async function settle(): Promise<boolean> {
    const limit = Date.now() + SETTLE_LIMIT_MS;
    let calm = 0;
    while (Date.now() < limit) {
      const runs = await openRuns();
      const queued =
        runs === 0
          ? (await messagesOn(queues.requestQueueUrl)) +
            (await messagesOn(queues.resultQueueUrl)) +
            (await messagesOn(queues.resultDlqUrl))
          : -1;
      calm = runs === 0 && queued === 0 ? calm + 1 : 0;
      if (calm >= 2) return true;
      progress.render(
        be.feedbacks().length,
        `settling: ${runs < 0 ? '?' : runs} runs open, ${queued < 0 ? '?' : queued} queued`,
      );
      await sleep(3000);
    }
    return false;
  }

  /** Running FeedbackWorkflows by Temporal visibility; -1 while Temporal does not answer. */
  async function openRuns(): Promise<number> {
    try {
      const { count } = await temporal.workflow.count(
        `WorkflowType = 'FeedbackWorkflow' AND ExecutionStatus = 'Running'`,
      );
      return count;
    } catch {
      return -1;
    }
  }

  /** Messages visible, in flight or delayed on a queue (read directly, not through the proxy). */
  async function messagesOn(queueUrl: string): Promise<number> {
    const out = await direct.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    const a = out.Attributes ?? {};
    return (
      Number(a.ApproximateNumberOfMessages) +
      Number(a.ApproximateNumberOfMessagesNotVisible) +
      Number(a.ApproximateNumberOfMessagesDelayed)
    );
  }

  /** The member asking again until the BE's publisher (3 attempts each) gets the request out. */
  async function publishWithRetry(body: string): Promise<void> {
    for (let attempt = 0; attempt < 60; attempt++) {
      try {
        await be.publish(body);
        return;
      } catch {
        await sleep(1000);
      }
    }
    throw new Error(`could not publish for ${body.slice(0, 40)} in 60 tries`);
  }

  async function postWithRetry(
    body: unknown,
  ): Promise<{ requestId?: string; sentAt: number; rejected: number; attempts: number }> {
    let rejected = 0;
    for (let attempt = 1; attempt <= 60; attempt++) {
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
        if (res.status === 202 && requestId) return { requestId, sentAt, rejected, attempts: attempt };
        rejected++;
      } catch {
        rejected++;
      }
      await sleep(1000);
    }
    return { sentAt: Date.now(), rejected, attempts: 60 };
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

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
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
