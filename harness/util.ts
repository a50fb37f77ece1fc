/** Small helpers of the chaos runner and the benchmark harness. */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A seeded PRNG (mulberry32), so a chaos run's fault schedule is repeatable. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Nearest-rank percentile; undefined for no samples. */
export function percentile(values: number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function formatTable(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  const line = `+${'-'.repeat(width + 2)}+${'-'.repeat(62)}`;
  return [line, ...rows.map(([k, v]) => `| ${k.padEnd(width)} | ${v}`), line].join('\n');
}

/** A one-line progress bar on stderr (redrawn in place on a terminal, a line every 10 s otherwise). */
export class ProgressBar {
  private lastPlain = 0;

  constructor(
    private readonly total: number,
    private readonly width = 30,
  ) {}

  render(done: number, note = ''): void {
    const ratio = this.total === 0 ? 1 : Math.min(1, done / this.total);
    const filled = Math.round(ratio * this.width);
    const text = `[${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${done}/${this.total} ${note}`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${text.padEnd(100)}`);
    } else if (Date.now() - this.lastPlain > 10_000) {
      this.lastPlain = Date.now();
      process.stderr.write(`${text}\n`);
    }
  }

  finish(): void {
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
}

/** Runs `work` over `items` with at most `concurrency` at once. */
export async function pool<T>(
  items: T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/** Open loop: starts call i at i / ratePerSecond, whether or not the earlier ones have finished. */
export async function paced(
  count: number,
  ratePerSecond: number,
  work: (i: number) => Promise<void>,
): Promise<void> {
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / ratePerSecond - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(work(i));
  }
  await Promise.all(inFlight);
}
