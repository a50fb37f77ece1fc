/**
 * The capacity scenario: vLLM's capacity drops from 64 to 16 and comes back under a BE backlog; per
 * phase, how vLLM was used.
 */
import { percentile, pool, sleep } from '../../harness/util';
import { createBeDouble } from '../../dev/be-double';
import { BE_GROUP, configureSimulator, sendRequest } from '../requests';
import { simulatorRecords, type SimulatorRecord } from '../simulator';
import {
  CAPACITY_PHASES,
  FIXED_LIMIT_CAPACITY,
  PENALTY,
  TARGET_WAITING,
  type LimitMode,
  type Options,
} from './options';
import type { CapacityReport, PhaseReport } from './report';
import { mean, round2, sampler, type Sample } from './sampling';
import { SIM, setCapacity, startRun, type RunStack, type Stack } from './stack';

export async function runCapacity(
  stack: Stack,
  options: Options,
  mode: LimitMode,
  index: number,
): Promise<CapacityReport> {
  const L = options.capacityLatencyMs;
  await configureSimulator(SIM, { capacity: CAPACITY_PHASES[0], latencyMs: L, overcommitPenalty: PENALTY });
  // The BE double's callback: the members go straight onto the queue, so any member is known.
  const receiver = createBeDouble({ members: 'any' });
  const callbackUrl = await receiver.listen(0);
  let delivered = 0;
  receiver.onStored(() => {
    delivered++;
  });
  const run = await startRun(
    stack,
    `${index}-capacity-${mode}`,
    mode,
    FIXED_LIMIT_CAPACITY,
    callbackUrl,
    false,
  );
  const sampling = sampler();
  try {
    const { sent, sending, changes } = await changeCapacityUnderBacklog(
      stack,
      options,
      mode,
      index,
      run,
      sampling,
    );
    const end = Date.now();
    await sending;
    await sampling.stop();
    const samples = sampling.samples;
    const records = await simulatorRecords(SIM);
    const phases = CAPACITY_PHASES.map((capacity, i) =>
      measurePhase({ samples, records, changes, end, latencyMs: L }, capacity, i),
    );
    return { mode, latencyMs: L, phases, sent, delivered, timeline: timeline(samples, changes[0]) };
  } finally {
    await sampling.stop();
    await run.stop();
    await receiver.close();
  }
}

/** Sends a backlog that outlasts the phases, waits until vLLM is saturated, then goes through the phases. */
async function changeCapacityUnderBacklog(
  stack: Stack,
  options: Options,
  mode: LimitMode,
  index: number,
  run: RunStack,
  sampling: { samples: Sample[] },
): Promise<{ sent: number; sending: Promise<void>; changes: number[] }> {
  const L = options.capacityLatencyMs;
  const P = options.phaseSeconds;
  // What the capacities allow, plus a fifth.
  const allowed = CAPACITY_PHASES.reduce((sum, c) => sum + (c / (L / 1000)) * P, 0);
  const sent = Math.ceil(allowed * 1.2) + 64;
  const members = Array.from({ length: sent }, (_, i) => 10_000_000 * (index + 1) + i);
  const sending = pool(members, 16, async (m) => {
    await sendRequest(stack.sqs, run.queues.requestQueueUrl, m, BE_GROUP);
  });
  // Phase 1 starts L after vLLM is saturated: by then the bridge has filled Temporal up to its bound
  // of open bulk runs (BRIDGE_MAX_OPEN_QUEUE_RUNS), so what follows measures the controller.
  const readyBy = Date.now() + 240_000;
  while (Date.now() < readyBy && (sampling.samples.at(-1)?.running ?? 0) < 0.9 * CAPACITY_PHASES[0])
    await sleep(250);
  await sleep(L);
  const changes: number[] = [];
  for (let i = 0; i < CAPACITY_PHASES.length; i++) {
    if (i > 0) await setCapacity(CAPACITY_PHASES[i]);
    changes.push(Date.now());
    stack.progress.render(index, `capacity-${mode}: C = ${CAPACITY_PHASES[i]} (${i + 1}/3)`);
    await sleep(P * 1000);
  }
  return { sent, sending, changes };
}

interface Observed {
  samples: Sample[];
  records: SimulatorRecord[];
  /** When each phase began; the last ends at `end`. */
  changes: number[];
  end: number;
  latencyMs: number;
}

/** Phase i after its first L seconds: throughput by Little's law, the waiting queue, the limit's lag. */
function measurePhase(
  { samples, records, changes, end, latencyMs: L }: Observed,
  capacity: number,
  i: number,
): PhaseReport {
  const from = changes[i];
  const to = i + 1 < changes.length ? changes[i + 1] : end;
  const steadyFrom = from + L;
  const inPhase = samples.filter((s) => s.t >= steadyFrom && s.t <= to);
  const first = inPhase[0];
  const last = inPhase.at(-1);
  const completionsPerSec =
    first && last && last.t > first.t ? (last.completed - first.completed) / ((last.t - first.t) / 1000) : 0;
  const allowedPerSec = capacity / (L / 1000);
  const meanRunning = mean(inPhase.map((s) => s.running));
  const generationMs = records
    .filter((r) => r.status === 200 && r.startedAt !== undefined && r.finishedAt !== undefined)
    .filter((r) => (r.finishedAt as number) >= steadyFrom && (r.finishedAt as number) <= to)
    .map((r) => (r.finishedAt as number) - (r.startedAt as number));
  const meanGenerationMs = mean(generationMs);
  const throughputPerSec = meanGenerationMs > 0 ? meanRunning / (meanGenerationMs / 1000) : 0;
  const waits = inPhase.map((s) => s.waiting);
  const afterChange = samples.filter((s) => s.t >= from && s.t <= to);
  let followSeconds: number | undefined;
  if (i > 0) {
    const dropped = capacity < CAPACITY_PHASES[i - 1];
    const hit = afterChange.find((s) =>
      dropped ? s.running + s.waiting <= 1.25 * (capacity + TARGET_WAITING) : s.running >= 0.9 * capacity,
    );
    if (hit) followSeconds = Math.round((hit.t - from) / 100) / 10;
  }
  const limits = afterChange.map((s) => s.limit).filter((l): l is number => l !== undefined);
  return {
    capacity,
    throughputPerSec: round2(throughputPerSec),
    completionsPerSec: round2(completionsPerSec),
    meanRunning: round2(meanRunning),
    meanGenerationMs: Math.round(meanGenerationMs),
    allowedPerSec: round2(allowedPerSec),
    ratio: round2(throughputPerSec / allowedPerSec),
    waitingMax: Math.max(0, ...waits),
    waitingP95: percentile(waits, 0.95) ?? 0,
    ...(followSeconds === undefined ? {} : { followSeconds }),
    ...(limits.length > 0
      ? { limitRange: [Math.min(...limits), Math.max(...limits)] as [number, number] }
      : {}),
  };
}

/** Every fourth sample from 10 s before the first phase: seconds since it, running, waiting, limit. */
function timeline(samples: Sample[], t0: number): CapacityReport['timeline'] {
  return samples
    .filter((s, i) => s.t >= t0 - 10_000 && i % 4 === 0)
    .map(
      (s) =>
        [
          Math.round((s.t - t0) / 100) / 10,
          s.running,
          s.waiting,
          s.limit ?? null,
        ] as CapacityReport['timeline'][number],
    );
}
