import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { countEvents, eventTypeName, formatCounts } from '../../bench/events';

const read = (...path: string[]) =>
  JSON.parse(readFileSync(join(__dirname, '..', ...path), 'utf8')) as unknown;

describe('bench/events (events and visibility writes per run)', () => {
  it('reads every spelling of an event type', () => {
    expect(eventTypeName('EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES')).toBe(
      'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
    );
    expect(eventTypeName('WorkflowTaskCompleted')).toBe('WORKFLOW_TASK_COMPLETED');
    expect(eventTypeName('TIMER_FIRED')).toBe('TIMER_FIRED');
    expect(() => eventTypeName(7)).toThrow(/not an event type/);
  });

  it('counts a visibility write at start, per workflow task that is the first or upserts, and at close', () => {
    const events = (...types: string[]) => ({ events: types.map((eventType) => ({ eventType })) });
    const task = ['WorkflowTaskScheduled', 'WorkflowTaskStarted', 'WorkflowTaskCompleted'];
    // The first task's upsert shares the write of its BuildIds; the second task's upserts share one.
    const open = countEvents(
      events(
        'WorkflowExecutionStarted',
        ...task,
        'UpsertWorkflowSearchAttributes',
        'MarkerRecorded',
        ...task,
        'UpsertWorkflowSearchAttributes',
        'UpsertWorkflowSearchAttributes',
        'TimerStarted',
      ),
    );
    expect(open).toMatchObject({ events: 12, workflowTasks: 2, upserts: 3, markers: 1, timers: 1 });
    expect(open.visibilityWrites).toBe(3);
    // A task that does not upsert writes nothing, unless it is the first.
    const closed = countEvents(
      events('WorkflowExecutionStarted', ...task, ...task, 'WorkflowExecutionFailed'),
    );
    expect(closed.visibilityWrites).toBe(3);
    expect(countEvents(events('WorkflowExecutionStarted')).visibilityWrites).toBe(1);
    expect(() => countEvents({})).toThrow(/no events/);
  });

  it("counts the raw ceiling's run (recorded on the dev server): 4 workflow tasks, 3 activities, no upsert", () => {
    const raw = countEvents(read('fixtures', 'events', 'raw-noop.json'));
    expect(raw).toMatchObject({
      events: 23,
      workflowTasks: 4,
      activities: 3,
      upserts: 0,
      // Measured on the PostgreSQL engine: an insert, the first task's BuildIds, the close.
      visibilityWrites: 3,
    });
    expect(formatCounts('raw', raw)).toBe(
      'raw: 23 events = 4 workflow tasks, 3 activities, 0 upserts, 0 markers, 0 timers; 3 visibility writes',
    );
  });

  it('counts a successful FeedbackWorkflow run (test/histories/success.json)', () => {
    const ours = countEvents(read('histories', 'success.json'));
    expect(ours).toMatchObject({
      events: 19,
      workflowTasks: 3,
      activities: 2,
      upserts: 2,
      markers: 0,
      timers: 0,
    });
    // Measured on the PostgreSQL engine: an insert, `generating` with BuildIds, `delivering`, the close.
    expect(ours.visibilityWrites).toBe(4);
  });
});
