/**
 * A memory profile of any Node process, loaded with `node --require <bench-build>/memory-log.js`
 * (the benchmark's `--memory-log` does this for our processes): once a second one JSON line on stderr
 * with `process.memoryUsage()` in MB, to tell the V8 heap (heapTotal), memory outside it that V8
 * knows of (external, arrayBuffers) and the rest of the resident set (native code and libraries, the
 * Temporal core's Rust allocations) apart. A preload runs in every worker thread too (the Temporal
 * worker's workflow thread): each thread logs its own isolate's heap, tagged `thread` (0 = main); rss
 * is the whole process's.
 */
import { threadId } from 'node:worker_threads';

const mb = (bytes: number) => Math.round(bytes / 1_048_576);

setInterval(() => {
  const usage = process.memoryUsage();
  process.stderr.write(
    `${JSON.stringify({
      thread: threadId,
      memoryMb: {
        rss: mb(usage.rss),
        heapTotal: mb(usage.heapTotal),
        heapUsed: mb(usage.heapUsed),
        external: mb(usage.external),
        arrayBuffers: mb(usage.arrayBuffers),
      },
    })}\n`,
  );
}, 1000).unref();
