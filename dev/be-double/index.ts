/**
 * A double of the Leafresh backend ("BE") built from its documented behaviour
 * (test/fixtures/contract/CONTRACT.md, section 4), for local runs, tests, benchmarks and the chaos run:
 * it publishes requests as the BE does, consumes the result queue and its DLQ as the BE does, answers
 * the result callback as the BE's controller does, and files feedbacks per member and week by a clock
 * a test can set, the week turning in the BE's zone (UTC unless told). Its database can be down for a
 * set time (`failStoreFor`). Like the vLLM simulator, a development tool, not part of production.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../src/shared/logger';
import { CallbackEndpoint, type CallbackAttempt, type CallbackFaults, type ResultBody } from './callback';
import { BePublisher, type Publication } from './publisher';
import { ResultSubscriber } from './subscriber';
import {
  BeStore,
  createClock,
  type DlqFailure,
  type ExpectedWeek,
  type ReceivedFeedback,
  type Rejection,
  type Republish,
  type Verdict,
} from './store';

export {
  CLOCK_PATH,
  OUTAGE_PATH,
  PUBLISH_PATH,
  type CallbackAttempt,
  type CallbackFaults,
  type ResultBody,
} from './callback';
export {
  BE_MESSAGE_GROUP,
  beDeduplicationId,
  sha256Hex,
  beLocalDateTime,
  beRequestBody,
  type Publication,
} from './publisher';
export { parseResultBody } from './subscriber';
export {
  DatabaseDownError,
  feedbackWeek,
  STATUS_CODE_CONTENT,
  type Channel,
  type DlqFailure,
  type ExpectedWeek,
  type MemberWeek,
  type ReceivedFeedback,
  type Rejection,
  type Republish,
  type Verdict,
} from './store';

export interface BeDoubleOptions {
  /** Needed to publish and to subscribe. */
  sqs?: SQSClient;
  requestQueueUrl?: string;
  resultQueueUrl?: string;
  /** The result DLQ the BE polls; without it no DLQ poller runs. */
  resultDlqUrl?: string;
  /**
   * 'known' (default): a member is one the double published for or was told about (`knowMember`);
   * 'any': every positive memberId (for runs whose requests do not go through the double).
   */
  members?: 'known' | 'any';
  /** Start the clock at this instant (ms since the epoch); default now. */
  now?: number;
  /** The zone the BE's week turns in (its JVM's zone): default UTC, as its image sets no TZ. */
  timeZone?: string;
  /**
   * The subscriber's pace (the BE's: 20 s long poll, 5 messages, 5 s pause) and a receive-level
   * visibility (default the queue's). With the result queue's maxReceiveCount
   * (`ensureFeedbackQueues`' resultMaxReceiveCount) they set how long a result survives an outage.
   */
  subscriber?: {
    waitTimeSeconds?: number;
    maxMessages?: number;
    visibilityTimeoutSeconds?: number;
    pollDelayMs?: number;
  };
  /** Publisher backoff between attempts (default 300, 600 ms: three attempts). */
  publishBackoffMs?: number[];
  /** See CallbackOptions.signingSecret. */
  signingSecret?: string;
  /** Logs what the BE would log (stored feedbacks at info). */
  logger?: Logger;
}

export interface BeDouble {
  // --- clock ---
  now(): number;
  setNow(ms: number): void;
  advance(ms: number): void;
  /** The week a feedback received now (or at `ms`) is filed under, in the double's zone. */
  week(ms?: number): string;
  /** The zone its week turns in. */
  timeZone: string;

  // --- database ---
  /**
   * The BE's database is down for `ms` (the double's clock; 0 ends it): the subscriber leaves every
   * result on the queue, the callback answers 404, the DLQ poller deletes what it gets unlogged.
   */
  failStoreFor(ms: number): void;
  storeDown(): boolean;

  // --- members and publishing ---
  /** Makes a member known (e.g. one whose request went through our API); `body` is re-published on a status code. */
  knowMember(memberId: number, body?: string): void;
  /** Publishes as the BE (see BePublisher.publish). */
  publish(request: Record<string, unknown> | string): Promise<Publication>;
  published(): Publication[];

  // --- result queue ---
  /** Starts the result-queue subscriber and the DLQ poller. */
  startSubscriber(): void;
  stopSubscriber(): Promise<void>;

