/**
 * Token usage behind `npm run feedback -- tokens`: the prompt and completion tokens of FeedbackWorkflow
 * runs (their `PromptTokens` / `CompletionTokens` search attributes) summed per day, with their cost
 * when `AppConfig.costs` has prices. Returns data; src/cli/feedback.ts prints it.
 */
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config';
import { fromEpochMillis, localDate } from '../domain/datetime';
import { CompletionTokensSearchAttribute, PromptTokensSearchAttribute } from '../domain/workflow';
import { listQuery } from './operations';

/** One run's tokens: 0 and 0 for a run that has not reached vLLM yet (or expired before it). */
export interface RunTokens {
  startTime: Date;
  promptTokens: number;
  completionTokens: number;
}

export interface TokenCounts {
  runs: number;
  promptTokens: number;
  completionTokens: number;
  /** prompt/1e6 × promptPerMillion + completion/1e6 × completionPerMillion; only when a price is set. */
  cost?: number;
}

export interface TokenDayRow extends TokenCounts {
  /** The calendar day the runs started on, in Korea time: `YYYY-MM-DD`. */
  day: string;
}

export interface TokenTotals {
  /** One row per day with runs, oldest first. */
  days: TokenDayRow[];
  total: TokenCounts;
  /** The currency of `cost`; only when a price is set. */
  currency?: string;
}

/**
 * Sums runs' tokens per calendar day in Korea time (the service is Korean and the weekly batches run
 * on KST days). Pure.
 */
export function tokenTotalsByDay(runs: readonly RunTokens[], costs: AppConfig['costs']): TokenTotals {
  const priced = costs.promptPerMillion > 0 || costs.completionPerMillion > 0;
  const withCost = (sum: TokenCounts): TokenCounts =>
    priced
      ? {
          ...sum,
          cost:
            (sum.promptTokens / 1e6) * costs.promptPerMillion +
            (sum.completionTokens / 1e6) * costs.completionPerMillion,
        }
      : sum;

  const byDay = new Map<string, TokenCounts>();
  for (const run of runs) {
    const day = localDate(fromEpochMillis(run.startTime.getTime()));
    const sum = byDay.get(day) ?? { runs: 0, promptTokens: 0, completionTokens: 0 };
    sum.runs += 1;
    sum.promptTokens += run.promptTokens;
    sum.completionTokens += run.completionTokens;
    byDay.set(day, sum);
  }
  const days = [...byDay.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([day, sum]) => ({ day, ...withCost(sum) }));
  const total = withCost(
    days.reduce(
      (acc, d) => ({
        runs: acc.runs + d.runs,
        promptTokens: acc.promptTokens + d.promptTokens,
        completionTokens: acc.completionTokens + d.completionTokens,
      }),
      { runs: 0, promptTokens: 0, completionTokens: 0 },
    ),
  );
  return { days, total, ...(priced ? { currency: costs.currency } : {}) };
}

export interface TokenUsageFilter {
  /** Only runs started at or after this time. */
  since: Date;
  memberId?: number;
}

/** The tokens of the FeedbackWorkflow runs started since `since` (of one member, if given), per day. */
export async function listTokenUsage(
  client: Client,
  config: AppConfig,
  options: TokenUsageFilter,
): Promise<TokenTotals> {
  const runs: RunTokens[] = [];
  for await (const run of client.workflow.list({ query: listQuery(options) })) {
    runs.push({
      startTime: run.startTime,
      promptTokens: run.typedSearchAttributes.get(PromptTokensSearchAttribute) ?? 0,
      completionTokens: run.typedSearchAttributes.get(CompletionTokensSearchAttribute) ?? 0,
    });
  }
  return tokenTotalsByDay(runs, config.costs);
}
