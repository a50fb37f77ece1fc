/** What the flow suite samples while a run goes: the simulator's load and the worker's concurrency limit. */
import { sleep } from '../../harness/util';
import { simulatorCounters } from '../simulator';
import { PORTS, SIM } from './stack';

export interface Sample {
  t: number;
  running: number;
  waiting: number;
  completed: number;
  /** The worker's LLM concurrency limit (feedback_llm_concurrency_limit), when read. */
  limit?: number;
}

/** Samples the simulator every 250 ms (and the worker's limit every second) until stopped. */
export function sampler(): { samples: Sample[]; stop: () => Promise<void> } {
  const samples: Sample[] = [];
  let running = true;
  let limit: number | undefined;
  const limitLoop = (async () => {
    while (running) {
      try {
        const text = await (await fetch(`http://127.0.0.1:${PORTS.workerHealth}/metrics`)).text();
        const match = /^feedback_llm_concurrency_limit(?:\{[^}]*\})? (\S+)/m.exec(text);
        if (match) limit = Number(match[1]);
      } catch {
        // the worker is starting or stopping
      }
      await sleep(1000);
    }
  })();
  const loop = (async () => {
    while (running) {
      try {
        const stats = await simulatorCounters(SIM);
        samples.push({
          t: Date.now(),
          running: stats.running,
          waiting: stats.waiting,
          completed: stats.completed,
          limit,
        });
      } catch {
        // keep sampling
      }
      await sleep(250);
    }
  })();
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all([loop, limitLoop]);
    },
  };
}

export const round2 = (n: number) => Math.round(n * 100) / 100;
export const mean = (values: number[]) =>
  values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
