/**
 * runMain / onShutdown in a real child process: which signal does what, and no signal is lost
 * between start-up and running. The child sends SIGTERM to itself at exact points of its code, so
 * the timing that made a worker miss a SIGTERM right after "Worker running" is reproduced every run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, spawnEntryPoint, type EntryPoint } from '../support/processes';
import { releaseAll } from '../support/teardown';

jest.setTimeout(30_000);

/**
 * SCENARIO picks when the child signals itself. `stop` takes 200 ms and logs each call; an interval
 * stands for the work in hand (it keeps the process alive until `stop` clears it). A child nobody
 * stopped says so and exits 3 after 3 s.
 */
const CHILD = (processModule: string, loggerModule: string) => `
import { onShutdown, runMain } from ${JSON.stringify(processModule)};
import { createLogger } from ${JSON.stringify(loggerModule)};

const scenario = process.env.SCENARIO;
runMain('child', async () => {
  const logger = createLogger('child', 'info');
  const work = setInterval(() => undefined, 1000);
  setTimeout(() => {
    process.stderr.write('child: nothing stopped me\\n');
    process.exit(3);
  }, 3000).unref();
  // Caught now; Node runs the listener on a later turn of the event loop.
  if (scenario === 'while-starting') {
    process.kill(process.pid, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (scenario === 'just-before-running') process.kill(process.pid, 'SIGTERM');
  onShutdown(logger, async () => {
    logger.info('stop called');
    await new Promise((resolve) => setTimeout(resolve, 200));
    clearInterval(work);
  });
  logger.info('running');
});
`;

let dir: string;
let entry: string;
const children: EntryPoint[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'process-test-'));
  entry = join(dir, 'child.ts');
  writeFileSync(
    entry,
    CHILD(join(REPO_ROOT, 'src', 'shared', 'process.ts'), join(REPO_ROOT, 'src', 'shared', 'logger.ts')),
  );
});

afterEach(() => releaseAll([['kill the child', () => Promise.all(children.splice(0).map((c) => c.kill()))]]));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function child(scenario: string): EntryPoint {
  const c = spawnEntryPoint(entry, { SCENARIO: scenario });
  children.push(c);
  return c;
}

const messages = (c: EntryPoint) => c.logs.map((l) => l.msg);

describe('runMain and onShutdown', () => {
  it('a SIGTERM while starting exits 0 at once, without stopping anything', async () => {
    const c = child('while-starting');
    expect(await c.exited).toMatchObject({ code: 0, signal: null });
    expect(c.output.join('')).toMatch(/child: SIGTERM while starting; exiting/);
    expect(messages(c)).toEqual([]);
  });

  // Regression: the start-up listener was removed and the shutdown listener added in one tick; Node
  // dropped the signal its watcher had caught in between, and the process ran on.
  it('a SIGTERM caught just before onShutdown, in the same tick, stops in order', async () => {
    const c = child('just-before-running');
    expect(await c.exited).toMatchObject({ code: 0, signal: null });
    expect(messages(c)).toEqual(['running', 'Shutting down', 'stop called', 'Stopped']);
    expect(c.output.join('')).toBe('');
  });

  it('once running, SIGTERM stops once (a second signal does not stop again) and exits 0', async () => {
    const c = child('running');
    await c.waitForLog('running');
    c.signal('SIGTERM');
    await c.waitForLog('stop called');
    c.signal('SIGINT');
    expect(await c.exited).toMatchObject({ code: 0, signal: null });
    expect(messages(c)).toEqual(['running', 'Shutting down', 'stop called', 'Stopped']);
  });
});
