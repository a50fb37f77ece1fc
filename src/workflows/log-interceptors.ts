/**
 * Workflow interceptors (not workflows): every `log` line of a workflow carries `requestId` and, from
 * the run's memo, `memberId`, next to the workflowId and runId the SDK adds. Log attributes do not
 * reach the history, so this cannot affect replay.
 */
import { workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { requestIdOf } from '../domain/keys';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      getLogAttributes(input, next) {
        const info = workflowInfo();
        const memberId = (info.memo as { memberId?: unknown } | undefined)?.memberId;
        const requestId = requestIdOf(info.workflowId);
        return next({
          ...input,
          ...(requestId === undefined ? {} : { requestId }),
          ...(typeof memberId === 'number' ? { memberId } : {}),
        });
      },
    },
  ],
});
