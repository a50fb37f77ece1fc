/** The three no-op activities of the raw Temporal ceiling; the last one records when it ran. */
export interface NoopCompletions {
  record(workflowStartedAt: number, workflowId: string): void;
}

export function createNoopActivities(completions: NoopCompletions) {
  return {
    async noopA(): Promise<void> {},
    async noopB(): Promise<void> {},
    async noopC(input: { startedAt: number; workflowId: string }): Promise<void> {
      completions.record(input.startedAt, input.workflowId);
    },
  };
}

export type NoopActivities = ReturnType<typeof createNoopActivities>;
