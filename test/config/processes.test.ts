/**
 * The processes section (src/config/processes.ts): log level, health ports and the worker's slots and
 * sticky cache.
 */
import { problemsOf } from '../support/config';
import { loadConfig } from '../../src/config';

describe("the worker's limits", () => {
  it("default to 200 activities and 100 workflow tasks at once, the SDK's own cache size, a bundle found by the worker", () => {
    expect(loadConfig({}).worker).toEqual({
      maxConcurrentActivities: 200,
      maxConcurrentWorkflowTasks: 100,
      workflowBundlePath: undefined,
      maxCachedWorkflows: undefined,
    });
  });

  it('take each setting from its variable', () => {
    expect(
      loadConfig({
        WORKER_MAX_CONCURRENT_ACTIVITIES: '50',
        WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '20',
        WORKER_WORKFLOW_BUNDLE_PATH: '/app/dist/workflow-bundle.js',
        WORKER_MAX_CACHED_WORKFLOWS: '500',
      }).worker,
    ).toEqual({
      maxConcurrentActivities: 50,
      maxConcurrentWorkflowTasks: 20,
      workflowBundlePath: '/app/dist/workflow-bundle.js',
      maxCachedWorkflows: 500,
    });
  });

  it("read an empty cache size as unset, 0 as the cache turned off, and refuse anything else that isn't a whole number", () => {
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '' }).worker.maxCachedWorkflows).toBeUndefined();
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '0' }).worker.maxCachedWorkflows).toBe(0);
    for (const bad of ['-1', '2.5', 'lots']) {
      expect(problemsOf(() => loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: bad }))).toEqual([
        expect.stringMatching(/^WORKER_MAX_CACHED_WORKFLOWS: /),
      ]);
    }
    expect(problemsOf(() => loadConfig({ WORKER_MAX_CONCURRENT_ACTIVITIES: '0' }))).toEqual([
      expect.stringMatching(/^WORKER_MAX_CONCURRENT_ACTIVITIES: /),
    ]);
  });
});

it('gives the bridge and the worker their own health ports on one host', () => {
  expect(loadConfig({}).health).toEqual({ host: '0.0.0.0', bridgePort: 8091, workerPort: 8092 });
  expect(
    loadConfig({ HEALTH_HOST: '127.0.0.1', BRIDGE_HEALTH_PORT: '9091', WORKER_HEALTH_PORT: '0' }).health,
  ).toEqual({ host: '127.0.0.1', bridgePort: 9091, workerPort: 0 });
});

it('reads the log level, info by default', () => {
  expect(loadConfig({}).logLevel).toBe('info');
  expect(loadConfig({ LOG_LEVEL: 'silent' }).logLevel).toBe('silent');
  expect(problemsOf(() => loadConfig({ LOG_LEVEL: 'verbose' }))).toEqual([
    expect.stringMatching(/^LOG_LEVEL: /),
  ]);
});
