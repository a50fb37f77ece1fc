/**
 * Re-sending a window's results after the BE lost them (`feedback redeliver --since`): which results
 * are safe to send again (pure), and RedeliverWindowWorkflow's name and input. Safe to import from
 * workflow code.
 */
import { beWeek, nextWeekTurn } from './be-week';
import type { DeliveryChannel, DeliveryPolicy } from './policy';
import type { FeedbackResult } from './result';

export const REDELIVER_WINDOW_WORKFLOW_TYPE = 'RedeliverWindowWorkflow';

/** A status code the BE reads as a recoverable failure (it re-requests; never re-sent). */
const STATUS_CODE = /^[45]\d\d$/;

/** A FeedbackWorkflow run that closed in the window, with what its result was. */
export interface WindowRun {
  requestId: string;
  memberId: number;
  /** Temporal's status name (`COMPLETED`, `FAILED`, …). */
  status: string;
  startedAt: number;
  closedAt: number;
  /** The result a completed run delivered, and where to. */
  content?: string;
  deliveredTo?: DeliveryChannel[];
}

export type WindowSkipReason = 'not-feedback' | 'later-result' | 'week-turned' | 'not-on-queue';

export interface WindowSkip {
  requestId: string;
  memberId: number;
  reason: WindowSkipReason;
  detail: string;
}

export interface WindowSelection {
  /** Each member's latest real feedback of the window, to re-send before `notAfter`. */
  send: Array<WindowRun & { content: string; notAfter: number }>;
  skipped: WindowSkip[];
}

/**
 * Which of the window's results may go to the BE again. Only:
 * - real feedback: a completed run whose content is not a status code (a code makes the BE re-request;
 *   a failed run's is not re-sent, `feedback retry` runs it again);
 * - for members with no later result: no run of the member started after it (its result, or the one it
 *   will send, is the member's latest; an older one would take its place or be refused);
 * - whose BE week has not turned since the run closed: received now the BE would file it under the new
 *   week and then refuse the member's real feedback of that week. `notAfter` is that turn: the
 *   workflow checks it again before each send;
 * - that went to the result queue: only the queue's redrive drops results; a callback was answered.
 *
 * `latestStart` is, per member, the latest start of any of its runs (any status, also after the window).
 */
export function selectWindowResults(
  runs: readonly WindowRun[],
  latestStart: ReadonlyMap<number, number>,
  now: number,
  timeZone: string,
): WindowSelection {
  const send: WindowSelection['send'] = [];
  const skipped: WindowSkip[] = [];
  const skip = (run: WindowRun, reason: WindowSkipReason, detail: string) =>
    skipped.push({ requestId: run.requestId, memberId: run.memberId, reason, detail });
  const nowWeek = beWeek(now, timeZone);
  for (const run of [...runs].sort((a, b) => a.startedAt - b.startedAt)) {
    if (run.status !== 'COMPLETED' || run.content === undefined) {
      skip(
        run,
        'not-feedback',
        `run ${run.status.toLowerCase()}: no feedback to send (feedback retry runs it again)`,
      );
    } else if (STATUS_CODE.test(run.content)) {
      skip(run, 'not-feedback', `its result was the status code "${run.content}"`);
    } else if ((latestStart.get(run.memberId) ?? run.startedAt) > run.startedAt) {
      skip(run, 'later-result', `member ${run.memberId} has a later run`);
    } else if (beWeek(run.closedAt, timeZone) !== nowWeek) {
      skip(
        run,
        'week-turned',
        `delivered in the BE week of ${beWeek(run.closedAt, timeZone)}; it is now the week of ${nowWeek} (${timeZone})`,
      );
    } else if (!(run.deliveredTo ?? []).includes('queue')) {
      skip(
        run,
        'not-on-queue',
        `delivered by ${(run.deliveredTo ?? []).join(' + ') || 'nothing'}, which the BE answered`,
      );
    } else {
      send.push({ ...run, content: run.content, notAfter: nextWeekTurn(run.closedAt, timeZone) });
    }
  }
  return { send, skipped };
}

export interface RedeliverWindowItem {
  result: FeedbackResult;
  /** Deduplication id of the result-queue message (a new one: the first delivery's was used). */
  deduplicationId: string;
  /** Not sent at or after this time (canonical ISO): the BE's next week turn after the first delivery. */
  notAfter: string;
}

export interface RedeliverWindowInput {
  items: RedeliverWindowItem[];
  policy: DeliveryPolicy;
  /** Seconds between reads of the result queue's depth while waiting for it to drain. */
  drainCheckSeconds: number;
}

export interface RedeliverWindowOutcome {
  /** Request ids re-sent to the result queue. */
  delivered: string[];
  /** Request ids not sent because the BE's week turned while waiting. */
  weekTurned: string[];
  /** Request ids whose send failed for good (the delivery's give-up time, or the week turn, came). */
  failed: Array<{ requestId: string; error: string }>;
}
