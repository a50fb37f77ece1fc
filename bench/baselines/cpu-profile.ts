/**
 * A CPU profile of any Node process's main thread, loaded with `node --require
 * <bench-build>/cpu-profile.js` (the benchmark's `--cpu-profile` does this for our processes; `node
 * --cpu-prof` itself is not allowed in NODE_OPTIONS). Samples from start to exit every 200 µs and writes
 * `<CPU_PROFILE_DIR or cwd>/<CPU_PROFILE_NAME or node>-<pid>.cpuprofile` on exit, which Chrome
 * DevTools or `node --import tsx bench/profile-summary.ts <file>` reads.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  // The main-thread session answers synchronously, so the profile is written before the process ends.
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      const dir = process.env.CPU_PROFILE_DIR ?? process.cwd();
      const name = process.env.CPU_PROFILE_NAME ?? 'node';
      writeFileSync(join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
