import { toStatusView, type StatusParts } from '../../src/run/status';

const started = new Date('2026-11-26T01:00:00Z');
const closed = new Date('2026-11-26T01:00:05Z');

function parts(overrides: Partial<StatusParts> & { status: string; stageAttribute?: string }): StatusParts {
  const { status, stageAttribute, ...rest } = overrides;
  return {
    requestId: 'req-1',
    description: {
      runId: 'run-1',
      startTime: started,
      closeTime: status === 'RUNNING' ? undefined : closed,
      memo: { memberId: 42, source: 'api' },
      status,
      stageAttribute,
      pendingActivities: [],
    },
    webUiUrl: 'http://ui/namespaces/default/workflows/feedback-req-1/run-1',
    ...rest,
  };
}

describe('toStatusView', () => {
  it.each(['queued', 'generating', 'holding', 'delivering'] as const)(
    'reports a running run in stage %s from the status query',
    (stage) => {
      const view = toStatusView(parts({ status: 'RUNNING', query: { stage, generations: 1 } }));
      expect(view).toMatchObject({
        requestId: 'req-1',
        workflowId: 'feedback-req-1',
        stage,
        workflowStatus: 'RUNNING',
        attempts: { generations: 1 },
        memberId: 42,
        runId: 'run-1',
        startedAt: started.toISOString(),
        webUiUrl: 'http://ui/namespaces/default/workflows/feedback-req-1/run-1',
      });
      expect(view.closedAt).toBeUndefined();
    },
  );

  it('shows a held run as holding, with the time its failure result goes out', () => {
    const view = toStatusView(
      parts({
        status: 'RUNNING',
        query: { stage: 'holding', generations: 1, content: '500', holdUntil: '2026-11-26T01:05:30.000Z' },
      }),
    );
    expect(view).toMatchObject({ stage: 'holding', content: '500', holdUntil: '2026-11-26T01:05:30.000Z' });
  });

  it('uses the search attribute, the pending attempt and its last failure without a query answer', () => {
    const p = parts({ status: 'RUNNING', stageAttribute: 'generating' });
    p.description.pendingActivities = [
      { activity: 'generateCheckedFeedback', attempt: 3, lastFailure: 'vLLM answered 500: boom' },
    ];
    const view = toStatusView(p);
    expect(view).toMatchObject({
      stage: 'generating',
      attempts: { current: { activity: 'generateCheckedFeedback', attempt: 3 } },
      lastError: 'vLLM answered 500: boom',
    });
    expect(view.attempts.generations).toBeUndefined();
  });

  it('reports a completed run as delivered with its content and generations', () => {
    const view = toStatusView(
      parts({
        status: 'COMPLETED',
        outcome: {
          requestId: 'req-1',
          memberId: 42,
          status: 'success',
          content: '잘했어요 🌱',
          generations: 2,
          deliveredTo: ['callback'],
        },
      }),
    );
    expect(view).toMatchObject({ stage: 'delivered', content: '잘했어요 🌱', attempts: { generations: 2 } });
    expect(view.closedAt).toBe(closed.toISOString());
    expect(view.lastError).toBeUndefined();
  });

  it('reports a generation failure as failed with the "500" the BE was sent', () => {
    const view = toStatusView(
      parts({
        status: 'FAILED',
        failure: {
          message: 'generation failed: vLLM answered 400; the BE was sent content "500"',
          type: 'GenerationFailed',
          details: { reason: 'generation failed: vLLM answered 400', content: '500' },
        },
      }),
    );
    expect(view).toMatchObject({
      stage: 'failed',
      content: '500',
      lastError: 'generation failed: vLLM answered 400; the BE was sent content "500"',
    });
  });

  it('reports an expired request as expired with the "408" the BE was sent', () => {
    const view = toStatusView(
      parts({
        status: 'FAILED',
        failure: {
          message: 'expired: not generated within 60 minutes of …',
          type: 'RequestExpired',
          details: { reason: 'expired: not generated within 60 minutes of …', content: '408' },
        },
      }),
    );
    expect(view).toMatchObject({ stage: 'expired', content: '408' });
    expect(view.lastError).toMatch(/^expired: /);
  });

  it('shows the token totals of the search attributes once generation ended, not the zeros of the start', () => {
    const at = (tokens: { prompt?: number; completion?: number }) => {
      const base = parts({ status: 'COMPLETED' });
      return toStatusView({ ...base, description: { ...base.description, tokens } });
    };
    expect(at({ prompt: 1624, completion: 192 }).tokens).toEqual({ prompt: 1624, completion: 192 });
    expect(at({ prompt: 0, completion: 0 }).tokens).toBeUndefined();
    expect(at({}).tokens).toBeUndefined();
  });

  it('reports a callback-only failure that was not posted as failed without content (expired by its stage)', () => {
    const failure = { message: 'generation failed: …; no result was delivered', type: 'FailureNotDelivered' };
    const failed = toStatusView(parts({ status: 'FAILED', stageAttribute: 'failed', failure }));
    expect(failed).toMatchObject({ stage: 'failed', lastError: failure.message });
    expect(failed.content).toBeUndefined();
    expect(toStatusView(parts({ status: 'FAILED', stageAttribute: 'expired', failure })).stage).toBe(
      'expired',
    );
  });

  it('reports a delivery failure as failed without content', () => {
    const view = toStatusView(
      parts({
        status: 'FAILED',
        failure: { message: 'delivery failed: callback answered 400', type: 'DeliveryFailed' },
      }),
    );
    expect(view.stage).toBe('failed');
    expect(view.content).toBeUndefined();
    expect(view.lastError).toBe('delivery failed: callback answered 400');
  });

  it.each(['TERMINATED', 'CANCELLED', 'TIMED_OUT'])('reports a %s run as failed', (status) => {
    const view = toStatusView(parts({ status }));
    expect(view.stage).toBe('failed');
    expect(view.lastError).toBe(`workflow ${status.toLowerCase().replace('_', ' ')}`);
  });
});
