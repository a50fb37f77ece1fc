/**
 * What a FeedbackWorkflow run shows of itself while it runs: its status (the `status` query), its stage
 * in the FeedbackStage search attribute, and the tokens vLLM reported (PromptTokens, CompletionTokens,
 * upserted with the first stage after generation).
 */
import { setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  CompletionTokensSearchAttribute,
  FeedbackStageSearchAttribute,
  PromptTokensSearchAttribute,
  statusQuery,
  type FeedbackStage,
  type FeedbackStatus,
} from '../domain/workflow';

export class RunProgress {
  readonly status: FeedbackStatus = { stage: 'queued', generations: 0 };
  private readonly stageSearchable: boolean;
  private readonly tokensSearchable: boolean;
  private tokensToUpsert = false;

  constructor() {
    setHandler(statusQuery, () => this.status);
    // Only with the attributes set at start (startFeedbackWorkflow sets them): on a namespace where one
    // is not registered, an upsert would fail every workflow task of the run.
    const attributes = workflowInfo().typedSearchAttributes;
    this.stageSearchable = attributes.get(FeedbackStageSearchAttribute) !== undefined;
    this.tokensSearchable =
      attributes.get(PromptTokensSearchAttribute) !== undefined &&
      attributes.get(CompletionTokensSearchAttribute) !== undefined;
  }

  /** A generation reached the guardrail: counted, with the tokens vLLM reported for it. */
  generated(usage?: { promptTokens: number; completionTokens: number }): void {
    const { tokens } = this.status;
    if (usage) {
      this.status.tokens = {
        prompt: (tokens?.prompt ?? 0) + usage.promptTokens,
        completion: (tokens?.completion ?? 0) + usage.completionTokens,
      };
    }
    this.status.generations += 1;
  }

  /** Generation is over (with `failure`, for good): the tokens go with the next stage. */
  generationEnded(failure: string | undefined): void {
    if (failure !== undefined) this.status.lastError = failure;
    this.tokensToUpsert = true;
  }

  enter(stage: FeedbackStage): void {
    const extra = this.takeTokenAttributes();
    const changed = stage !== this.status.stage || extra.length > 0;
    this.status.stage = stage;
    if (this.stageSearchable && changed)
      upsertSearchAttributes([{ key: FeedbackStageSearchAttribute, value: stage }, ...extra]);
  }

  /** Fails for good: the reason is the last error, the stage the final one. */
  fail(reason: string, stage: 'failed' | 'expired'): void {
    this.status.lastError = reason;
    this.enter(stage);
  }

  /** Delivered; a completed run is the record of its delivery, so nothing is upserted. */
  delivered(): void {
    this.status.stage = 'delivered';
  }

  private takeTokenAttributes(): SearchAttributeUpdatePair[] {
    const { tokens } = this.status;
    const pending = this.tokensToUpsert;
    this.tokensToUpsert = false;
    if (!pending || !tokens || !this.tokensSearchable) return [];
    return [
      { key: PromptTokensSearchAttribute, value: tokens.prompt },
      { key: CompletionTokensSearchAttribute, value: tokens.completion },
    ];
  }
}
