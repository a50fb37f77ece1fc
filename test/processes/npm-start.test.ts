/**
 * `npm start` stops: the real script (install check, Temporal dev server and ElasticMQ, build, the
 * simulator, the BE double and the three processes) runs in its own process group on free ports and
 * its own data directory, so it cannot collide with a developer's `npm start` or with the test stack.
 * Once the API answers /health it gets a signal, as from Ctrl-C in a terminal (SIGINT to the group),
 * from a process manager (SIGTERM to the group) or from `kill <npm pid>` (SIGTERM to npm only); every
 * process of the group and both infrastructure servers must be gone within STOP_WITHIN_MS. Each start
 * reuses the previous one's data directory and ports: its stale pid files must not block it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/processes';

/** Everything, infrastructure included, must be gone this long after the signal. */
const STOP_WITHIN_MS = 10_000;
/** Install check, infrastructure, `npm run build` (half a minute on a busy machine) and the processes. */
const HEALTHY_WITHIN_MS = 240_000;

jest.setTimeout(HEALTHY_WITHIN_MS + STOP_WITHIN_MS + 30_000);

interface Proc {
  pid: number;
  /** Start time in clock ticks since boot: tells a process from a later one with the same pid. */
  startTime: string;
  pgid: number;
  zombie: boolean;
  cmdline: string;
}

/** The process `pid` from /proc, or undefined when there is none. */
function procOf(pid: number): Proc | undefined {
  let stat: string;
  let cmdline: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return undefined;
  }
  // The command name in parentheses may contain anything: the fields follow its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { pid, startTime: fields[19], pgid: Number(fields[2]), zombie: fields[0] === 'Z', cmdline };
}

function allProcs(): Proc[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => procOf(Number(name)))
    .filter((p): p is Proc => p !== undefined);
}

/** Still running: the same process (not a later one with its pid) and not a zombie. */
function running(p: Proc): boolean {
  const now = procOf(p.pid);
  return now !== undefined && now.startTime === p.startTime && !now.zombie;
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      const server = net.createServer();
      return new Promise<net.Server>((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
    }),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

const dataDir = mkdtempSync(join(tmpdir(), 'npm-start-test-'));
let env: Record<string, string>;
let apiPort: number;
let current: { child: ChildProcess; output: string[]; exited: boolean } | undefined;

beforeAll(async () => {
  const [temporal, ui, sqs, api, bridge, worker, vllm, be] = await freePorts(8);
  apiPort = api;
  // Only what locates the tools: no setting of the developer's environment reaches the stack.
  const tools = Object.fromEntries(
    ['PATH', 'HOME', 'JAVA_HOME', 'TMPDIR'].flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])),
  ) as Record<string, string>;
  env = {
    ...tools,
    INFRA_DATA_DIR: dataDir,
    INFRA_TEMPORAL_PORT: String(temporal),
    INFRA_UI_PORT: String(ui),
    INFRA_SQS_PORT: String(sqs),
    API_PORT: String(api),
    BRIDGE_HEALTH_PORT: String(bridge),
    WORKER_HEALTH_PORT: String(worker),
    VLLM_SIM_PORT: String(vllm),
    BE_DOUBLE_PORT: String(be),
  };
});

/**
 * Whatever a failed test left: the group killed (also when npm itself exited: the script may live on
 * without it), then the servers stopped by the script that started them.
 */
async function killLeftovers(): Promise<void> {
  if (current) {
    try {
      process.kill(-(current.child.pid as number), 'SIGKILL');
    } catch {
      // the group is gone already
    }
    current = undefined;
  }
  spawnSync('bash', ['scripts/infra.sh', 'stop', 'dev'], { cwd: REPO_ROOT, env, timeout: 30_000 });
}

afterEach(killLeftovers, 60_000);

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function tail(output: string[]): string {
  return output.join('').split('\n').slice(-40).join('\n');
}

async function startHealthy(): Promise<ChildProcess> {
  const child = spawn('npm', ['start'], {
    cwd: REPO_ROOT,
    env,
    detached: true, // its own process group, as in a terminal
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = { child, output: [] as string[], exited: false };
  current = run;
  child.stdout?.setEncoding('utf8').on('data', (s: string) => run.output.push(s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => run.output.push(s));
  child.once('exit', () => (run.exited = true));

  const deadline = Date.now() + HEALTHY_WITHIN_MS;
  for (;;) {
    if (run.exited) throw new Error(`npm start exited before the API answered:\n${tail(run.output)}`);
    const healthy = await fetch(`http://127.0.0.1:${apiPort}/health`, {
      signal: AbortSignal.timeout(1000),
    }).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) return child;
    if (Date.now() > deadline)
      throw new Error(`the API did not answer within ${HEALTHY_WITHIN_MS} ms:\n${tail(run.output)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The infrastructure servers, by the pid files the script's infra.sh wrote. */
function infraServers(): Proc[] {
  return ['temporal', 'elasticmq'].map((name) => {
    const pid = Number(readFileSync(join(dataDir, `${name}.pid`), 'utf8').trim());
    const proc = procOf(pid);
    if (!proc) throw new Error(`${name}.pid names pid ${pid}, which does not run`);
    return proc;
  });
}

it.each([
  ['SIGINT', 'the process group (Ctrl-C)'],
  ['SIGTERM', 'the process group'],
  ['SIGTERM', 'npm only'],
] as const)('stops everything within 10 s after %s to %s', async (signal, target) => {
  const child = await startHealthy();
  const pgid = child.pid as number;
  const group = allProcs().filter((p) => p.pgid === pgid && !p.zombie);
  const infra = infraServers();
  // What is looked at is the stack: the three processes in the group, both servers in their own session.
  for (const entry of ['api/main.js', 'sqs-bridge/main.js', 'worker/main.js', 'dev/be-double/main.js'])
    expect(group.map((p) => p.cmdline).join('\n')).toContain(entry);
  expect(infra.map((p) => p.cmdline).join('\n')).toMatch(/start-dev[\s\S]*org\.elasticmq\.server\.Main/);

  const signalledAt = Date.now();
  if (target === 'npm only') process.kill(pgid, signal);
  else process.kill(-pgid, signal);

  const deadline = signalledAt + STOP_WITHIN_MS;
  let left: Proc[];
  for (;;) {
    // Also a process that joined the group after the snapshot (a step started meanwhile).
    const inGroup = allProcs().filter((p) => p.pgid === pgid && !p.zombie);
    left = [...inGroup, ...infra.filter(running)];
    if (left.length === 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect({
    left: left.map((p) => `${p.pid} ${p.cmdline.slice(0, 120)}`),
    output: left.length ? tail(current?.output ?? []) : '',
  }).toEqual({ left: [], output: '' });
});
