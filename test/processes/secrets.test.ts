/**
 * Secrets never leak: the three processes run with known secret values at LOG_LEVEL=debug, a request
 * goes through with failures on the way (a refused caller, a vLLM 500, a callback 503), a process
 * refuses a bad secret at start — and no log line, error output or response body contains a secret.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createBeDouble, type BeDouble } from '../../dev/be-double';
import { createVllmSimulator, type VllmSimulator } from '../../dev/vllm-simulator';
import { serviceEnv, spawnEntryPoint, type EntryPoint } from '../support/processes';
import { freshQueues, testSqsClient } from '../support/stack';
import { releaseAll } from '../support/teardown';

jest.setTimeout(120_000);

const SECRETS = {
  API_AUTH_TOKEN: 'api-token-SECRET-1f2e3d4c5b6a',
  BE_CALLBACK_AUTHORIZATION: 'Bearer callback-SECRET-9a8b7c6d',
  BE_CALLBACK_SIGNING_SECRET: 'signing-SECRET-0123456789abcdef0123456789',
  VLLM_API_KEY: 'vllm-SECRET-key-5e6f7a8b',
  AWS_SECRET_ACCESS_KEY: 'aws-SECRET-access-key-3c4d5e6f',
};
/** What must never appear: each value, and the distinctive part of each. */
const NEEDLES = Object.values(SECRETS).flatMap((v) => [v, v.replace(/^Bearer /, '')]);

let sqs: SQSClient;
let simulator: VllmSimulator;
let vllmDoor: RecordingProxy;
let receiver: BeDouble;
const children: EntryPoint[] = [];
const bodies: string[] = [];

beforeAll(async () => {
  sqs = testSqsClient();
  simulator = createVllmSimulator({ maxNumSeqs: 4, latencyMs: 20 });
  receiver = createBeDouble({ members: 'any', signingSecret: SECRETS.BE_CALLBACK_SIGNING_SECRET });
});

afterAll(() =>
  releaseAll([
    ['kill the processes', () => Promise.all(children.map((c) => c.kill()))],
    ['close the proxy in front of the simulator', () => vllmDoor?.close()],
    ['close the vLLM simulator', () => simulator?.close()],
    ['close the BE double', () => receiver?.close()],
    ['destroy the SQS client', () => sqs?.destroy()],
  ]),
);

/** A request as it reached the simulator: the simulator itself does not keep its headers. */
interface SeenRequest {
  method?: string;
  path: string;
  authorization?: string;
}

