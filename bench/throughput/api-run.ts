/** The API alone: POST /ai/feedback next to raw SendMessage calls driven the same way, at several rates. */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { exitWatch, waitForHttp } from '../../harness/processes';
import { fromEpochMillis } from '../../src/domain/datetime';
import { createSqsClient, ensureFeedbackQueues } from '../../src/shared/sqs';
import { CREDENTIALS, REGION, feedbackRequest } from '../requests';
import {
  autocannonFloor,
  closedLoops,
  countSample,
  emptySample,
  fireAutocannon,
  postOnce,
  type HttpSample,
} from './http-load';
import { coresBeyond } from './figures';
import { PORTS } from './layout';
import { machineCpu, quantiles, sharedCpu, snapshotCpu, stopReports } from './measure';
import { oursProcessEnv, startProcess, startScriptArgs, stopProcesses, systemEnv } from './processes';
import type { Context } from './stack';
import type { ApiReport, ApiSweepPoint, RunReport } from './types';

const API_RATE = 200;
/** Lower rates the API and raw SendMessage are also measured at (the overhead's trend). */
const API_SWEEP_RATES = [50, 100];
const API_SECONDS = 10;
const API_WARMUP_SECONDS = 3;
const API_CONNECTIONS = 10;
const AUTOCANNON = { connections: API_CONNECTIONS, ratePerSecond: API_RATE, seconds: API_SECONDS };

/** Drives one side (raw SendMessage or the API) at `rate` for `seconds`, recording into a sample. */
type Drive<S> = (rate: number, seconds: number, sample: S) => Promise<void>;

/** SendMessage calls as the API makes them, from a client configured like the API's. */
interface RawSender {
  drive: Drive<number[]>;
  errors: { count: number };
  destroy(): void;
}

export async function runApi(ctx: Context): Promise<ApiReport> {
  process.stderr.write(
    `[bench] API: ${API_RATE} req/s for ${API_SECONDS} s, and raw SendMessage the same way\n`,
  );
  const tag = `${String(ctx.runIndex).padStart(2, '0')}-api`;
  const memberId = 999_000_001;
  const body = JSON.stringify(feedbackRequest(memberId));

  // Raw SendMessage first, driven like autocannon drives the API: closed loops sharing the rate.
  const rawQueues = await ensureFeedbackQueues(ctx.sqs, `bench-${tag}-sendmessage`);
  const raw = rawSender(rawQueues.requestQueueUrl, memberId, body);
  await raw.drive(API_RATE, API_WARMUP_SECONDS, []);
  raw.errors.count = 0;
  const rawLatencies: number[] = [];
  const rawBefore = snapshotCpu(ctx, []);
  await raw.drive(API_RATE, API_SECONDS, rawLatencies);
  const rawAfter = snapshotCpu(ctx, []);
  const rawShared = sharedCpu(rawBefore, rawAfter);
  const rawErrorsAtRate = raw.errors.count;

  const queues = await ensureFeedbackQueues(ctx.sqs, `bench-${tag}`);
  const env = systemEnv(ctx, tag, queues, 'http://127.0.0.1:9/unused');
  const api = startProcess(ctx, 'api', startScriptArgs('start:api'), oursProcessEnv(ctx, env, 'api'));
  const exited = Promise.race([exitWatch(ctx.stopping, [api]), ctx.sharedExited]);
  const url = `http://127.0.0.1:${PORTS.api}/ai/feedback`;
  let stopping = false;
  try {
    await Promise.race([waitForHttp(`http://127.0.0.1:${PORTS.api}/health`), exited]);
    // The API driven exactly like raw SendMessage above (Node's fetch with keep-alive): the
    // difference between the two is the API's overhead.
    const drive: Drive<HttpSample> = (rate, seconds, sample) =>
      Promise.race([closedLoops(API_CONNECTIONS, rate, seconds, () => postOnce(url, body, sample)), exited]);
    await drive(API_RATE, API_WARMUP_SECONDS, emptySample());
    const cpuBefore = snapshotCpu(ctx, ['api']);
    const driven = emptySample();
    await drive(API_RATE, API_SECONDS, driven);
    const cpuAfter = snapshotCpu(ctx, ['api']);
    const processes = stopReports(ctx, ['api'], cpuBefore, cpuAfter);

    const sweep = await sweepLowerRates(ctx, raw, drive);
    const atRate = sweepPoint(
      API_RATE,
      driven,
      rawLatencies,
      rawErrorsAtRate,
      processes.api?.cpuSecondsDuringRun,
      sharedCpu(cpuBefore, cpuAfter),
      rawShared,
      { api: machineCpu(cpuBefore, cpuAfter), rawSendMessage: machineCpu(rawBefore, rawAfter) },
    );
    sweep.push(atRate);

    // autocannon as well, and against a server that answers at once: the generator's own latency.
    const autocannonApi = await Promise.race([fireAutocannon(url, body, AUTOCANNON), exited]);
    const floor = await autocannonFloor(body, AUTOCANNON);
    stopping = true;
    await stopProcesses(ctx, ['api']);

    return {
      offeredRatePerSec: API_RATE,
      durationSeconds: API_SECONDS,
      api: { ...countSample(driven), latencyMs: atRate.apiLatencyMs },
      rawSendMessage: { count: rawLatencies.length, errors: rawErrorsAtRate, latencyMs: atRate.rawLatencyMs },
      autocannon: {
        api: { ...countSample(autocannonApi), latencyMs: quantiles(autocannonApi.latencies) },
        noopServer: { ...countSample(floor), latencyMs: quantiles(floor.latencies) },
      },
      overheadP50Ms: atRate.overheadP50Ms,
      overheadP99Ms: atRate.overheadP99Ms,
      processes,
      sharedCpuSeconds: { api: sharedCpu(cpuBefore, cpuAfter), rawSendMessage: rawShared },
      sweep,
    };
  } finally {
    raw.destroy();
    if (!stopping) await stopProcesses(ctx, ['api'], 'SIGKILL');
  }
}

