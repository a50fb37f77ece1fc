/** The processes of one run: our worker and bridge, a baseline, or the API; started, watched and stopped. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitWatch, type ManagedProcess } from '../../harness/processes';
import type { FeedbackQueues } from '../../src/shared/sqs';
import { benchEnv } from '../requests';
import { BUILD, PORTS, PROFILES, ROOT, SIMULATOR_URL } from './layout';
import type { Scenario, SystemId } from './scenarios';
import type { Context } from './stack';

/** The environment of our processes and of the baselines (they read the same variables). */
export function systemEnv(
  ctx: Context,
  tag: string,
  queues: FeedbackQueues,
  callbackUrl: string,
  shape: Scenario['shape'] = 'group',
): NodeJS.ProcessEnv {
  return {
    ...benchEnv({
      temporalAddress: `127.0.0.1:${PORTS.temporal}`,
      taskQueue: `bench-${tag}`,
      sqsEndpoint: `http://127.0.0.1:${PORTS.sqs}`,
      queues,
      apiPort: PORTS.api,
      vllmUrl: SIMULATOR_URL,
      callbackUrl,
    }),
    LOG_LEVEL: ctx.options.logLevel,
    BRIDGE_POLLERS: String(shape === 'member' ? ctx.options.pollers : ctx.options.groupPollers),
    BRIDGE_WAIT_TIME_SECONDS: '5',
    BRIDGE_VISIBILITY_TIMEOUT_SECONDS: '60',
    VLLM_TIMEOUT_SECONDS: '60',
    WORKER_MAX_CONCURRENT_ACTIVITIES: String(ctx.options.workerActivities),
    WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '100',
    ...(ctx.options.workerCache === undefined
      ? {}
      : { WORKER_MAX_CACHED_WORKFLOWS: String(ctx.options.workerCache) }),
    ...(ctx.options.bridgeMaxOpen === undefined
      ? {}
      : { BRIDGE_MAX_OPEN_QUEUE_RUNS: String(ctx.options.bridgeMaxOpen) }),
  };
}

export interface SystemProcesses {
  names: string[];
  /** Rejects when one of them exits before we stop it. */
  exited: Promise<never>;
}

/** Starts a queue-reading system: ours (worker and bridge), the seed-style worker or the plain consumer. */
export function startSystem(ctx: Context, system: SystemId, env: NodeJS.ProcessEnv): SystemProcesses {
  const specs: Array<[name: string, args: string[]]> =
    system === 'ours'
      ? [
          ['ours-worker', startScriptArgs('start:worker')],
          ['ours-bridge', startScriptArgs('start:bridge')],
        ]
      : system === 'seed'
        ? [['seed-worker', [join(BUILD, 'seed-worker.js')]]]
        : system === 'plain'
          ? [['plain-consumer', [join(BUILD, 'plain-consumer.js')]]]
          : [];
  const started = specs.map(([name, args]) =>
    startProcess(ctx, name, args, system === 'ours' ? oursProcessEnv(ctx, env, name) : env),
  );
  return {
    names: specs.map(([name]) => name),
    exited: Promise.race([exitWatch(ctx.stopping, started), ctx.sharedExited]),
  };
}

/**
 * Node's arguments for one of our processes, from its package.json start script (`node [flags]
 * dist/...`), so the benchmark runs it as `npm run start:*`, the compose file and the image do.
 */
export function startScriptArgs(script: string): string[] {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const [command, ...args] = (scripts[script] ?? '').split(/\s+/);
  if (command !== 'node' || args.length === 0)
    throw new Error(`package.json ${script} is not "node [flags] <file>"`);
  return args.map((arg) => (arg.startsWith('-') ? arg : join(ROOT, arg)));
}

/**
 * Our processes also run with --ours-env, --node-options as NODE_OPTIONS (V8 flags to try) and the
 * profilers asked for.
 */
export function oursProcessEnv(ctx: Context, env: NodeJS.ProcessEnv, name: string): NodeJS.ProcessEnv {
  const flags = [
    ...(ctx.options.nodeOptions ? [ctx.options.nodeOptions] : []),
    ...(ctx.options.memoryLog ? [`--require ${join(BUILD, 'memory-log.js')}`] : []),
    ...(ctx.options.cpuProfile ? [`--require ${join(BUILD, 'cpu-profile.js')}`] : []),
  ];
  return {
    ...env,
    ...ctx.options.oursEnv,
    ...(flags.length ? { NODE_OPTIONS: flags.join(' ') } : {}),
    ...(ctx.options.cpuProfile ? { CPU_PROFILE_DIR: PROFILES, CPU_PROFILE_NAME: name } : {}),
  };
}

export function startProcess(
  ctx: Context,
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): ManagedProcess {
  ctx.stopping.delete(name);
  const managed = ctx.group.start(name, process.execPath, args, env);
  ctx.started.set(name, managed);
  return managed;
}

export async function stopProcesses(
  ctx: Context,
  names: string[],
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  for (const name of names) ctx.stopping.add(name);
  await Promise.all(names.map((name) => ctx.group.stop(name, signal)));
}
