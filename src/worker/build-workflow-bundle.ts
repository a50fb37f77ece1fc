/** Bundles the workflow code once at build time; production workers load it instead of bundling at start. */
import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';
import { DEFAULT_BUNDLE_PATH } from './bundle-path';
import { WORKFLOWS_PATH } from './worker';

async function main(): Promise<void> {
  const quiet = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { trace: quiet, debug: quiet, info: quiet, log: quiet, warn: console.warn, error: console.error },
  });
  await writeFile(DEFAULT_BUNDLE_PATH, code);
  process.stdout.write(
    `workflow bundle written to ${DEFAULT_BUNDLE_PATH} (${(code.length / 1024).toFixed(0)} KiB)\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bundling failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
