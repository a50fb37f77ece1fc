/**
 * Judges a chaos run from what it leaves behind: the BE double's store (one real feedback per
 * member-week), the request DLQ (every poison message, with its reason) and the simulator's records.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  STATUS_CODE_CONTENT,
  type BeDouble,
  type DlqFailure,
  type ReceivedFeedback,
  type Rejection,
  type Republish,
  type Verdict,
} from '../dev/be-double';
import { requestKey } from '../src/domain/keys';
import type { FaultLog } from './faults';
import type { Expected } from './load';
import type { Stack } from './stack';
import { percentile } from '../harness/util';

export interface DlqMessage {
  body: string;
  reason?: string;
}

export interface SimRecord {
  receivedAt: number;
  finishedAt?: number;
  status?: number;
  prompt?: string;
}

/** What the run reads off the stack once it has settled, beyond the double's store. */
export interface Evidence {
  dlq: DlqMessage[];
  simulatorStats: Record<string, unknown>;
  simRequests: SimRecord[];
}

export async function gatherEvidence(stack: Stack): Promise<Evidence> {
  const dlq = await drain(stack.direct, stack.queues.dlqUrl);
  const simulatorStats = (await fetch(`${stack.vllmUrl}/sim/stats`).then((r) => r.json())) as Record<
    string,
    unknown
  >;
  const simRequests = (await fetch(`${stack.vllmUrl}/sim/requests`).then((r) => r.json())) as SimRecord[];
  return { dlq, simulatorStats, simRequests };
}

/** Receives and deletes everything on a queue (three empty receives in a row end it). */
async function drain(sqs: SQSClient, queueUrl: string): Promise<DlqMessage[]> {
  const out: DlqMessage[] = [];
  for (let empty = 0; empty < 3;) {
    const res = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) empty++;
    for (const m of messages)
      out.push({ body: m.Body ?? '', reason: m.MessageAttributes?.reason?.StringValue });
    if (messages.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  }
  return out;
}

export interface RequestDlqCheck {
  found: number;
  poisonMissing: number;
  unexpected: number;
  withoutReason: number;
}

/** Every poison message in the DLQ with a reason, and nothing else there. */
export function checkRequestDlq(dlq: DlqMessage[], poison: string[]): RequestDlqCheck {
  const bodies = dlq.map((m) => m.body);
  return {
    found: dlq.length,
    poisonMissing: poison.filter((p) => !bodies.includes(p)).length,
    unexpected: bodies.filter((b) => !poison.includes(b)).length,
    withoutReason: dlq.filter((m) => !m.reason).length,
  };
}

export interface RerequestCheck {
  /** Status codes the BE read on the result queue; each makes it re-publish the member's request. */
  statusCodes: number;
  /** Status codes it could not re-publish for (no request known, or every send failed). */
  notRepublished: number;
  /**
   * Re-publishes that no run answered with real feedback: SQS dropped the message as a duplicate (the
   * failure was sent before the deduplication window closed) or it was lost on the way.
   */
  unanswered: Array<{ memberId: number; content: string; messageId?: string }>;
}

/**
 * Every status code the BE read must end in a re-request that a run answered: with real feedback, or
 * with another status code that the BE re-requested in turn (checked the same way). The run's request
 * id is `<memberId>-<SQS MessageId>` of the re-published message.
 */
export function checkRerequests(republishes: Republish[], received: ReceivedFeedback[]): RerequestCheck {
  const answered = new Set([
    ...received.filter((f) => !STATUS_CODE_CONTENT.test(f.content)).map((f) => f.requestId),
    ...republishes.map((r) => r.forRequestId),
  ]);
  const sent = republishes.filter((r) => r.sent);
  return {
    statusCodes: republishes.length,
    notRepublished: republishes.length - sent.length,
    unanswered: sent
      .filter(
        (r) =>
          r.messageId === undefined ||
          !answered.has(requestKey({ memberId: r.memberId, messageId: r.messageId })),
      )
      .map((r) => ({ memberId: r.memberId, content: r.content, messageId: r.messageId })),
  };
}

/** Member-weeks with anything wrong, each counted once. */
export function offendingMemberWeeks(verdict: Verdict): number {
  return new Set(
    [...verdict.missing, ...verdict.statusCodeStored, ...verdict.doubled, ...verdict.unexpected].map(
      (mw) => `${mw.memberId}|${mw.week}`,
    ),
  ).size;
}