  // --- callback ---
  /** Serves the callback endpoint; returns its base URL. */
  listen(port?: number, host?: string): Promise<string>;
  attempts(): CallbackAttempt[];
  /** Bodies of callbacks answered 200. */
  accepted(): ResultBody[];
  failNext(count: number, status?: number): void;
  setFaults(faults: CallbackFaults): void;
  faultsInjected(): { failed: number; slow: number; byStatus: Record<string, number> };
  /** Resolves with the accepted callbacks once there are `count` of them. */
  waitForAccepted(count: number, timeoutMs?: number): Promise<ResultBody[]>;

  // --- store ---
  feedbacks(): ReceivedFeedback[];
  feedback(memberId: number, week: string): ReceivedFeedback | undefined;
  duplicates(): ReceivedFeedback[];
  republishes(): Republish[];
  rejections(): Rejection[];
  dlqFailures(): DlqFailure[];
  onStored(listener: (feedback: ReceivedFeedback) => void): () => void;
  /** Resolves with the predicate's first truthy value, checked after every change; rejects after `timeoutMs`. */
  waitFor<T>(
    predicate: () => T | undefined | false,
    timeoutMs?: number,
    what?: string | (() => string),
  ): Promise<T>;
  verdict(expected: ExpectedWeek[]): Verdict;

  /** Stops the subscriber and closes the callback server. */
  close(): Promise<void>;
}

export function createBeDouble(options: BeDoubleOptions = {}): BeDouble {
  const store = new BeStore(createClock(options.now), options.members ?? 'known', options.timeZone);
  const publisher =
    options.sqs && options.requestQueueUrl
      ? new BePublisher({
          sqs: options.sqs,
          requestQueueUrl: options.requestQueueUrl,
          store,
          backoffMs: options.publishBackoffMs,
        })
      : undefined;
  const callback = new CallbackEndpoint({
    store,
    signingSecret: options.signingSecret,
    publish: publisher ? (body) => publisher.publish(body) : undefined,
    advanceClock: (ms) => {
      store.clock.advance(ms);
      return store.week();
    },
    logger: options.logger,
  });
  let subscriber: ResultSubscriber | undefined;
  const needPublisher = (): BePublisher => {
    if (!publisher) throw new Error('BE double: publishing needs sqs and requestQueueUrl');
    return publisher;
  };

  return {
    now: () => store.clock.now(),
    setNow: (ms) => store.clock.setNow(ms),
    advance: (ms) => store.clock.advance(ms),
    week: (ms) => store.week(ms),
    timeZone: store.timeZone,
    failStoreFor: (ms) => store.failFor(ms),
    storeDown: () => store.isDown(),

    knowMember: (memberId, body) => store.remember(memberId, body),
    publish: (request) => needPublisher().publish(request),
    published: () => publisher?.published() ?? [],

    startSubscriber() {
      if (!options.sqs || !options.resultQueueUrl)
        throw new Error('BE double: the subscriber needs sqs and resultQueueUrl');
      subscriber ??= new ResultSubscriber({
        sqs: options.sqs,
        resultQueueUrl: options.resultQueueUrl,
        resultDlqUrl: options.resultDlqUrl,
        store,
        publisher,
        logger: options.logger,
        ...options.subscriber,
      });
      subscriber.start();
    },
    stopSubscriber: async () => subscriber?.stop(),

    listen: (port, host) => callback.listen(port, host),
    attempts: () => callback.attempts(),
    accepted: () => callback.accepted(),
    failNext: (count, status) => callback.failNext(count, status),
    setFaults: (faults) => callback.setFaults(faults),
    faultsInjected: () => callback.faultsInjected(),
    waitForAccepted: (count, timeoutMs = 30_000) =>
      store.waitFor(
        () => (callback.accepted().length >= count ? callback.accepted() : undefined),
        timeoutMs,
        () => `${count} accepted callbacks (have ${callback.accepted().length})`,
      ),

    feedbacks: () => store.feedbacks(),
    feedback: (memberId, week) => store.feedback(memberId, week),
    duplicates: () => store.duplicates(),
    republishes: () => store.republishes(),
    rejections: () => store.rejections(),
    dlqFailures: () => store.dlqFailures(),
    onStored: (listener) => store.onStored(listener),
    waitFor: (predicate, timeoutMs, what) => store.waitFor(predicate, timeoutMs, what),
    verdict: (expected) => store.verdict(expected),

    async close() {
      await subscriber?.stop();
      await callback.close();
    },
  };
}
