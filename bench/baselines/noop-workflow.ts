/**
 * The raw Temporal ceiling's workflow: three no-op activities in sequence, like FeedbackWorkflow's
 * steps but with nothing to do. Bundled on its own (raw-temporal.ts `bundle`), not with our workflows.
 * With `holdQueue` the middle one runs on that task queue, whose worker takes L and allows C at a
 * time: the raw design of an LLM call, whose runs wait in the worker's cache like ours'.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { NoopActivities } from './noop-activities';

const { noopA, noopB, noopC } = proxyActivities<NoopActivities>({ startToCloseTimeout: '10 seconds' });

export async function NoopWorkflow(startedAt: number, holdQueue?: string): Promise<void> {
  await noopA();
  if (holdQueue === undefined) await noopB();
  else
    await proxyActivities<NoopActivities>({
      taskQueue: holdQueue,
      startToCloseTimeout: '1 minute',
    }).noopB();
  await noopC({ startedAt, workflowId: workflowInfo().workflowId });
}
