/**
 * Admission of bulk runs: the BE puts its members' requests on the queue whenever they ask, and a
 * busy hour (or a backlog after an outage) can put thousands there at once. Each started run costs
 * the Temporal server work (history, tasks, visibility) whether or not vLLM can take it yet, and a
 * start storm delays every run on the server, interactive ones included (task priority orders tasks
 * in matching, not the server's work of creating runs). So the bridge starts a queue (bulk) request
 * only while fewer than `maxOpen` of them are open; the rest stay in SQS, where the BE's single FIFO
 * group keeps them in order (the batch in hand stays invisible meanwhile, and its receive count does
 * not grow). Requests from the HTTP API are always admitted.
 *
 * The count is the Temporal visibility count of open queue runs, shared by every bridge; runs admitted
 * since the last read are added to it. Between reads that sum only overstates this bridge's share (runs
 * close, none open behind its back but other bridges' runs), so a read is needed only to admit more:
 * the count is read when the sum reaches the bound, at most once per `refreshMs`, and otherwise once
 * it is `staleMs` old. A count is a visibility query the server pays for on every read, so the bridge
 * asks only when it has to. With several bridges each may admit up to the headroom of its last read
 * before it reads again; the bound is a guard against start storms, not a quota.
 */
import type { Client } from '@temporalio/client';
import {
  FEEDBACK_WORKFLOW_TYPE,
  FeedbackSourceSearchAttribute,
  FeedbackStageSearchAttribute,
} from '../domain/workflow';

export interface QueueAdmissionOptions {
  maxOpen: number;
  /** Open runs of queue (bulk) requests. */
  countOpen: () => Promise<number>;
  /** Least time between two reads while the bound is reached (default 2 s). */
  refreshMs?: number;
  /** Age at which the count is read again below the bound (default 30 s). */
  staleMs?: number;
}

export class QueueAdmission {
  private open = 0;
  private admitted = 0;
  private readAt = -Infinity;
  private reading?: Promise<void>;

  constructor(private readonly options: QueueAdmissionOptions) {}

  /** Resolves when one more bulk run may start; rejects with the signal's reason when it aborts. */
  async admit(signal: AbortSignal): Promise<void> {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      await this.refresh();
      if (this.open + this.admitted < this.options.maxOpen) {
        this.admitted += 1;
        return;
      }
      await pause(this.refreshMs, signal);
    }
  }

  private get refreshMs(): number {
    return this.options.refreshMs ?? 2000;
  }

  /** How old the last count may be before the next admission reads it again. */
  private get maxAgeMs(): number {
    const full = this.open + this.admitted >= this.options.maxOpen;
    return full ? this.refreshMs : Math.max(this.refreshMs, this.options.staleMs ?? 30_000);
  }

  private async refresh(): Promise<void> {
    if (Date.now() - this.readAt < this.maxAgeMs) return;
    this.reading ??= this.options
      .countOpen()
      .then((open) => {
        this.open = open;
        this.admitted = 0;
        this.readAt = Date.now();
      })
      .finally(() => {
        this.reading = undefined;
      });
    await this.reading;
  }
}

/** Visibility query of the running FeedbackWorkflow runs that also meet `condition`. */
export function runningFeedbackRuns(condition: string): string {
  return `WorkflowType = '${FEEDBACK_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND ${condition}`;
}

/** Counts the runs a visibility query selects, each time it is called. */
export function runCounter(client: Pick<Client, 'workflow'>, query: string): () => Promise<number> {
  return async () => (await client.workflow.count(query)).count;
}

/**
 * The open runs of bulk (queue) requests, except those holding a failure result: they wait only for
 * a timer, never for vLLM.
 */
export const OPEN_QUEUE_RUNS_QUERY = runningFeedbackRuns(
  `${FeedbackSourceSearchAttribute.name} = 'queue' AND ${FeedbackStageSearchAttribute.name} != 'holding'`,
);

export function openQueueRunsCounter(client: Client): () => Promise<number> {
  return runCounter(client, OPEN_QUEUE_RUNS_QUERY);
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // An abort while the count was being read has already fired: no event will come.
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
