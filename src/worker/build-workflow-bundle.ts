/**
 * Bundles the workflow code once at build time; production workers load a bundle instead of bundling
 * at start. Two bundles: without and with the OpenTelemetry workflow interceptors (tracing on).
 */
import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';
import {
  DEFAULT_BUNDLE_PATH,
  TRACING_BUNDLE_PATH,
  TRACING_WORKFLOW_INTERCEPTOR_MODULES,
  WORKFLOW_INTERCEPTOR_MODULES,
} from './bundle-path';
import { WORKFLOWS_PATH } from './worker';

async function main(): Promise<void> {
  const quiet = () => undefined;
  const logger = {
    trace: quiet,
    debug: quiet,
    info: quiet,
    log: quiet,
    warn: console.warn,
    error: console.error,
  };
  for (const [path, workflowInterceptorModules] of [
    [DEFAULT_BUNDLE_PATH, WORKFLOW_INTERCEPTOR_MODULES],
    [TRACING_BUNDLE_PATH, TRACING_WORKFLOW_INTERCEPTOR_MODULES],
  ] as const) {
    const { code } = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      workflowInterceptorModules: [...workflowInterceptorModules],
      logger,
    });
    await writeFile(path, code);
    process.stdout.write(`workflow bundle written to ${path} (${(code.length / 1024).toFixed(0)} KiB)\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bundling failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
