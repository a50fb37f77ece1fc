/** The three no-op activities of the raw Temporal ceiling; the last one records when it ran. */
import { setTimeout as sleep } from 'node:timers/promises';

export interface NoopCompletions {
  record(workflowStartedAt: number, workflowId: string): void;
}

/** `holdMs`: the middle activity takes that long (the raw design's LLM call; 0: a no-op). */
export function createNoopActivities(completions: NoopCompletions, holdMs = 0) {
  return {
    async noopA(): Promise<void> {},
    async noopB(): Promise<void> {
      if (holdMs > 0) await sleep(holdMs);
    },
    async noopC(input: { startedAt: number; workflowId: string }): Promise<void> {
      completions.record(input.startedAt, input.workflowId);
    },
  };
}

export type NoopActivities = ReturnType<typeof createNoopActivities>;
