import { join } from 'node:path';

/** Where `npm run build` writes the prebuilt workflow bundle (dist/workflow-bundle.js). */
export const DEFAULT_BUNDLE_PATH = join(__dirname, '..', '..', 'workflow-bundle.js');

/** The same workflows with the OpenTelemetry workflow interceptors, for workers with tracing on. */
export const TRACING_BUNDLE_PATH = join(__dirname, '..', '..', 'workflow-bundle-tracing.js');

/** Workflow interceptor modules of every bundle: requestId and memberId on workflow log lines. */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/log-interceptors')];

/** ...and of the tracing bundle: spans for the workflow and what it schedules. */
export const TRACING_WORKFLOW_INTERCEPTOR_MODULES = [
  ...WORKFLOW_INTERCEPTOR_MODULES,
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];
