/**
 * Real OS processes for tests: an entry point (src/api/main.ts, …) run with tsx as a child process,
 * its JSON log lines parsed from stdout, and a small HTTP proxy in front of ElasticMQ that can delay
 * answers and records which SQS actions passed through it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { FeedbackQueues } from '../../src/shared/sqs';
import { testStack, webUiSetting } from './stack';
import { workflowBundlePath } from './temporal';

export const REPO_ROOT = join(__dirname, '..', '..');

export interface LogLine {
  msg?: string;
  level?: string;
  time?: string;
  [key: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the process exited. */
  at: number;
}

export interface EntryPoint {
  readonly process: ChildProcess;
  readonly logs: LogLine[];
  /** Everything written to stderr (and stdout lines that are not JSON). */
  readonly output: string[];
  readonly exited: Promise<Exit>;
  /** The first log line with this `msg` (also one already logged); rejects on timeout or exit. */
  waitForLog(msg: string, timeoutMs?: number): Promise<LogLine>;
  /** Sends `signal` and returns Date.now() at that moment. */
  signal(signal: NodeJS.Signals): number;
  /** SIGKILL if still running (cleanup after a failed test). */
  kill(): Promise<void>;
}

/**
 * Runs `node --import tsx <entry>` from the repository root with exactly `env` as its environment
 * (nothing is inherited from the test process).
 */
export function spawnEntryPoint(entry: string, env: Record<string, string>): EntryPoint {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const output: string[] = [];
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());

  let pending = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        output.push(line);
      }
    }
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => output.push(chunk));

  let hasExited = false;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      hasExited = true;
      resolve({ code, signal, at: Date.now() });
      notify();
    });
  });

  const describe = () =>
    `${entry}: logs ${JSON.stringify(logs.map((l) => l.msg))}, other output:\n${output.join('')}`;

  return {
    process: child,
    logs,
    output,
    exited,
    waitForLog(msg, timeoutMs = 30_000) {
      return new Promise<LogLine>((resolve, reject) => {
        const check = () => {
          const found = logs.find((l) => l.msg === msg);
          if (found) return done(() => resolve(found));
          if (hasExited)
            return done(() => reject(new Error(`exited before logging "${msg}"; ${describe()}`)));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`no "${msg}" within ${timeoutMs} ms; ${describe()}`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    signal(signal) {
      const at = Date.now();
      child.kill(signal);
      return at;
    },
    async kill() {
      if (!hasExited) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

export interface ProxiedRequest {
  /** The SQS action (X-Amz-Target of the JSON protocol, e.g. "AmazonSQS.ReceiveMessage"). */
  action: string;
  receivedAt: number;
  answeredAt?: number;
}

export interface SqsProxy {
  url: string;
  requests: ProxiedRequest[];
  /** Resolves with the first request of `action` (also one already received). */
  nextRequest(action: string): Promise<ProxiedRequest>;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of the SQS emulator: waits `delayMs` after a request arrived, then forwards
 * it unchanged and passes the answer back.
 */
export async function startSqsProxy(target: string, delayMs = 0): Promise<SqsProxy> {
  const requests: ProxiedRequest[] = [];
  const waiters = new Set<() => void>();
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const record: ProxiedRequest = {
      action: String(req.headers['x-amz-target'] ?? ''),
      receivedAt: Date.now(),
    };
    requests.push(record);
    waiters.forEach((w) => w());
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      setTimeout(() => {
        const upstream = http.request(
          new URL(req.url ?? '/', target),
          { method: req.method, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res).on('finish', () => (record.answeredAt = Date.now()));
          },
        );
        upstream.on('error', () => res.destroy());
        // The client gave up (long poll aborted): drop the upstream request too.
        res.on('close', () => upstream.destroy());
        upstream.end(Buffer.concat(chunks));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    nextRequest(action) {
      return new Promise((resolve) => {
        const check = () => {
          const found = requests.find((r) => r.action === action);
          if (found) {
            waiters.delete(check);
            resolve(found);
          }
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The environment of a service process (API, bridge, worker) on the test stack, built here: the tests
 * never read `process.env`. Health servers on free ports, delivery to the result queue.
 */
export function serviceEnv(
  queues: FeedbackQueues,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const stack = testStack();
  return {
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: stack.temporalAddress,
    ...webUiSetting(stack),
    TEMPORAL_TASK_QUEUE: `proc-${randomUUID().slice(0, 8)}`,
    AWS_ENDPOINT_URL_SQS: stack.sqsEndpoint,
    AWS_SQS_FEEDBACK_QUEUE_URL: queues.requestQueueUrl,
    AWS_SQS_FEEDBACK_DLQ_URL: queues.dlqUrl,
    AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: queues.resultQueueUrl,
    DELIVERY_MODE: 'queue',
    API_AUTH_MODE: 'none',
    BRIDGE_HEALTH_PORT: '0',
    WORKER_HEALTH_PORT: '0',
    HEALTH_HOST: '127.0.0.1',
    // The jest run's bundle: a worker process would otherwise bundle the workflows at every start.
    WORKER_WORKFLOW_BUNDLE_PATH: workflowBundlePath(),
    ...overrides,
  };
}
