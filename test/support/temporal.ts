/** Temporal test helpers: the installed test-server binaries and one workflow bundle per test file. */
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { WORKFLOWS_PATH } from '../../src/worker/worker';
import { testStack } from './stack';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundling is slow: do it once per test file and pass the result to every worker. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
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
