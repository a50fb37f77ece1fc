/**
 * Events per run: what one workflow run costs the Temporal server, counted from its history (the proto
 * JSON of `temporal workflow show --output json`, of the SDK's `historyToJSON` and of test/histories).
 * History events by kind, and the visibility writes the run causes: its start, each
 * UpsertWorkflowSearchAttributes and its close each write the run's visibility record once.
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
  /** Start + upserts + close (a run still open has no close yet). */
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

/** Counts the events of a history: `{ events: [{ eventType }, ...] }`. */
export function countEvents(history: unknown): EventCounts {
  const events = (history as { events?: unknown }).events;
  if (!Array.isArray(events)) throw new Error('not a history: no events array');
  const byType: Record<string, number> = {};
  for (const event of events) {
    const name = eventTypeName((event as { eventType?: unknown }).eventType);
    byType[name] = (byType[name] ?? 0) + 1;
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
    visibilityWrites: n('WORKFLOW_EXECUTION_STARTED') + upserts + (closed ? 1 : 0),
    byType,
  };
}

/** One line: `name: 18 events = 3 workflow tasks, 2 activities, 1 upserts, …; 3 visibility writes`. */
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
