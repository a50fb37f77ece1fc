/**
 * `npm run bench -- --suite flow [--quick]` (options: docs/benchmarks.md): the LLM flow-control scenarios,
 * capacity drop and bulk burst, each with the adaptive and a fixed limit, on a stack of their own.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessGroup } from '../harness/processes';
import { ProgressBar } from '../harness/util';
import { runBurst } from './flow/burst';
import { runCapacity } from './flow/capacity';
import {
  ALL_SCENARIOS,
  BURST_CAPACITY,
  BURST_LATENCY_MS,
  CAPACITY_PHASES,
  PENALTY,
  TARGET_WAITING,
  parseArgs,
} from './flow/options';
import { writeFlowReport, type FlowReport } from './flow/report';
import { DATA, startShared, type Stack } from './flow/stack';

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(join(DATA, 'logs'), { recursive: true });
  const group = new ProcessGroup(join(DATA, 'logs'));
  cleanup = () => group.stopAll('SIGKILL');
  const sqs = await startShared(group);
  const selected = ALL_SCENARIOS.filter((s) => options.scenarios.has(s));
  const stack: Stack = { group, sqs, progress: new ProgressBar(selected.length) };
  const started = Date.now();
  const report: FlowReport = {
    date: new Date().toISOString(),
    command: `npm run bench -- --suite flow${options.quick ? ' --quick' : ''}`,
    settings: {
      overcommitPenalty: PENALTY,
      targetWaiting: TARGET_WAITING,
      capacity: {
        latencyMs: options.capacityLatencyMs,
        phaseSeconds: options.phaseSeconds,
        phases: CAPACITY_PHASES,
      },
      burst: { capacity: BURST_CAPACITY, latencyMs: BURST_LATENCY_MS, bulk: options.bulk },
    },
    capacity: [],
    burst: [],
  };
  let index = 0;
  for (const id of selected) {
    stack.progress.render(index, id);
    const mode = id.endsWith('fixed') ? 'fixed' : 'adaptive';
    if (id.startsWith('capacity')) report.capacity.push(await runCapacity(stack, options, mode, index));
    else report.burst.push(await runBurst(stack, options, mode, index));
    index++;
  }
  stack.progress.render(index, 'done');
  report.durationSeconds = Math.round((Date.now() - started) / 1000);
  await group.stopAll();
  sqs.destroy();
  writeFlowReport(report, options.quick);
}

let cleanup: () => Promise<void> = async () => undefined;

main().catch(async (err: unknown) => {
  process.stderr.write(`\nbench:flow failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  await cleanup();
  process.exit(2);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanup().then(() => process.exit(signal === 'SIGINT' ? 130 : 143)));
}
