/**
 * The traffic of a chaos run: week one's requests through the API and as the BE (with duplicate sends
 * and poison), week two's identical bodies a week later, and waiting for each week to settle.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { BeDouble, ExpectedWeek } from '../dev/be-double';
import { POISON_BODIES, poisonIndexes, type Timeline } from './faults';
import { messagesOn, openRuns, type Stack } from './stack';
import { sleep, type ProgressBar } from '../harness/util';

const WEEK_MS = 7 * 24 * 3_600_000;
/** SQS drops a repeat of a deduplication id sent within 5 minutes. */
const DEDUP_WINDOW_MS = 5 * 60_000;
/** A bound on each week's settling, in case a run never closes (the verdict then shows what is missing). */
const SETTLE_LIMIT_MS = 30 * 60_000;

/** A member-week the run expects exactly one feedback for. */
export interface Expected extends ExpectedWeek {
  via: 'api' | 'queue';
  /** Wall-clock time of the (first) send. */
  sentAt: number;
  /** The request body as the BE builds it. */
  body: string;
}

/** What the run has sent so far. */
export interface Load {
  /** By `memberId|week`. */
  expected: Map<string, Expected>;
  poison: string[];
  api503: number;
  duplicatesSent: number;
}

export function createLoad(): Load {
  return { expected: new Map(), poison: [], api503: 0, duplicatesSent: 0 };
}

function addExpected(load: Load, e: Expected): void {
  load.expected.set(`${e.memberId}|${e.week}`, e);
}

/** Redraws the progress bar every second until cleared. */
export function startTicker(
  be: BeDouble,
  load: Load,
  progress: ProgressBar,
  timeline: Timeline,
): NodeJS.Timeout {
  return setInterval(
    () =>
      progress.render(
        be.feedbacks().length,
        `api 503s ${load.api503} | faults ${timeline.entries.length} | re-published ${be.republishes().length} | ${Math.round((Date.now() - timeline.t0) / 1000)}s`,
      ),
    1000,
  );
}

/**
 * Week one: n members spread over the send window, even ones through the API, odd ones published as
 * the BE; a poison message after a few of them. Returns the week once every send is out.
 */
export async function sendWeekOne(
  stack: Stack,
  options: { n: number; sendWindowMs: number },
  load: Load,
): Promise<string> {
  const weekOne = stack.be.week();
  const sends: Promise<void>[] = [];
  const poisonAt = poisonIndexes(options.n);
  for (let i = 0; i < options.n; i++) {
    await sleep(options.sendWindowMs / options.n);
    const memberId = 100_000 + i;
    const request = {
      memberId,
      personalChallenges: [{ id: i, title: `플로깅 하기 #${i}`, isSuccess: i % 3 !== 0 }],
      groupChallenges: [],
    };
    const body = JSON.stringify(request);
    if (i % 2 === 0) sends.push(sendViaApi(stack, load, weekOne, request, body));
    else sends.push(sendAsBe(stack, load, weekOne, i, body));
    if (poisonAt.has(i)) {
      const poisonBody = POISON_BODIES[load.poison.length % POISON_BODIES.length];
      load.poison.push(poisonBody);
      sends.push(sendWithRetry(stack.beSqs, stack.proxied.requestQueueUrl, poisonBody, `poison-${i}`));
    }
  }
  await Promise.all(sends);
  return weekOne;
}

async function sendViaApi(
  stack: Stack,
  load: Load,
  week: string,
  request: { memberId: number },
  body: string,
): Promise<void> {
  // The BE knows its members and would assemble this body again on a status-code result.
  stack.be.knowMember(request.memberId, body);
  const r = await postWithRetry(stack.apiUrl, request);
  load.api503 += r.rejected;
  // Every attempt may have left a request behind (a 503 or a timeout after SQS took it).
  if (r.requestId)
    addExpected(load, {
      memberId: request.memberId,
      week,
      requests: r.attempts,
      via: 'api',
      sentAt: r.sentAt,
      body,
    });
}

/** Published as the BE; every tenth also sent again, every fifteenth also under another dedup id. */
async function sendAsBe(stack: Stack, load: Load, week: string, i: number, body: string): Promise<void> {
  const memberId = 100_000 + i;
  const sentAt = Date.now();
  await publishWithRetry(stack.be, body);
  let requests = 1;
  if (i % 10 === 1) {
    await publishWithRetry(stack.be, body); // the BE sending again: same dedup id, dropped by SQS
    load.duplicatesSent++;
  }
  if (i % 15 === 1) {
    // The same body as a new message under another producer's dedup id: a new request.
    await sendWithRetry(stack.beSqs, stack.proxied.requestQueueUrl, body, `other-${memberId}-${i}`);
    load.duplicatesSent++;
    requests++;
  }
  addExpected(load, { memberId, week, requests, via: 'queue', sentAt, body });
}

/**
 * Week two: a quarter of the members (two of every eight, API and queue alike) ask again with the
 * identical body (the same challenge with the same outcome, no group submission). Returns the week.
 */
