/**
 * Slow tier (real minutes: SQS's 5-minute deduplication window, which ElasticMQ keeps as SQS does).
 * One queue message is one request, against the real local stack (Temporal dev server, ElasticMQ, the
 * vLLM simulator, the BE double consuming the result queue as the BE does). Two scenarios side by side,
 * so that the window is waited once:
 *
 * - the BE's re-publish after a recoverable failure ("500", held until 5 min 30 s after the send)
 *   is not dropped by SQS deduplication and starts a new run that delivers;
 * - an identical body sent as a new message more than 5 minutes later (the BE's next week) starts a
 *   new run that delivers.
 *
 * The redelivery of one message (seconds) is in the fast tier: be-identity.test.ts.
 */
import { OPEN_QUEUE_RUNS_QUERY } from '../../src/sqs-bridge/admission';
import { lookupFeedbackStatus } from '../../src/run/status';
import { eventually } from '../support/eventually';
import { beBody, runsOf, startPipeline, type Pipeline } from '../support/pipeline';

const MINUTE = 60_000;
/** ElasticMQ's (and SQS's) deduplication window. */
const DEDUP_WINDOW_MS = 5 * MINUTE;
const STATUS_CODE = /^[45]\d\d$/;

jest.setTimeout(12 * MINUTE);

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await startPipeline('be-identity-slow', 'queue', { beSubscriber: true });
}, 120_000);
afterAll(async () => {
  await pipeline?.stop();
});

/** A member id of its own per run: the test stack's Temporal keeps the runs of earlier runs. */
const memberBase = 7_000_000 + Math.floor(Math.random() * 900_000) * 10;

async function republishAfterFailure(memberId: number): Promise<void> {
  const be = pipeline.receiver;
  // vLLM refuses this member's first generation for good (a 400): the BE gets "500" and re-requests.
  pipeline.simulator.setFaults([{ kind: 'error400', count: 1 }]);
  const first = await be.publish(beBody(memberId, '대중교통 이용하기'));
  const requestId = `${memberId}-${first.messageId}`;
  const held = await eventually(
    () => lookupFeedbackStatus(pipeline.temporal, requestId, { temporal: pipeline.config.temporal }),
    (view) => view?.stage === 'holding',
  );
  expect(held).toMatchObject({ stage: 'holding', content: '500' });
  // Sent no earlier than 5 min 30 s after the message: the BE's re-publish would be dropped before.
  expect(Date.parse(held?.holdUntil ?? '')).toBeGreaterThanOrEqual(first.at + 330_000 - 1000);
  // A held run waits for no vLLM: the bridge's admission bound does not count it.
  const counted = await eventually(
    async () =>
      (await pipeline.temporal.workflow.count(`${OPEN_QUEUE_RUNS_QUERY} AND MemberId = ${memberId}`)).count,
    (count) => count === 0,
  );
  expect(counted).toBe(0);

  const feedback = await be.waitFor(
    () => be.feedbacks().find((f) => f.memberId === memberId),
    8 * MINUTE,
    `member ${memberId}'s feedback after the re-publish`,
  );
  expect(feedback.content).not.toMatch(STATUS_CODE);
  expect(be.republishes().filter((r) => r.memberId === memberId)).toEqual([
    expect.objectContaining({
      content: '500',
      sent: true,
      body: first.body,
      deduplicationId: first.deduplicationId,
    }),
  ]);
  const runs = await eventually(
    () => runsOf(pipeline.temporal, memberId),
    (r) => r.length === 2 && r.every((run) => run.status !== 'RUNNING'),
  );
  expect(runs.map((r) => r.status).sort()).toEqual(['COMPLETED', 'FAILED']);
  expect(runs.map((r) => r.workflowId)).toContain(`feedback-${requestId}`);
}

async function sameBodyAfterTheWindow(memberId: number): Promise<void> {
  const be = pipeline.receiver;
  const text = beBody(memberId, '분리수거 하기');
  const first = await be.publish(text);
  const weekOne = be.week();
  await be.waitFor(() => be.feedback(memberId, weekOne), 2 * MINUTE, `member ${memberId}'s first week`);

  // The BE's next week, after ElasticMQ's deduplication window (the same body, the same dedup id).
  // A real wait and the behaviour under test: only the window's passing lets the same id through.
  const wait = first.at + DEDUP_WINDOW_MS + 10_000 - be.now();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  be.advance(7 * 24 * 60 * MINUTE);
  const weekTwo = be.week();
  const second = await be.publish(text);
  expect(second.deduplicationId).toBe(first.deduplicationId);
  expect(second.messageId).not.toBe(first.messageId);
  await be.waitFor(() => be.feedback(memberId, weekTwo), 2 * MINUTE, `member ${memberId}'s second week`);
  const runs = await eventually(
    () => runsOf(pipeline.temporal, memberId),
    (r) => r.length === 2,
  );
  expect(runs.map((r) => r.workflowId).sort()).toEqual(
    [`feedback-${memberId}-${first.messageId}`, `feedback-${memberId}-${second.messageId}`].sort(),
  );
  expect(
    be
      .feedbacks()
      .filter((f) => f.memberId === memberId)
      .map((f) => f.week),
  ).toEqual([weekOne, weekTwo]);
}

describe('one queue message is one request (real minutes: ElasticMQ deduplication window)', () => {
  it('answers the re-publish after a failure and the same body a week later', async () => {
    // The failure first: the simulator's one fault must meet this member's generation.
    const failing = republishAfterFailure(memberBase + 2);
    await eventually(
      async () => pipeline.simulator.stats().faultsInjected,
      (faults) => Object.values(faults).some((n) => n > 0),
    );
    await Promise.all([failing, sameBodyAfterTheWindow(memberBase + 3)]);
    // Nothing the BE stored is a status code.
    for (const f of pipeline.receiver.feedbacks()) expect(f.content).not.toMatch(STATUS_CODE);
  });
});