interface RecordingProxy {
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** An HTTP proxy in front of `target`: notes each request's Authorization, forwards it unchanged. */
async function recordingProxy(target: string): Promise<RecordingProxy> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const { method, headers } = req;
    seen.push({ method, path: (req.url ?? '/').split('?')[0], authorization: headers.authorization });
    const upstream = http.request(new URL(req.url ?? '/', target), { method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function scan(label: string, text: string): void {
  for (const needle of NEEDLES) {
    expect({ where: label, leaks: text.includes(needle) ? needle : null }).toEqual({
      where: label,
      leaks: null,
    });
  }
}

it('keeps every secret out of logs, error output and response bodies', async () => {
  // The worker calls the simulator through this proxy, which sees the headers it sends.
  vllmDoor = await recordingProxy((await simulator.listen(0)).url);
  const callbackUrl = await receiver.listen(0);
  const queues = await freshQueues(sqs, 'secrets');
  const env = serviceEnv(queues, {
    ...SECRETS,
    LOG_LEVEL: 'debug',
    API_AUTH_MODE: 'bearer',
    API_PORT: '0',
    API_HOST: '127.0.0.1',
    DELIVERY_MODE: 'callback',
    BE_CALLBACK_BASE_URL: callbackUrl,
    VLLM_API_URL: vllmDoor.url,
    BRIDGE_WAIT_TIME_SECONDS: '1',
  });
  const api = spawnEntryPoint('src/api/main.ts', env);
  const bridge = spawnEntryPoint('src/sqs-bridge/main.ts', env);
  const worker = spawnEntryPoint('src/worker/main.ts', env);
  children.push(api, bridge, worker);
  const apiUrl = `http://127.0.0.1:${(await api.waitForLog('API listening', 60_000)).port as number}`;
  await worker.waitForLog('Worker running', 60_000);

  const body = JSON.stringify({
    memberId: 77,
    personalChallenges: [{ id: 1, title: '텀블러', isSuccess: true }],
  });
  const post = (authorization?: string) =>
    fetch(`${apiUrl}/ai/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body,
    });
  // A caller with a token that is almost right, one with none, and an invalid body.
  for (const response of [await post(`Bearer ${SECRETS.API_AUTH_TOKEN}x`), await post()]) {
    expect(response.status).toBe(401);
    bodies.push(await response.text());
  }
  const invalid = await fetch(`${apiUrl}/ai/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.API_AUTH_TOKEN}` },
    body: '{"memberId":',
  });
  bodies.push(await invalid.text());

  // The real request, with a vLLM 500 and a callback 503 on the way.
  simulator.setFaults([{ kind: 'error500', count: 1 }]);
  receiver.failNext(1, 503);
  const accepted = await post(`Bearer ${SECRETS.API_AUTH_TOKEN}`);
  expect(accepted.status).toBe(202);
  bodies.push(await accepted.text());
  const [delivered] = await receiver.waitForAccepted(1, 60_000).catch((err: Error) => {
    const logs = [...api.logs, ...bridge.logs, ...worker.logs].map(
      (l) =>
        `${String(l.service)}: ${String(l.msg)} ${String((l.err as { message?: string } | undefined)?.message ?? '')}`,
    );
    throw new Error(
      `${err.message}; attempts ${JSON.stringify(receiver.attempts().map((a) => a.status))}; logs ${logs.slice(-30).join(' | ')}`,
    );
  });
  expect(delivered.memberId).toBe(77);
  // The worker sent what the BE needs: the callback secret and a valid signature.
  const ok = receiver.attempts().find((a) => a.status === 200);
  expect(ok).toMatchObject({ authorization: SECRETS.BE_CALLBACK_AUTHORIZATION, signatureValid: true });
  // The simulator got the vLLM key with every chat completion (the 500 and the retry), yet no log
  // shows it.
  const chats = vllmDoor.seen.filter((r) => r.method === 'POST' && r.path === '/v1/chat/completions');
  expect(chats.length).toBeGreaterThanOrEqual(2);
  expect(simulator.stats().received).toBe(chats.length);
  expect(chats.map((r) => r.authorization)).toEqual(chats.map(() => `Bearer ${SECRETS.VLLM_API_KEY}`));
  const metrics = await fetch(`${apiUrl}/metrics`, {
    headers: { authorization: `Bearer ${SECRETS.API_AUTH_TOKEN}` },
  });
  bodies.push(await metrics.text());

  // A process refusing a secret that is too short names the variable, not the value.
  const short = 'short-SECRET'; // 12 characters: below the minimum of 16
  NEEDLES.push(short);
  const refused = spawnEntryPoint('src/api/main.ts', { ...env, API_AUTH_TOKEN: short });
  children.push(refused);
  const exit = await refused.exited;
  expect(exit.code).not.toBe(0);
  expect(refused.output.join('') + JSON.stringify(refused.logs)).toMatch(
    /API_AUTH_TOKEN: must be at least 16 characters/,
  );

  for (const child of [api, bridge, worker, refused]) {
    scan(`${child.process.spawnargs.join(' ')} logs`, JSON.stringify(child.logs));
    scan(`${child.process.spawnargs.join(' ')} output`, child.output.join(''));
  }
  bodies.forEach((b, i) => scan(`response ${i}`, b));
  // The failures on the way were logged (so the scan saw error paths, not only happy ones).
  const all = [...api.logs, ...bridge.logs, ...worker.logs];
  expect(all.some((l) => l.msg === 'Request refused: not authenticated')).toBe(true);
  expect(JSON.stringify(worker.logs)).toMatch(/vLLM answered 500|callback answered 503/);
});