/** Send to storage of each of the week's member-weeks that has a feedback. */
export function latencies(
  expected: Expected[],
  week: string,
  feedback: (memberId: number, week: string) => ReceivedFeedback | undefined,
): number[] {
  return expected
    .filter((e) => e.week === week)
    .map((e) => {
      const stored = feedback(e.memberId, e.week);
      return stored ? stored.receivedAt - e.sentAt : undefined;
    })
    .filter((ms): ms is number => ms !== undefined);
}

export interface KillRecovery {
  killAtMs: number;
  aborted: number;
  maxMs?: number;
  medianMs?: number;
}

/**
 * For each worker kill: the vLLM calls the dead worker had in flight (the simulator saw their
 * connections drop at the kill) and how long until each prompt was asked again by another worker.
 */
export function recoveryAfterKills(faults: FaultLog[], records: SimRecord[], t0: number): KillRecovery[] {
  return faults
    .filter((f) => f.kind === 'kill' && f.detail?.startsWith('worker'))
    .map((kill) => {
      const killAt = t0 + kill.at;
      const aborted = records.filter(
        (r) =>
          r.status === undefined &&
          r.finishedAt !== undefined &&
          r.receivedAt < killAt &&
          r.finishedAt >= killAt - 500 &&
          r.finishedAt <= killAt + 3000,
      );
      const delays = aborted
        .map((r) =>
          records.find((next) => next.prompt === r.prompt && next.receivedAt > (r.finishedAt ?? killAt)),
        )
        .filter((next): next is SimRecord => next !== undefined)
        .map((next) => next.receivedAt - killAt);
      return {
        killAtMs: kill.at,
        aborted: aborted.length,
        maxMs: delays.length ? Math.max(...delays) : undefined,
        medianMs: percentile(delays, 0.5),
      };
    });
}

/** Everything the verdict rests on, read once from the double's store and the evidence. */
export interface Judgement {
  verdict: Verdict;
  latencies: number[];
  stored: ReceivedFeedback[];
  republishes: Republish[];
  rerequests: RerequestCheck;
  unprocessed: Rejection[];
  resultDlq: DlqFailure[];
  requestDlq: RequestDlqCheck;
  recovery: KillRecovery[];
  memberWeeks: number;
  offending: number;
  settled: { weekOne: boolean; weekTwo: boolean };
  failed: boolean;
}

export function judge(
  be: BeDouble,
  run: { expected: Expected[]; weekOne: string; poison: string[]; settled: Judgement['settled'] },
  evidence: Evidence,
  timeline: { t0: number; entries: FaultLog[] },
): Judgement {
  const verdict = be.verdict(run.expected);
  const judgement: Omit<Judgement, 'failed'> = {
    verdict,
    latencies: latencies(run.expected, run.weekOne, (memberId, week) => be.feedback(memberId, week)),
    stored: be.feedbacks(),
    republishes: be.republishes(),
    rerequests: checkRerequests(be.republishes(), [...be.feedbacks(), ...be.duplicates()]),
    unprocessed: be.rejections(),
    resultDlq: be.dlqFailures(),
    requestDlq: checkRequestDlq(evidence.dlq, run.poison),
    recovery: recoveryAfterKills(timeline.entries, evidence.simRequests, timeline.t0),
    memberWeeks: run.expected.length,
    offending: offendingMemberWeeks(verdict),
    settled: run.settled,
  };
  return { ...judgement, failed: failed(judgement) };
}

/**
 * The run fails on anything lost, doubled or wrong, on a week that never settled, on a result the BE
 * could not take, and on a status code whose re-request no run answered.
 */
export function failed(j: Omit<Judgement, 'failed'>): boolean {
  return (
    !j.verdict.ok ||
    !j.settled.weekOne ||
    !j.settled.weekTwo ||
    j.rerequests.notRepublished > 0 ||
    j.rerequests.unanswered.length > 0 ||
    j.unprocessed.length > 0 ||
    j.resultDlq.length > 0 ||
    j.requestDlq.poisonMissing > 0 ||
    j.requestDlq.unexpected > 0 ||
    j.requestDlq.withoutReason > 0
  );
}
