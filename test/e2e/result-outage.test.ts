/**
 * Results outlive a BE outage (issue 25, items 4 and 5), on the real local stack: with the BE double's
 * database down, every result rides the result queue's redrive (lowered to 3 receives of 1 s) into the
 * result DLQ, whose poller deletes it unlogged: the members' feedback is lost. With the database back,
 * `feedback redeliver --since` waits for the result queue to drain and restores each member's latest
 * real feedback, and skips the status code and the member's older result, saying why. (The week-turn
 * rule needs a week to pass: test/domain/redeliver-window.test.ts and test/workflows cover it.)
 */
import { ExitCodes } from '../../src/cli/feedback';
import type { RedeliverWindowReport } from '../../src/ops/redeliver-window';
import { acceptedRequest } from '../support/accepted';
import { runCliCaptured } from '../support/cli';
import { startPipeline, workflowResult, type Pipeline } from '../support/pipeline';
import { testStack, useLocalAwsCredentials } from '../support/stack';

jest.setTimeout(60_000);

let pipeline: Pipeline;

let restoreCredentials: () => void = () => undefined;

beforeAll(async () => {
  restoreCredentials = useLocalAwsCredentials();
  pipeline = await startPipeline('outage', 'queue', {
    beSubscriber: true,
    collectDeadLetters: false,
    // An outage of hours in seconds: 3 receives, 1 s apart, then the result DLQ.
    queues: { resultMaxReceiveCount: 3, resultVisibilityTimeoutSeconds: 1 },
    beDouble: { subscriber: { waitTimeSeconds: 1 } },
  });
}, 60_000);

afterAll(async () => {
  await pipeline?.stop();
  restoreCredentials();
});

function cliEnv(): NodeJS.ProcessEnv {
  const stack = testStack();
  return {
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: pipeline.taskQueue,
    AWS_ENDPOINT_URL_SQS: stack.sqsEndpoint,
    AWS_SQS_FEEDBACK_QUEUE_URL: pipeline.queues.requestQueueUrl,
    AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: pipeline.queues.resultQueueUrl,
    DELIVERY_MODE: 'queue',
    // The double's zone (its default): the CLI judges the week turn as the BE files.
    BE_TIME_ZONE: pipeline.receiver.timeZone,
    LOG_LEVEL: 'silent',
  };
}

const cli = (...args: string[]) => runCliCaptured(args, cliEnv());

async function post(memberId: number, title: string): Promise<{ requestId: string; workflowId: string }> {
  const response = await fetch(`${pipeline.apiUrl}/ai/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ memberId, personalChallenges: [{ id: 1, title, isSuccess: true }] }),
  });
  return await acceptedRequest(response);
}

const base = 100_000 + Math.floor(Math.random() * 800_000);

it('with the store down past maxReceiveCount the results are lost; redeliver --since restores every member’s feedback and skips the unsafe ones', async () => {
  const [a, b, failing, twice] = [base, base + 1, base + 2, base + 3];
  const since = new Date(Date.now() - 1000);
  const be = pipeline.receiver;
  be.failStoreFor(10 * 60_000);

  // A run whose generation fails for good: the BE gets "500" (lost in the DLQ too, never re-sent).
  pipeline.simulator.setFaults([{ kind: 'error400', count: 1 }]);
  const failed = await post(failing, '대중교통 이용하기');
  await expect(workflowResult(pipeline.temporal, failed.workflowId)).rejects.toThrow();
  const runs = await Promise.all([post(a, '텀블러 사용하기'), post(b, '분리수거 하기')]);
  // Two results for one member: only the later one may be re-sent.
  const older = await post(twice, '계단 이용하기');
  await workflowResult(pipeline.temporal, older.workflowId);
  const latest = await post(twice, '장바구니 사용하기');
  for (const run of [...runs, latest]) await workflowResult(pipeline.temporal, run.workflowId);

  // Every result reaches the DLQ and is deleted there unlogged; nothing was stored.
  const ours = new Set([a, b, failing, twice]);
  const lost = () =>
    be.dlqFailures().filter((f) => ours.has((JSON.parse(f.body) as { memberId: number }).memberId));
  await be.waitFor(
    () => lost().length === 5,
    30_000,
    () => `5 results in the result DLQ (have ${lost().length})`,
  );
  expect(lost().every((f) => f.logged === false)).toBe(true);
  expect(be.feedbacks().filter((f) => ours.has(f.memberId))).toEqual([]);

  // The database is back; visibility lists every closed run of ours before the CLI decides.
  be.failStoreFor(0);
  const until = new Date(Date.now() + 1000);
  const window = ['--since', since.toISOString(), '--until', until.toISOString()];
  const mine = (report: RedeliverWindowReport) => ({
    toSend: report.toSend.filter((r) => ours.has(r.memberId)),
    skipped: report.skipped.filter((s) => ours.has(s.memberId)),
  });
  let dry: RedeliverWindowReport | undefined;
  for (let i = 0; i < 50; i++) {
    const shown = await cli('redeliver', ...window, '--dry-run', '--json');
    expect(shown.code).toBe(ExitCodes.ok);
    dry = JSON.parse(shown.out) as RedeliverWindowReport;
    if (mine(dry).toSend.length + mine(dry).skipped.length === 5) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(
    dry &&
      mine(dry)
        .toSend.map((r) => r.memberId)
        .sort((x, y) => x - y),
  ).toEqual([a, b, twice]);

  const done = await cli('redeliver', ...window, '--drain-check', '1', '--json');
  expect({ code: done.code, err: done.err }).toEqual({ code: ExitCodes.ok, err: '' });
  const report = JSON.parse(done.out) as RedeliverWindowReport;
  const { toSend, skipped } = mine(report);
  expect(toSend.map((r) => r.requestId).sort()).toEqual(
    [runs[0].requestId, runs[1].requestId, latest.requestId].sort(),
  );
  expect(skipped.map((s) => [s.requestId, s.reason]).sort()).toEqual(
    [
      [failed.requestId, 'not-feedback'],
      [older.requestId, 'later-result'],
    ].sort(),
  );
  expect(report.outcome?.delivered).toEqual(expect.arrayContaining(toSend.map((r) => r.requestId)));
  expect(report.outcome?.weekTurned).toEqual([]);

  // Every member with real feedback has it stored now, the latest for the member who had two.
  const week = be.week();
  const stored = await be.waitFor(
    () => {
      const found = [a, b, twice].map((m) => be.feedback(m, week));
      return found.every((f) => f !== undefined) ? found : undefined;
    },
    20_000,
    'the restored feedbacks',
  );
  expect(stored.map((f) => f?.requestId)).toEqual([runs[0].requestId, runs[1].requestId, latest.requestId]);
  expect(be.feedback(failing, week)).toBeUndefined();
  // The printed report names each skip and its reason.
  const printed = await cli('redeliver', ...window, '--dry-run');
  expect(printed.out).toContain(`skipped  ${failed.requestId}  member ${failing}  not-feedback:`);
  expect(printed.out).toContain(`skipped  ${older.requestId}  member ${twice}  later-result:`);
});
