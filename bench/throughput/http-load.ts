/** Load generators for the API run: closed loops at an overall rate, and autocannon. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { sleep } from '../../harness/util';

/** Latencies (ms) of the successful calls, and the failed ones. */
export interface HttpSample {
  latencies: number[];
  errors: number;
  non2xx: number;
}

export const emptySample = (): HttpSample => ({ latencies: [], errors: 0, non2xx: 0 });
export const countSample = (sample: HttpSample) => ({
  count: sample.latencies.length,
  errors: sample.errors,
  non2xx: sample.non2xx,
});

/** How hard autocannon drives a server. */
export interface AutocannonLoad {
  connections: number;
  ratePerSecond: number;
  seconds: number;
}

/**
 * `connections` loops, each making one call at a time at `ratePerSecond / connections` (a late call
 * goes at once), for `seconds`: how autocannon drives a server at an overall rate.
 */
export async function closedLoops(
  connections: number,
  ratePerSecond: number,
  seconds: number,
  work: () => Promise<void>,
): Promise<void> {
  const start = performance.now();
  const end = start + seconds * 1000;
  const interval = (1000 * connections) / ratePerSecond;
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      for (let k = 0; ; k++) {
        const due = start + (c * interval) / connections + k * interval;
        if (due >= end) return;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        await work();
      }
    }),
  );
}

/** One JSON POST, its latency recorded in `sample` when it succeeds. */
export async function postOnce(url: string, body: string, sample: HttpSample): Promise<void> {
  const t0 = performance.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await response.arrayBuffer();
    if (response.ok) sample.latencies.push(performance.now() - t0);
    else sample.non2xx += 1;
  } catch {
    sample.errors += 1;
  }
}

/** autocannon POSTing `body` to `url`; latencies (ms, unrounded) of the 2xx answers. */
export function fireAutocannon(url: string, body: string, load: AutocannonLoad): Promise<HttpSample> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let non2xx = 0;
    const instance = autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections: load.connections,
        overallRate: load.ratePerSecond,
        duration: load.seconds,
      },
      (err, result) =>
        err ? reject(err) : resolve({ latencies, errors: result.errors + result.timeouts, non2xx }),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      else non2xx += 1;
    });
  });
}

/** autocannon, driven the same way, against an HTTP server in this process that answers at once. */
export async function autocannonFloor(body: string, load: AutocannonLoad): Promise<HttpSample> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await fireAutocannon(`http://127.0.0.1:${port}/`, body, load);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}
