/**
 * Admission of bulk runs: the BE's weekly batch puts thousands of requests on the queue at once. Each
 * started run costs the Temporal server work (history, tasks, visibility) whether or not vLLM can take
 * it yet, and a start storm delays every run on the server, interactive ones included (task priority
 * orders tasks in matching, not the server's work of creating runs). So the bridge starts a queue
 * (bulk) request only while fewer than `maxOpen` of them are open; the rest stay in SQS, where the
 * BE's single FIFO group keeps them in order (the batch in hand stays invisible meanwhile, and its
 * receive count does not grow). Requests from the HTTP API are always admitted.
 *
 * The count is the Temporal visibility count of open queue runs, shared by every bridge, read at most
 * once per `refreshMs`; runs admitted since the last read are added to it.
 */
import type { Client } from '@temporalio/client';
import { FEEDBACK_WORKFLOW_TYPE, FeedbackSourceSearchAttribute } from '../domain/workflow';

export interface QueueAdmissionOptions {
  maxOpen: number;
  /** Open runs of queue (bulk) requests. */
  countOpen: () => Promise<number>;
  refreshMs?: number;
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
    return this.options.refreshMs ?? 1000;
  }

  private async refresh(): Promise<void> {
    if (Date.now() - this.readAt < this.refreshMs) return;
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

/** Counts the open FeedbackWorkflow runs of bulk (queue) requests with Temporal's visibility. */
export function openQueueRunsCounter(client: Client): () => Promise<number> {
  const query =
    `WorkflowType = '${FEEDBACK_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' ` +
    `AND ${FeedbackSourceSearchAttribute.name} = 'queue'`;
  return async () => (await client.workflow.count(query)).count;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
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
