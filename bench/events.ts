/**
 * Events per run: what one workflow run costs the Temporal server, counted from its history (the proto
 * JSON of `temporal workflow show --output json`, of the SDK's `historyToJSON` and of test/histories).
 * History events by kind, and the writes of the run's visibility record: one at its start, one per
 * workflow task that upserts search attributes or is the run's first (the server records the
 * `BuildIds` search attribute when a run's first workflow task completes, in the same write as that
 * task's upserts), and one at its close. This model matches the PostgreSQL engine's row counters
 * (`pg_stat_user_tables` on `executions_visibility`: one insert, then updates) for the raw no-op run
 * (3) and FeedbackWorkflow (4), docs/benchmarks.md › Events per run.
 *
 *   npx tsx bench/events.ts <history.json> ...   one line of counts per file
 *
 * docs/benchmarks.md › Events per run has the counts of FeedbackWorkflow against the raw ceiling's.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

export interface EventCounts {
  /** Every history event. */
  events: number;
  /** Workflow tasks completed (each is scheduled, started and completed: 3 events). */
  workflowTasks: number;
  /** Activity tasks scheduled (each scheduled, started and closed: 3 events). */
  activities: number;
  upserts: number;
  markers: number;
  timers: number;
  /**
   * Start + the workflow tasks that upsert or are the first (BuildIds) + close (a run still open has
   * no close yet).
   */
  visibilityWrites: number;
  /** Every event type that occurs, by count (e.g. WORKFLOW_TASK_COMPLETED: 3). */
  byType: Record<string, number>;
}

const CLOSE_TYPES = new Set([
  'WORKFLOW_EXECUTION_COMPLETED',
  'WORKFLOW_EXECUTION_FAILED',
  'WORKFLOW_EXECUTION_TIMED_OUT',
  'WORKFLOW_EXECUTION_CANCELED',
  'WORKFLOW_EXECUTION_TERMINATED',
  'WORKFLOW_EXECUTION_CONTINUED_AS_NEW',
]);

/**
 * An event type as UPPER_SNAKE without the prefix, from any of its spellings: `EVENT_TYPE_TIMER_FIRED`
 * (proto JSON), `TimerFired` (older CLIs), or the enum's number is not supported (no JSON writes it).
 */
export function eventTypeName(type: unknown): string {
  if (typeof type !== 'string' || type === '') throw new Error(`not an event type: ${JSON.stringify(type)}`);
  if (type.startsWith('EVENT_TYPE_')) return type.slice('EVENT_TYPE_'.length);
  if (/^[A-Z0-9_]+$/.test(type)) return type;
  return type.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Counts the events of a history: `{ events: [{ eventType }, ...] }`, in history order. */
export function countEvents(history: unknown): EventCounts {
  const events = (history as { events?: unknown }).events;
  if (!Array.isArray(events)) throw new Error('not a history: no events array');
  const byType: Record<string, number> = {};
  // The workflow tasks (their number) whose completion writes the visibility record: the first, and
  // each whose commands upsert (a command's event follows its task's WorkflowTaskCompleted).
  const writingTasks = new Set<number>();
  let task = 0;
  for (const event of events as Array<{ eventType?: unknown }>) {
    const name = eventTypeName(event.eventType);
    byType[name] = (byType[name] ?? 0) + 1;
    if (name === 'WORKFLOW_TASK_COMPLETED' && ++task === 1) writingTasks.add(task);
    if (name === 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES') writingTasks.add(task);
  }
  const n = (type: string) => byType[type] ?? 0;
  const upserts = n('UPSERT_WORKFLOW_SEARCH_ATTRIBUTES');
  const closed = Object.keys(byType).some((type) => CLOSE_TYPES.has(type));
  return {
    events: events.length,
    workflowTasks: n('WORKFLOW_TASK_COMPLETED'),
    activities: n('ACTIVITY_TASK_SCHEDULED'),
    upserts,
    markers: n('MARKER_RECORDED'),
    timers: n('TIMER_STARTED'),
    visibilityWrites: n('WORKFLOW_EXECUTION_STARTED') + writingTasks.size + (closed ? 1 : 0),
    byType,
  };
}

/** One line: `name: 19 events = 3 workflow tasks, 2 activities, 2 upserts, …; 4 visibility writes`. */
export function formatCounts(name: string, c: EventCounts): string {
  return (
    `${name}: ${c.events} events = ${c.workflowTasks} workflow tasks, ${c.activities} activities, ` +
    `${c.upserts} upserts, ${c.markers} markers, ${c.timers} timers; ${c.visibilityWrites} visibility writes`
  );
}

if (require.main === module) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    process.stderr.write('usage: npx tsx bench/events.ts <history.json> ...\n');
    process.exit(2);
  }
  for (const file of files) {
    const counts = countEvents(JSON.parse(readFileSync(file, 'utf8')));
    process.stdout.write(`${formatCounts(basename(file, '.json'), counts)}\n`);
  }
}
