/**
 * A memory profile of any Node process, loaded with `node --require <bench-build>/memory-log.js`
 * (the benchmark's `--memory-log` does this for our processes and the raw Temporal worker): once a
 * second one JSON line on stderr with `process.memoryUsage()` in MB, to tell the V8 heap (heapTotal),
 * memory outside it that V8 knows of (external, arrayBuffers) and the rest of the resident set (native
 * code and libraries, the Temporal core's Rust allocations) apart. A preload runs in every worker
 * thread too (the Temporal worker's workflow thread): each thread logs its own isolate's heap, tagged
 * `thread` (0 = main); rss is the whole process's.
 *
 * Heap snapshots on request: while the file `/tmp/heap-snapshot-request-<pid>` exists, each thread
 * writes one snapshot of its own heap to the directory that file names (`<pid>-t<thread>.heapsnapshot`),
 * once per request (remove the file, write it again for another).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { threadId } from 'node:worker_threads';

const mb = (bytes: number) => Math.round(bytes / 1_048_576);
const request = `/tmp/heap-snapshot-request-${process.pid}`;
let snapshots = 0;
let requested = false;

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
  const asked = existsSync(request);
  if (asked && !requested) {
    snapshots += 1;
    const dir = readFileSync(request, 'utf8').trim() || '/tmp';
    const file = writeHeapSnapshot(join(dir, `${process.pid}-t${threadId}-${snapshots}.heapsnapshot`));
    process.stderr.write(
      `${JSON.stringify({ thread: threadId, heapSnapshot: file, rssMb: mb(usage.rss) })}\n`,
    );
  }
  requested = asked;
}, 1000).unref();
