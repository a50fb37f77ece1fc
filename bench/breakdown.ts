/**
 * Where ours' orchestration overhead goes, from the workflow histories of a run (event times are the
 * Temporal server's clock, the same machine's as the harness's). For each request:
 *
 *   queue + bridge       send → WorkflowExecutionStarted (SQS, the bridge's receive and start call)
 *   task dispatch        Σ workflow task scheduled → started, and activity scheduled → started
 *   workflow tasks       Σ workflow task started → completed (worker; includes the local activities)
 *   vLLM call overhead   generate activity started → completed, minus the simulator's time
 *   callback             deliver activity started → callback accepted by the harness
 *
 * The stages cover the request up to the callback; they add up to about the overhead.
 */
import { Client, Connection } from '@temporalio/client';
import { percentile } from '../harness/util';

export interface BreakdownInput {
  workflowId: string;
  sentAt: number;
  deliveredAt: number;
  simulatorMs: number;
}

export type Stage = 'queueAndBridge' | 'taskDispatch' | 'workflowTasks' | 'vllmCallOverhead' | 'callback';

export interface OverheadBreakdown {
  workflows: number;
  /** p50 and p99 per stage, in ms. */
  stages: Record<Stage, { p50?: number; p99?: number }>;
}

interface HistoryEvent {
  eventTime?: { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null;
  workflowExecutionStartedEventAttributes?: unknown;
  workflowTaskScheduledEventAttributes?: unknown;
  workflowTaskStartedEventAttributes?: unknown;
  workflowTaskCompletedEventAttributes?: unknown;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  activityTaskStartedEventAttributes?: { scheduledEventId?: number | { toNumber(): number } | null } | null;
  activityTaskCompletedEventAttributes?: { scheduledEventId?: number | { toNumber(): number } | null } | null;
  eventId?: number | { toNumber(): number } | null;
}

const toNumber = (v: number | { toNumber(): number } | null | undefined) =>
  v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber();
const timeOf = (e: HistoryEvent) => toNumber(e.eventTime?.seconds) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;

export async function overheadBreakdown(
  address: string,
  inputs: BreakdownInput[],
): Promise<OverheadBreakdown> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const samples: Record<Stage, number[]> = {
    queueAndBridge: [],
    taskDispatch: [],
    workflowTasks: [],
    vllmCallOverhead: [],
    callback: [],
  };
  let workflows = 0;
  try {
    for (const input of inputs) {
      const history = await client.workflow.getHandle(input.workflowId).fetchHistory();
      const events = (history.events ?? []) as HistoryEvent[];
      const started = events.find((e) => e.workflowExecutionStartedEventAttributes);
      if (!started) continue;
      const activities = new Map<
        number,
        { name: string; scheduled: number; started?: number; completed?: number }
      >();
      for (const e of events) {
        const t = timeOf(e);
        if (e.activityTaskScheduledEventAttributes) {
          activities.set(toNumber(e.eventId), {
            name: e.activityTaskScheduledEventAttributes.activityType?.name ?? '',
            scheduled: t,
          });
        } else if (e.activityTaskStartedEventAttributes) {
          const a = activities.get(toNumber(e.activityTaskStartedEventAttributes.scheduledEventId));
          if (a) a.started = t;
        } else if (e.activityTaskCompletedEventAttributes) {
          const a = activities.get(toNumber(e.activityTaskCompletedEventAttributes.scheduledEventId));
          if (a) a.completed = t;
        }
      }
      const generate = [...activities.values()].find((a) => a.name === 'generateCheckedFeedback');
      const deliver = [...activities.values()].find((a) => a.name === 'deliverResult');
      if (!generate?.started || !generate.completed || !deliver?.started) continue;
      // Only what happened before the callback counts (the last workflow task comes after it).
      const wftBeforeDelivery = events.filter((e) => timeOf(e) <= deliver.scheduled);
      const tasksBefore = sumWorkflowTasks(wftBeforeDelivery);
      workflows += 1;
      samples.queueAndBridge.push(timeOf(started) - input.sentAt);
      samples.taskDispatch.push(
        tasksBefore.dispatch +
          (generate.started - generate.scheduled) +
          (deliver.started - deliver.scheduled),
      );
      samples.workflowTasks.push(tasksBefore.processing);
      samples.vllmCallOverhead.push(generate.completed - generate.started - input.simulatorMs);
      samples.callback.push(input.deliveredAt - deliver.started);
    }
  } finally {
    await connection.close();
  }
  const stages = Object.fromEntries(
    Object.entries(samples).map(([stage, values]) => [
      stage,
      { p50: percentile(values, 0.5), p99: percentile(values, 0.99) },
    ]),
  ) as OverheadBreakdown['stages'];
  return { workflows, stages };
}

function sumWorkflowTasks(events: HistoryEvent[]): { dispatch: number; processing: number } {
  let dispatch = 0;
  let processing = 0;
  let scheduled: number | undefined;
  let started: number | undefined;
  for (const e of events) {
    const t = timeOf(e);
    if (e.workflowTaskScheduledEventAttributes) scheduled = t;
    else if (e.workflowTaskStartedEventAttributes) {
      if (scheduled !== undefined) dispatch += t - scheduled;
      started = t;
    } else if (e.workflowTaskCompletedEventAttributes && started !== undefined) processing += t - started;
  }
  return { dispatch, processing };
}
