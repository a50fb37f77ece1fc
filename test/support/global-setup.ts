/**
 * Jest's global setup: bundles the workflows once per jest run (plain, and with the OpenTelemetry
 * interceptors for tracing workers) into .data/jest/, where `workflowBundle()` (./temporal.ts) reads
 * them in every test file and every worker process a test starts. Bundling takes seconds per bundle;
 * per test file it was a minute of each run.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import {
  TRACING_WORKFLOW_INTERCEPTOR_MODULES,
  WORKFLOW_INTERCEPTOR_MODULES,
} from '../../src/worker/bundle-path';
import { WORKFLOWS_PATH } from '../../src/worker/worker';
import { BUNDLE_DIR, bundleFile, type BundleKind } from './bundles';

const noop = () => undefined;

export default async function globalSetup(): Promise<void> {
  mkdirSync(BUNDLE_DIR, { recursive: true });
  const kinds: Record<BundleKind, string[]> = {
    plain: WORKFLOW_INTERCEPTOR_MODULES,
    tracing: TRACING_WORKFLOW_INTERCEPTOR_MODULES,
  };
  for (const [kind, workflowInterceptorModules] of Object.entries(kinds)) {
    // Quiet, except that webpack's errors go into the failure jest prints.
    const errors: string[] = [];
    const logger = {
      trace: noop,
      debug: noop,
      info: noop,
      warn: noop,
      log: noop,
      error: (message: string, meta?: Record<string, unknown>) =>
        errors.push(meta ? `${message} ${JSON.stringify(meta)}` : message),
    };
    const { code } = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      workflowInterceptorModules,
      logger,
    }).catch((err: unknown) => {
      throw new Error(
        `global setup: bundling the workflows (${kind}) failed: ${String(err)}\n${errors.join('\n')}`,
      );
    });
    // Written whole under a temporary name, then renamed: a reader never sees half a bundle.
    const file = bundleFile(kind as BundleKind);
    writeFileSync(`${file}.tmp`, code);
    renameSync(`${file}.tmp`, file);
  }
}