/** The same call the API makes: body with requestId and timestamp, group = member, dedup id = requestId. */
function rawSender(queueUrl: string, memberId: number, body: string): RawSender {
  const client = createSqsClient(
    { region: REGION, endpoint: `http://127.0.0.1:${PORTS.sqs}`, requestTimeoutMs: 3000 },
    { credentials: CREDENTIALS, maxAttempts: 1 },
  );
  const errors = { count: 0 };
  const sendOnce = async (latencies: number[]) => {
    const requestId = randomUUID();
    const message = JSON.stringify({
      ...JSON.parse(body),
      requestId,
      timestamp: fromEpochMillis(Date.now()),
    });
    const t0 = performance.now();
    try {
      await client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: message,
          MessageGroupId: String(memberId),
          MessageDeduplicationId: requestId,
        }),
      );
      latencies.push(performance.now() - t0);
    } catch {
      errors.count += 1;
    }
  };
  return {
    drive: (rate, seconds, latencies) =>
      closedLoops(API_CONNECTIONS, rate, seconds, () => sendOnce(latencies)),
    errors,
    destroy: () => client.destroy(),
  };
}

/** How the overhead moves with the offered rate: raw SendMessage, then the API, at each lower rate. */
async function sweepLowerRates(
  ctx: Context,
  raw: RawSender,
  drive: Drive<HttpSample>,
): Promise<ApiSweepPoint[]> {
  const sweep: ApiSweepPoint[] = [];
  for (const rate of API_SWEEP_RATES) {
    const rawLatencies: number[] = [];
    raw.errors.count = 0;
    const rawStart = snapshotCpu(ctx, []);
    await raw.drive(rate, API_SECONDS, rawLatencies);
    const rawEnd = snapshotCpu(ctx, []);
    const rawCpu = sharedCpu(rawStart, rawEnd);
    const before = snapshotCpu(ctx, ['api']);
    const point = emptySample();
    await drive(rate, API_SECONDS, point);
    const after = snapshotCpu(ctx, ['api']);
    const apiCpu = stopReports(ctx, ['api'], before, after).api?.cpuSecondsDuringRun;
    sweep.push(
      sweepPoint(rate, point, rawLatencies, raw.errors.count, apiCpu, sharedCpu(before, after), rawCpu, {
        api: machineCpu(before, after),
        rawSendMessage: machineCpu(rawStart, rawEnd),
      }),
    );
  }
  return sweep;
}

function sweepPoint(
  rate: number,
  api: HttpSample,
  raw: number[],
  rawErrors: number,
  apiCpuSeconds: number | undefined,
  sharedInApiWindow: Record<string, number>,
  sharedInRawWindow: Record<string, number>,
  machine: { api: RunReport['machineCpu']; rawSendMessage: RunReport['machineCpu'] },
): ApiSweepPoint {
  const apiQ = quantiles(api.latencies);
  const rawQ = quantiles(raw);
  const sum = (cpu: Record<string, number>) => Object.values(cpu).reduce((a, b) => a + b, 0);
  const capacity = cpus().length * API_SECONDS;
  const measuredInApi = apiCpuSeconds === undefined ? undefined : apiCpuSeconds + sum(sharedInApiWindow);
  const measuredInRaw = sum(sharedInRawWindow);
  return {
    // Cores other processes took in each window, as for the runs (bench/throughput/figures.ts).
    otherCores: {
      api: coresBeyond(machine.api, measuredInApi, cpus().length),
      rawSendMessage: coresBeyond(machine.rawSendMessage, measuredInRaw, cpus().length),
    },
    machineBusy: {
      api: measuredInApi === undefined ? undefined : measuredInApi / capacity,
      rawSendMessage: measuredInRaw / capacity,
    },
    offeredRatePerSec: rate,
    apiLatencyMs: apiQ,
    rawLatencyMs: rawQ,
    errors: api.errors + api.non2xx + rawErrors,
    overheadP50Ms: apiQ.p50 !== undefined && rawQ.p50 !== undefined ? apiQ.p50 - rawQ.p50 : undefined,
    overheadP99Ms: apiQ.p99 !== undefined && rawQ.p99 !== undefined ? apiQ.p99 - rawQ.p99 : undefined,
    apiCpuMsPerRequest:
      apiCpuSeconds !== undefined && api.latencies.length > 0
        ? (apiCpuSeconds * 1000) / api.latencies.length
        : undefined,
    apiBusy: apiCpuSeconds !== undefined ? apiCpuSeconds / API_SECONDS : undefined,
  };
}