export async function sendWeekTwo(
  stack: Stack,
  load: Load,
  progress: ProgressBar,
  timeline: Timeline,
): Promise<string> {
  const be = stack.be;
  // Not the members the BE re-requested for in week one: their identical body was sent again already
  // (the re-publish), and its 5-minute window, which week two would have to wait out, ends last.
  const republished = new Set(be.republishes().map((r) => r.memberId));
  const again = [...load.expected.values()].filter(
    (e) => (e.memberId - 100_000) % 8 <= 1 && !republished.has(e.memberId),
  );
  await waitOutDedupWindow(be, new Set(again.map((e) => e.memberId)), progress);
  be.advance(WEEK_MS);
  const weekTwo = be.week();
  timeline.note('week-two', weekTwo);
  await Promise.all(
    again.map(async (e, k) => {
      await sleep((k * 10_000) / Math.max(1, again.length));
      if (e.via === 'queue') {
        const sentAt = Date.now();
        await publishWithRetry(be, e.body);
        addExpected(load, { memberId: e.memberId, week: weekTwo, via: 'queue', sentAt, body: e.body });
      } else {
        const r = await postWithRetry(stack.apiUrl, JSON.parse(e.body) as unknown);
        load.api503 += r.rejected;
        if (r.requestId)
          addExpected(load, {
            memberId: e.memberId,
            week: weekTwo,
            requests: r.attempts,
            via: 'api',
            sentAt: r.sentAt,
            body: e.body,
          });
      }
    }),
  );
  return weekTwo;
}

/**
 * The double's clock jumps a week, ElasticMQ's does not: waits out the dedup window of the last send
 * of these members' bodies (a re-publish included), as a week would.
 */
async function waitOutDedupWindow(
  be: BeDouble,
  memberIds: Set<number>,
  progress: ProgressBar,
): Promise<void> {
  const lastSend = Math.max(
    0,
    ...be
      .published()
      .filter((p) => memberIds.has(p.memberId))
      .map((p) => p.at),
  );
  while (be.now() < lastSend + DEDUP_WINDOW_MS + 10_000) {
    progress.render(be.feedbacks().length, 'waiting out the 5 min dedup window before week two');
    await sleep(Math.min(5000, lastSend + DEDUP_WINDOW_MS + 10_000 - be.now()));
  }
}

/**
 * Waits until no FeedbackWorkflow is running and the request and result queues (and the result DLQ)
 * hold nothing, seen twice 3 s apart: work moves between Temporal and the queues between the two reads
 * of one look. Gives up after SETTLE_LIMIT_MS.
 */
export async function settle(stack: Stack, progress: ProgressBar): Promise<boolean> {
  const { queues } = stack;
  const limit = Date.now() + SETTLE_LIMIT_MS;
  let calm = 0;
  while (Date.now() < limit) {
    const runs = await openRuns(stack);
    const queued =
      runs === 0
        ? (await messagesOn(stack, queues.requestQueueUrl)) +
          (await messagesOn(stack, queues.resultQueueUrl)) +
          (await messagesOn(stack, queues.resultDlqUrl))
        : -1;
    calm = runs === 0 && queued === 0 ? calm + 1 : 0;
    if (calm >= 2) return true;
    progress.render(
      stack.be.feedbacks().length,
      `settling: ${runs < 0 ? '?' : runs} runs open, ${queued < 0 ? '?' : queued} queued`,
    );
    await sleep(3000);
  }
  return false;
}

/** The member asking again until the BE's publisher (3 attempts each) gets the request out. */
async function publishWithRetry(be: BeDouble, body: string): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    try {
      await be.publish(body);
      return;
    } catch {
      await sleep(1000);
    }
  }
  throw new Error(`could not publish for ${body.slice(0, 40)} in 60 tries`);
}

/** POSTs to the API until it answers 202 (60 tries, 1 s apart); counts the other answers. */
async function postWithRetry(
  apiUrl: string,
  body: unknown,
): Promise<{ requestId?: string; sentAt: number; rejected: number; attempts: number }> {
  let rejected = 0;
  for (let attempt = 1; attempt <= 60; attempt++) {
    const sentAt = Date.now();
    try {
      const res = await fetch(`${apiUrl}/ai/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer(); // drain the body (the 202's data is null; the id is a header)
      const requestId = res.headers.get('x-request-id');
      if (res.status === 202 && requestId) return { requestId, sentAt, rejected, attempts: attempt };
      rejected++;
    } catch {
      rejected++;
    }
    await sleep(1000);
  }
  return { sentAt: Date.now(), rejected, attempts: 60 };
}

/** Sends straight to the request queue under `dedupId`, not as the BE's publisher would. */
async function sendWithRetry(sqs: SQSClient, queueUrl: string, body: string, dedupId: string): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageGroupId: 'feedback-request',
          MessageDeduplicationId: dedupId,
        }),
      );
      return;
    } catch {
      await sleep(1000);
    }
  }
  throw new Error(`could not send ${dedupId} in 60 attempts`);
}
