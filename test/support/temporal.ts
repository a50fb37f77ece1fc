/** Temporal test helpers: the installed test-server binaries and one workflow bundle per test file. */
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  TRACING_WORKFLOW_INTERCEPTOR_MODULES,
  WORKFLOW_INTERCEPTOR_MODULES,
} from '../../src/worker/bundle-path';
import { WORKFLOWS_PATH } from '../../src/worker/worker';
import { testStack } from './stack';

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

/**
 * Bundling is slow: do it once per test file and pass the result to every worker. `tracing`: with the
 * OpenTelemetry workflow interceptors (the bundle a worker with tracing on uses).
 */
export function workflowBundle(options: { tracing?: boolean } = {}): Promise<WorkflowBundleWithSourceMap> {
  const key = options.tracing ? 'tracing' : 'plain';
  let bundle = bundles.get(key);
  if (!bundle) {
    bundle = bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      workflowInterceptorModules: options.tracing
        ? TRACING_WORKFLOW_INTERCEPTOR_MODULES
        : WORKFLOW_INTERCEPTOR_MODULES,
      logger: quietLogger,
    });
    bundles.set(key, bundle);
  }
  return bundle;
}

/** The Java time-skipping test server installed by scripts/infra.sh (no download at run time). */
export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testStack().temporalTestServer } },
  });
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
