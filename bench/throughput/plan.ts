/** The order of the throughput suite's runs, and running each one (once more if the stack lost a process). */
import { ms, rate } from './format';
import type { Options } from './options';
import { requestCount } from './options';
import { ExternalExit } from '../../harness/processes';
import { SCENARIOS, SYSTEM_LABELS, type Scenario, type SystemId } from './scenarios';
import { reviveShared, type Context } from './stack';
import type { RunReport } from './types';

/**
 * A run to do: a system in a scenario (the raw design: paced, or held in a burst scenario), or (no
 * scenario) the raw Temporal ceiling at full speed.
 */
export interface PlannedRun {
  scenario?: Scenario;
  system: SystemId;
  n: number;
}

export function planRuns(options: Options): PlannedRun[] {
  const plan: PlannedRun[] = [];
  for (const scenario of SCENARIOS.filter((s) => options.scenarios.has(s.id))) {
    if (scenario.mode === 'paced') {
      if (options.systems.has('ours')) plan.push({ scenario, system: 'ours', n: options.pacedN });
      // The no-op workflow at the same rate: the latency floor of any Temporal design on this server.
      if (options.systems.has('raw') && scenario.latencyMs === 0)
        plan.push({ scenario, system: 'raw', n: options.pacedN });
      continue;
    }
    for (const system of scenario.systems ?? (['ours', 'plain', 'seed'] as SystemId[])) {
      if (options.systems.has(system))
        plan.push({ scenario, system, n: requestCount(options, scenario, system) });
    }
    if (scenario.rawHeld && options.systems.has('raw')) plan.push({ scenario, system: 'raw', n: options.n });
  }
  if (options.systems.has('raw') && options.scenarios.has('raw-ceiling')) {
    // The ceiling right after the L = 0 runs, before the paced ones.
    const firstLater = plan.findIndex(
      ({ scenario }) => scenario !== undefined && (scenario.latencyMs > 0 || scenario.mode === 'paced'),
    );
    plan.splice(firstLater === -1 ? plan.length : firstLater, 0, { system: 'raw', n: options.n });
  }
  return plan;
}

/** Half of ours' highest burst rate at this latency (or --paced-rate, or C/L/2 when not measured). */
export function pacedRate(ctx: Context, scenario: Scenario): number {
  if (ctx.options.pacedRate !== undefined) return ctx.options.pacedRate;
  const measured = ctx.oursMaxRate.get(scenario.latencyMs);
  if (measured !== undefined) return measured / 2;
  return scenario.latencyMs > 0 ? scenario.capacity / (scenario.latencyMs / 1000) / 2 : 5;
}

/** Runs `step`, again once with fresh queues if a process of the stack exited under it; adds it to `runs`. */
export async function executeRun(
  ctx: Context,
  runs: RunReport[],
  step: () => Promise<RunReport>,
): Promise<void> {
  const runStarted = Date.now();
  let run: RunReport;
  const aborted: string[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      run = await step();
      run.notes.push(...aborted.map((reason) => `an earlier attempt was aborted (${reason}) and run again`));
      break;
    } catch (err) {
      if (!(err instanceof ExternalExit) || attempt >= 2) throw err;
      aborted.push(err.message.replace(/; see .*$/, ''));
      process.stderr.write(`\n[bench] ${err.message}: restarting what is down and running it again\n`);
      await reviveShared(ctx);
      ctx.runIndex += 1; // fresh queues, task queue and member ids for the second attempt
    }
  }
  runs.push(run);
  ctx.progressBase += run.requested;
  ctx.runIndex += 1;
  if (run.system === 'ours' && run.mode === 'burst' && run.complete && run.deliveredPerSec !== undefined) {
    const key = run.latencyMs ?? 0;
    ctx.oursMaxRate.set(key, Math.max(ctx.oursMaxRate.get(key) ?? 0, run.deliveredPerSec));
  }
  process.stderr.write(
    `${process.stderr.isTTY ? '\n' : ''}[bench] ${run.scenario} / ${SYSTEM_LABELS[run.system]}: ` +
      `${run.delivered}/${run.requested} delivered, ${rate(run.deliveredPerSec)}/s, ` +
      `e2e p50 ${ms(run.e2eMs.p50)} p99 ${ms(run.e2eMs.p99)}, overhead p50 ${ms(run.overheadMs.p50)} ` +
      `p99 ${ms(run.overheadMs.p99)} (${Math.round((Date.now() - runStarted) / 1000)} s)\n`,
  );
}
