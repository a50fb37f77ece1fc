/**
 * `feedback redeliver --since <time> [--until <time>]`: re-sends the results of a window that the BE
 * may have lost (its database down longer than the result queue's redrive lasts: its DLQ consumer
 * deletes what reaches the result DLQ). Only the safe ones (selectWindowResults), durably:
 * RedeliverWindowWorkflow waits for the result queue to drain, then sends them.
 */
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config';
import { DEFAULT_BE_TIME_ZONE } from '../domain/be-week';
import { redeliverWorkflowId, requestIdOf } from '../domain/keys';
import {
  REDELIVER_WINDOW_WORKFLOW_TYPE,
  selectWindowResults,
  type RedeliverWindowInput,
  type RedeliverWindowItem,
  type RedeliverWindowOutcome,
  type WindowRun,
  type WindowSkip,
} from '../domain/redeliver-window';
import { buildFeedbackResult } from '../domain/result';
import { FEEDBACK_WORKFLOW_TYPE, MemberIdSearchAttribute, type FeedbackOutcome } from '../domain/workflow';
import { OperationError, runInput } from './operations';

/** Results per workflow: its input (each result up to FEEDBACK_MAX_CHARS) stays far below Temporal's 2 MB. */
export const WINDOW_CHUNK = 100;

export interface RedeliverWindowOptions {
  since: Date;
  /** Default: now. */
  until?: Date;
  /** Only list what would be sent and skipped. */
  dryRun?: boolean;
  /** Wait for the workflows (default true). */
  wait?: boolean;
  /** Seconds between reads of the result queue while waiting for it to drain (default 30). */
  drainCheckSeconds?: number;
  now?: () => number;
}

export interface WindowResultToSend {
  requestId: string;
  memberId: number;
  closedAt: string;
  /** The BE's next week turn after the first delivery: not sent from then on. */
  notAfter: string;
}

export interface RedeliverWindowReport {
  since: string;
  until: string;
  timeZone: string;
  toSend: WindowResultToSend[];
  skipped: WindowSkip[];
  /** The RedeliverWindowWorkflow ids started (none for a dry run or nothing to send). */
  workflowIds: string[];
  /** Their outcomes, merged, when waited for. */
  outcome?: RedeliverWindowOutcome;
}

/** Every FeedbackWorkflow run matching `query`, with its member. */
async function listRuns(client: Client, query: string) {
  const runs = [];
  for await (const run of client.workflow.list({ query, pageSize: 100 })) {
    const memberId = run.typedSearchAttributes.get(MemberIdSearchAttribute);
    const requestId = requestIdOf(run.workflowId);
    if (memberId === undefined || requestId === undefined) continue;
    runs.push({ run, memberId, requestId });
  }
  return runs;
}

export async function redeliverWindow(
  client: Client,
  config: AppConfig,
  options: RedeliverWindowOptions,
): Promise<RedeliverWindowReport> {
  const now = (options.now ?? Date.now)();
  const until = options.until ?? new Date(now);
  if (!(options.since < until)) throw new OperationError('--since must be before --until', 'refused');
  if (config.policy.deliveryMode === 'callback' || !config.sqs.resultQueueUrl) {
    throw new OperationError(
      'only the result queue loses results (its redrive to the result DLQ, which the BE deletes); ' +
        `DELIVERY_MODE=${config.policy.deliveryMode} with no result queue has none to re-send`,
      'refused',
    );
  }
  const timeZone = config.policy.beTimeZone ?? DEFAULT_BE_TIME_ZONE;
  const closed = await listRuns(
    client,
    `WorkflowType = '${FEEDBACK_WORKFLOW_TYPE}' AND ExecutionStatus != 'Running' AND ` +
      `CloseTime >= '${options.since.toISOString()}' AND CloseTime < '${until.toISOString()}'`,
  );
  const report: RedeliverWindowReport = {
    since: options.since.toISOString(),
    until: until.toISOString(),
    timeZone,
    toSend: [],
    skipped: [],
    workflowIds: [],
  };
  if (closed.length === 0) return report;

  // Every run of those members since the earliest of them, whatever its status: who has a later one.
  const earliest = Math.min(...closed.map((c) => c.run.startTime.getTime()));
  const members = new Set(closed.map((c) => c.memberId));
  const latestStart = new Map<number, number>();
  for (const { run, memberId } of await listRuns(
    client,
    `WorkflowType = '${FEEDBACK_WORKFLOW_TYPE}' AND StartTime >= '${new Date(earliest).toISOString()}'`,
  )) {
    if (!members.has(memberId)) continue;
    latestStart.set(memberId, Math.max(latestStart.get(memberId) ?? 0, run.startTime.getTime()));
  }

  const windowRuns: WindowRun[] = [];
  const runIds = new Map<string, string>();
  for (const { run, memberId, requestId } of closed) {
    runIds.set(requestId, run.runId);
    const windowRun: WindowRun = {
      requestId,
      memberId,
      status: run.status.name,
      startedAt: run.startTime.getTime(),
      closedAt: (run.closeTime ?? run.startTime).getTime(),
    };
    if (run.status.name === 'COMPLETED') {
      const outcome = (await client.workflow
        .getHandle(run.workflowId, run.runId)
        .result()) as FeedbackOutcome;
      windowRun.content = outcome.content;
      windowRun.deliveredTo = outcome.deliveredTo;
    }
    windowRuns.push(windowRun);
  }
  const selection = selectWindowResults(windowRuns, latestStart, now, timeZone);
  report.skipped = selection.skipped;
  report.toSend = selection.send.map((s) => ({
    requestId: s.requestId,
    memberId: s.memberId,
    closedAt: new Date(s.closedAt).toISOString(),
    notAfter: new Date(s.notAfter).toISOString(),
  }));
  if (options.dryRun || selection.send.length === 0) return report;

  const items: RedeliverWindowItem[] = [];
  for (const s of selection.send) {
    const input = await runInput(client, s.requestId, runIds.get(s.requestId));
    items.push({
      result: buildFeedbackResult({
        requestId: s.requestId,
        memberId: s.memberId,
        requestedAt: input.requestedAt,
        content: s.content,
      }),
      deduplicationId: redeliverWorkflowId(s.requestId, now),
      notAfter: new Date(s.notAfter).toISOString(),
    });
  }
  const handles = [];
  for (let i = 0; i < items.length; i += WINDOW_CHUNK) {
    const input: RedeliverWindowInput = {
      items: items.slice(i, i + WINDOW_CHUNK),
      policy: config.policy,
      drainCheckSeconds: options.drainCheckSeconds ?? 30,
    };
    const workflowId = `redeliver-window-${now}-${i / WINDOW_CHUNK + 1}`;
    handles.push(
      await client.workflow.start(REDELIVER_WINDOW_WORKFLOW_TYPE, {
        taskQueue: config.temporal.taskQueue,
        workflowId,
        args: [input],
      }),
    );
    report.workflowIds.push(workflowId);
  }
  if (options.wait === false) return report;
  const outcome: RedeliverWindowOutcome = { delivered: [], weekTurned: [], failed: [] };
  for (const handle of handles) {
    const one = (await handle.result()) as RedeliverWindowOutcome;
    outcome.delivered.push(...one.delivered);
    outcome.weekTurned.push(...one.weekTurned);
    outcome.failed.push(...one.failed);
  }
  report.outcome = outcome;
  return report;
}
