/**
 * Temporal test helpers: the installed test-server binaries, the workflow bundle of the jest run, and a
 * time-skipping environment whose teardown stops the workers the tests left behind.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Worker, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleFile, type BundleKind } from './bundles';
import { testStack } from './stack';
import { releaseAll } from './teardown';

const bundles = new Map<BundleKind, WorkflowBundleWithSourceMap>();

/**
 * The prebuilt workflow bundle's file (jest's global setup writes it once per run), for a worker process
 * a test starts (`WORKER_WORKFLOW_BUNDLE_PATH`). `tracing`: with the OpenTelemetry workflow
 * interceptors (the bundle a worker with tracing on uses).
 */
export function workflowBundlePath(options: { tracing?: boolean } = {}): string {
  const file = bundleFile(options.tracing ? 'tracing' : 'plain');
  if (!existsSync(file))
    throw new Error(`${file} is missing: jest's global setup (test/support/global-setup.ts) writes it`);
  return file;
}

/** The same bundle as code, to pass to `Worker.create({ workflowBundle })`. */
export function workflowBundle(options: { tracing?: boolean } = {}): Promise<WorkflowBundleWithSourceMap> {
  const kind: BundleKind = options.tracing ? 'tracing' : 'plain';
  let bundle = bundles.get(kind);
  if (!bundle) {
    // Source maps are inline in the code; the SDK no longer reads the separate field.
    bundle = { code: readFileSync(workflowBundlePath(options), 'utf8'), sourceMap: '' };
    bundles.set(kind, bundle);
  }
  return Promise.resolve(bundle);
}

/** The Java time-skipping test server installed by scripts/infra.sh (no download at run time). */
export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testStack().temporalTestServer } },
  });
}

/**
 * A test file's time-skipping environment, with every Worker the file creates (`Worker.create`, which
 * the tests call directly) tracked from `setup()` on:
 *
 *   const temporal = timeSkippingEnv();
 *   let env: TestWorkflowEnvironment;
 *   beforeAll(async () => (env = await temporal.setup()), 120_000);
 *   afterAll(() => temporal.teardown(), 60_000);
 *
 * `teardown()` first stops the workers still holding the environment's connection (one a timed-out
 * test left running, one created but never run because the next step failed), then closes the
 * environment. A native worker left behind keeps jest from exiting, and the SDK's own teardown cannot
 * close a connection a worker still holds. It tolerates a setup that failed half-way (environment
 * never created, bundle failed), and it throws what it could not release only after it tried all of
 * it (jest reports that next to, not instead of, the failure that left the worker behind).
 */
export interface TimeSkippingEnv {
  /** Starts the test server and bundles the workflows (a bundle error fails here, not per test). */
  setup(): Promise<TestWorkflowEnvironment>;
  teardown(): Promise<void>;
}

export function timeSkippingEnv(): TimeSkippingEnv {
  let env: TestWorkflowEnvironment | undefined;
  let spy: jest.SpyInstance | undefined;
  const runs = new Map<Worker, Promise<void> | undefined>();
  return {
    async setup() {
      const create = Worker.create.bind(Worker);
      spy = jest.spyOn(Worker, 'create').mockImplementation(async (options: WorkerOptions) => {
        // A worker whose activity ignores cancellation would otherwise never finish shutting down.
        const worker = await create({ shutdownForceTime: '10s', ...options });
        const run = worker.run.bind(worker);
        // runUntil goes through run(): keep its promise, teardown waits for it.
        worker.run = () => {
          const running = run();
          runs.set(
            worker,
            running.then(
              () => undefined,
              () => undefined,
            ),
          );
          return running;
        };
        runs.set(worker, undefined);
        return worker;
      });
      env = await createTimeSkippingEnv();
      await workflowBundle();
      return env;
    },
    async teardown() {
      await releaseAll([
        ...[...runs.keys()].map(
          (worker, i) =>
            [
              `stop worker ${i + 1} (task queue ${worker.options.taskQueue})`,
              () => stopWorker(worker, runs.get(worker)),
            ] as const,
        ),
        ['close the time-skipping environment', () => env?.teardown()],
        ['restore Worker.create', () => spy?.mockRestore()],
      ]);
    },
  };
}

/**
 * Stops a worker in whatever state it is and waits for `running` (what its run() returned, if it was
 * run), after which it no longer holds its connection.
 */
export async function stopWorker(worker: Worker, running: Promise<unknown> | undefined): Promise<void> {
  const state = worker.getState();
  if (state === 'INITIALIZED') {
    // Never run: running it until at once is the public way to release its native worker.
    await worker.runUntil(Promise.resolve());
    return;
  }
  if (state === 'RUNNING') worker.shutdown();
  await running;
}
