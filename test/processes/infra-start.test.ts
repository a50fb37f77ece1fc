import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startElasticMq } from '../../harness/infra';
import { ProcessGroup } from '../../harness/processes';

const REPO_ROOT = join(__dirname, '..', '..');

const listen = (port = 0) =>
  new Promise<Server>((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
const portOf = (server: Server) => (server.address() as { port: number }).port;
async function freePort(): Promise<number> {
  const server = await listen();
  const port = portOf(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}
/**
 * A client connection whose local end is `port`, as one given that port from Linux's ephemeral range
 * would be: nothing listens on it, yet a server cannot bind it. Python's, since Node's sockets bound to
 * a port carry SO_REUSEADDR, which lets a server bind beside them; a connection that got its port from
 * the kernel has no such flag.
 */
async function holdAsClient(port: number, server: Server): Promise<ChildProcess> {
  const script = [
    'import socket, sys',
    's = socket.socket()',
    "s.bind(('127.0.0.1', int(sys.argv[1])))",
    "s.connect(('127.0.0.1', int(sys.argv[2])))",
    "print('held', flush=True)",
    'sys.stdin.read()',
  ].join('\n');
  const child = spawn('python3', ['-c', script, String(port), String(portOf(server))], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the port holder exited (code ${code})`)));
  });
  return child;
}
/** `infra.sh start dev` into `dataDir`, ElasticMQ on `sqsPort`, Temporal and its UI on free ports. */
async function startDev(dataDir: string, sqsPort: number) {
  const [temporalPort, uiPort] = [await freePort(), await freePort()];
  const run = spawnSync('bash', ['scripts/infra.sh', 'start', 'dev'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      INFRA_DATA_DIR: dataDir,
      INFRA_TEMPORAL_PORT: String(temporalPort),
      INFRA_UI_PORT: String(uiPort),
      INFRA_SQS_PORT: String(sqsPort),
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { run, temporalPort };
}
/** Pids of the processes whose command line contains every needle. */
function processesWith(...needles: string[]): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        return needles.every((needle) => cmdline.includes(needle));
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('scripts/infra.sh start that fails', () => {
  let dataDir: string;
  let sqsHolder: Server;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'infra-start-'));
    sqsHolder = await listen(); // another program on the SQS port
  });
  afterAll(async () => {
    await new Promise((resolve) => sqsHolder.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops the server it had already launched, and names the port that was taken', async () => {
    const sqsPort = portOf(sqsHolder);
    // The dev server is launched first; ElasticMQ's port is then found taken.
    const { run, temporalPort } = await startDev(dataDir, sqsPort);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`port ${sqsPort} is taken by another process`);
    expect(run.stderr).toContain('start failed: stopping what it launched (temporal)');
    expect(run.stderr).toContain('starting Temporal dev server');
    // Its pid file is gone, no process of it is left, and its port is free again.
    expect(existsSync(join(dataDir, 'temporal.pid'))).toBe(false);
    // Watched for 2 s: a server left behind would show up once its process has exec'd.
    for (let watched = 0; watched < 2000; watched += 100) {
      expect(processesWith('server start-dev', `--port ${temporalPort} `)).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const stillListening = await listen(temporalPort).then(
      (server) => new Promise<boolean>((resolve) => server.close(() => resolve(false))),
      () => true,
    );
    expect(stillListening).toBe(false);
  });
});

describe('ElasticMQ whose port a client connection holds', () => {
  let dataDir: string;
  let peer: Server;
  let holder: ChildProcess;
  let sqsPort: number;
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'infra-bind-'));
    peer = await listen();
    sqsPort = await freePort();
    holder = await holdAsClient(sqsPort, peer);
  });
  afterEach(async () => {
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    holder.stdin?.end();
    await exited;
    await new Promise((resolve) => peer.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('fails infra.sh start at once, naming the port, instead of waiting out the readiness timeout', async () => {
    const { run } = await startDev(dataDir, sqsPort);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`ElasticMQ could not bind 127.0.0.1:${sqsPort}: another process holds it`);
    expect(run.stderr).not.toContain('did not become ready');
    expect(run.stderr).toContain('start failed: stopping what it launched');
    const elasticMqs = processesWith('org.elasticmq.server.Main').filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`ELASTICMQ_PORT=${sqsPort}`);
      } catch {
        return false;
      }
    });
    expect(elasticMqs).toEqual([]);
  });

  it('fails the harness start at once, naming the port', async () => {
    const group = new ProcessGroup(dataDir);
    try {
      await expect(startElasticMq(group, { port: sqsPort })).rejects.toThrow(
        `elasticmq could not bind 127.0.0.1:${sqsPort}: another process holds it`,
      );
    } finally {
      await group.stopAll('SIGKILL');
    }
  });
});
