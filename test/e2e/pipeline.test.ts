import { SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { sha256Hex } from '../../dev/be-double';
import { DLQ_ATTRIBUTES } from '../../src/shared/sqs';
import { acceptedRequest } from '../support/accepted';
import { fixtureJson, VALID_REQUEST_FIXTURES, type BeQueueMessageFixture } from '../support/fixtures';
import { startPipeline, workflowResult, type Pipeline } from '../support/pipeline';

jest.setTimeout(120_000);

const HANGUL = /[\uAC00-\uD7A3]/;
const STATUS_CODE = /^[45][0-9][0-9]$/;

let pipeline: Pipeline;

interface ResultBody {
  memberId: number;
  content: string;
  requestId: string;
  status: string;
}
const resultOf = (m: Message): ResultBody => JSON.parse(m.Body ?? '{}') as ResultBody;

beforeAll(async () => {
  pipeline = await startPipeline('pipeline', 'both');
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
});

/** A BE-style body: no requestId, no timestamp, Jackson dates, as the BE's Jackson would write it. */
function beBody(memberId: number, title: string): string {
  return JSON.stringify({
    memberId,
    personalChallenges: [{ id: 31, title, isSuccess: true }],
    groupChallenges: [
      {
        id: 23,
        title: '제로웨이스트 실천',
        startDate: [2025, 6, 9, 0, 0],
        endDate: [2025, 6, 15, 23, 59, 59],
        submissions: [{ isSuccess: true, submittedAt: [2025, 6, 10, 13, 8, 16, 710986000] }],
      },
    ],
  });
}

/** Sends as the BE does; resolves with the message's id (the request id's second half). */
async function sendBeMessage(body: string, dedupId: string): Promise<string> {
  const sent = await pipeline.sqs.send(
    new SendMessageCommand({
      QueueUrl: pipeline.queues.requestQueueUrl,
      MessageBody: body,
      MessageGroupId: 'feedback-request',
      MessageDeduplicationId: dedupId,
    }),
  );
  if (!sent.MessageId) throw new Error('SendMessage returned no MessageId');
  return sent.MessageId;
}

describe('the pipeline on the local stack', () => {
  it.each(VALID_REQUEST_FIXTURES)(
    'answers a POST of %s with 202 and delivers one Korean callback naming the challenges',
    async (name) => {
      const fixture = fixtureJson<{ memberId: number; personalChallenges: Array<{ title: string }> }>(name);
      const response = await fetch(`${pipeline.apiUrl}/ai/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(fixture),
      });
      expect(response.status).toBe(202);
      const { requestId, workflowId } = await acceptedRequest(response);

      await workflowResult(pipeline.temporal, workflowId);
      const callbacks = pipeline.receiver.attempts().filter((a) => a.idempotencyKey === workflowId);
      expect(callbacks).toHaveLength(1);
      expect(callbacks[0].path).toBe('/api/members/feedback/result');
      const body = callbacks[0].body as {
        memberId: number;
        content: string;
        requestId: string;
        status: string;
      };
      expect(body).toMatchObject({
        memberId: fixture.memberId,
        requestId,
        status: 'success',
      });
      expect(body.content).toMatch(HANGUL);
      for (const c of fixture.personalChallenges) expect(body.content).toContain(c.title);
    },
  );

  it('turns a BE-style queue message into one result on the result queue that the BE accepts', async () => {
    const fixture = fixtureJson<BeQueueMessageFixture>('be-queue-message.json');
    const body = fixture.MessageBody;
    const memberId = (JSON.parse(body) as { memberId: number }).memberId;
    const messageId = await sendBeMessage(body, `${memberId}-${sha256Hex(body)}`);

    const results = await pipeline.results.waitFor((m) => resultOf(m).memberId === 7);
    expect(results).toHaveLength(1);
    const result = resultOf(results[0]);
    expect(result.content.trim()).not.toBe('');
    expect(result.content).not.toMatch(STATUS_CODE);
    expect(result.content).toContain('플로깅 하기');
    expect(result.requestId).toBe(`7-${messageId}`);
  });

  it('runs one workflow for a BE message sent twice, and a new one for the same body sent as a new message', async () => {
    // A member id of its own: the test stack's Temporal keeps the runs of earlier test runs.
    const member = 8_800_000 + Math.floor(Math.random() * 100_000);
    const body = beBody(member, '장바구니 챙기기');
    const beDedupId = `${member}-${sha256Hex(body)}`;
    const first = await sendBeMessage(body, beDedupId);
    // The BE's repeated send within 5 minutes: SQS drops it (same MessageId, no second message).
    expect(await sendBeMessage(body, beDedupId)).toBe(first);
    // The same body as a new message (the BE's next week): a new request, answered too.
    const second = await sendBeMessage(body, `${beDedupId}-next-week`);
    expect(second).not.toBe(first);

    const results = await pipeline.results.waitFor((m) => resultOf(m).memberId === member, 2);
    expect(results.map((m) => resultOf(m).requestId).sort()).toEqual(
      [`${member}-${first}`, `${member}-${second}`].sort(),
    );
    for (const messageId of [first, second])
      await workflowResult(pipeline.temporal, `feedback-${member}-${messageId}`);
    const runs = [];
    for await (const wf of pipeline.temporal.workflow.list({ query: `MemberId = ${member}` }))
      runs.push(wf.workflowId);
    expect(runs.sort()).toEqual([`feedback-${member}-${first}`, `feedback-${member}-${second}`].sort());
  });

  it('moves a poison message to the DLQ with its reason while the next good message is processed', async () => {
    const poison = '{"memberId": "seven", "personalChallenges": []}';
    await sendBeMessage(poison, 'poison-1');
    const good = beBody(8802, '대중교통 이용하기');
    const goodId = await sendBeMessage(good, `8802-${sha256Hex(good)}`);

    await workflowResult(pipeline.temporal, `feedback-8802-${goodId}`);
    const deadLetters = pipeline.deadLetters;
    if (!deadLetters) throw new Error('this pipeline collects its DLQ');
    const dead = await deadLetters.waitFor(() => true);
    expect(dead).toHaveLength(1);
    expect(dead[0].Body).toBe(poison);
    expect(dead[0].MessageAttributes?.[DLQ_ATTRIBUTES.reason]?.StringValue).toMatch(/memberId/);
    expect(await pipeline.results.waitFor((m) => resultOf(m).memberId === 8802)).toHaveLength(1);
  });
});
