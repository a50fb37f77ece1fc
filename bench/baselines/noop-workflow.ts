/**
 * The raw Temporal ceiling's workflow: three no-op activities in sequence, like FeedbackWorkflow's
 * steps but with nothing to do. Bundled on its own (raw-temporal.ts `bundle`), not with our workflows.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { NoopActivities } from './noop-activities';

const { noopA, noopB, noopC } = proxyActivities<NoopActivities>({ startToCloseTimeout: '10 seconds' });

export async function NoopWorkflow(startedAt: number): Promise<void> {
  await noopA();
  await noopB();
  await noopC({ startedAt, workflowId: workflowInfo().workflowId });
}
