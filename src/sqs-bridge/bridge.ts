/**
 * The SQS bridge: long-polls the FIFO request queue, validates each body with the shared schema,
 * starts one FeedbackWorkflow per request (idempotently), and deletes a message only after Temporal
 * accepted the start or reported it already started. Bodies that cannot be a request go to the DLQ
 * with the reason. When Temporal (or SQS) is unreachable nothing is deleted and the poller backs off.
 * While a batch takes longer than half the visibility timeout (Temporal slow), the visibility of the
 * messages still in hand is extended, so that no other poller receives them meanwhile.
 *
 * Written as a small class instead of using sqs-consumer: we need a per-batch outcome (start ten
 * workflows in parallel, dead-letter some, back off on a downstream outage without deleting) and a
 * drain on shutdown, which that library's handler contract does not express.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { BridgeSettings } from '../config';
import { fromEpochMillis } from '../domain/datetime';
import { requestKey, workflowIdFor } from '../domain/keys';
import type { FeedbackPolicy } from '../domain/policy';
import { parseFeedbackRequestBody, type FieldError } from '../domain/request';
import { FeedbackStageSearchAttribute, type FeedbackWorkflowInput } from '../domain/workflow';
import { startFeedbackWorkflow, type FeedbackStartOptions } from '../run/start';
import { runCounter, runningFeedbackRuns, type QueueAdmission } from './admission';
import { errorSummary, type Logger } from '../shared/logger';
import type { BridgeMetrics } from '../shared/metrics';
import { DLQ_ATTRIBUTES } from '../shared/sqs';
import { contextFromMessageAttributes, inSpan, SpanKind, TRACE_ATTRIBUTE_NAMES } from '../shared/tracing';

/** The bridge's settings section (the admission bound is given as `admission`) and its clients. */
export interface BridgeOptions extends Omit<BridgeSettings, 'maxOpenQueueRuns'> {
  sqs: SQSClient;
  temporal: Client;
  logger: Logger;
  requestQueueUrl: string;
  dlqUrl: string;
  taskQueue: string;
  policy: FeedbackPolicy;
  /** Set search attributes at start (needs them registered on the namespace). Default true. */
  searchAttributes?: boolean;
  /** Stamped on each run (search attribute and memo). Default: DEFAULT_PROMPT_VERSION. */
  promptVersion?: string;
  /** Bounds the open runs of bulk (queue) requests (admission.ts); absent: no bound. */
  admission?: QueueAdmission;
  /** Priority keys by source and the fairness key; default: the server's. */
  priority?: FeedbackStartOptions['priority'];
  metrics?: BridgeMetrics;
}

export type MessageOutcome = 'started' | 'duplicate' | 'dead-lettered';

export interface BatchReport {
  started: number;
  duplicates: number;
  deadLettered: number;
  /** Messages left on the queue because their start failed (retried after the visibility timeout). */
  failed: number;
  /** Handled messages whose delete SQS reported as failed (they will come back and be duplicates). */
  deleteFailures: number;
}

/**
 * Open runs holding a failure result. A visibility count read when the bridge's metrics are scraped
 * (at most every 15 s): a counter of holds started minus ended would be wrong after any worker restart
 * (its counters reset while its holds go on elsewhere), the count is one cheap query and exact.
 */
export const HOLDING_RUNS_QUERY = runningFeedbackRuns(`${FeedbackStageSearchAttribute.name} = 'holding'`);

const MAX_REASON_CHARS = 1000;

/** What a signature may contain as it is: the BE's `<memberId>-<sha256 hex>` always does. */
const PLAIN_SIGNATURE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A BE message's signature: its `MessageDeduplicationId` (the BE's `<memberId>-sha256hex(body)`, the
 * same for each re-request of the same body). Another producer's id with characters a visibility
 * query would have to escape becomes `sha256:<hex of it>`; none when SQS reports none.
 */
export function requestSignature(message: Message): string | undefined {
  const id = message.Attributes?.MessageDeduplicationId;
  if (!id) return undefined;
  return PLAIN_SIGNATURE.test(id) ? id : `sha256:${createHash('sha256').update(id, 'utf8').digest('hex')}`;
}
/** SQS's limit of entries per batch call. */
const MAX_BATCH_ENTRIES = 10;

export class SqsBridge {
  private stopping = false;
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];

  constructor(private readonly options: BridgeOptions) {
    // Counted only where the runs carry the FeedbackStage search attribute (set at start).
    if (options.metrics && options.searchAttributes !== false)
      options.metrics.holdingRuns.readFrom(runCounter(options.temporal, HOLDING_RUNS_QUERY));
  }

  start(): void {
    if (this.loops.length > 0) return;
    for (let i = 0; i < this.options.pollers; i++) this.loops.push(this.poll(i));
    this.options.logger.info({ pollers: this.options.pollers }, 'SQS bridge polling');
  }

  /** Stops polling, lets batches in hand finish (starts and deletes), and resolves when idle. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async poll(poller: number): Promise<void> {
    let backoffMs = 0;
    while (!this.stopping) {
      if (backoffMs > 0) {
        await this.sleep(backoffMs);
        if (this.stopping) break;
      }
      try {
        const messages = await this.receiveMessages();
        this.recordReceived(messages);
        if (messages.length === 0) {
          backoffMs = 0;
          continue;
        }
        const report = await this.processBatch(messages);
        backoffMs = report.failed > 0 ? this.nextBackoff(backoffMs) : 0;
      } catch (err) {
        if (this.stopping) break;
        backoffMs = this.nextBackoff(backoffMs);
        this.options.logger.warn(
          { err: errorSummary(err), poller, backoffMs },
          'SQS receive failed; backing off',
        );
      }
    }
  }

  private recordReceived(messages: Message[]): void {
    const metrics = this.options.metrics;
    if (!metrics || messages.length === 0) return;
    metrics.received.inc(messages.length);
    const now = Date.now();
    for (const m of messages) {
      const sent = Number(m.Attributes?.SentTimestamp);
      if (Number.isFinite(sent)) metrics.receiveLag.observe(Math.max(0, now - sent) / 1000);
    }
  }

  private nextBackoff(current: number): number {
    return Math.min(this.options.backoffMaxMs, current === 0 ? 250 : current * 2);
  }

  /** Resolves after `ms` or on stop; removes its abort listener either way (no listener leak). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.abort.signal;
      const wake = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  private async receiveMessages(): Promise<Message[]> {
    const out = await this.options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.requestQueueUrl,
        MaxNumberOfMessages: this.options.maxMessages,
        WaitTimeSeconds: this.options.waitTimeSeconds,
        VisibilityTimeout: this.options.visibilityTimeoutSeconds,
        MessageSystemAttributeNames: [
          'SentTimestamp',
          'ApproximateReceiveCount',
          'MessageGroupId',
          'MessageDeduplicationId',
        ],
        MessageAttributeNames: TRACE_ATTRIBUTE_NAMES,
      }),
      { abortSignal: this.abort.signal },
    );
    return out.Messages ?? [];
  }

  /** Handles a received batch: starts in parallel, deletes what was handled in one batch call. */
  async processBatch(messages: Message[]): Promise<BatchReport> {
    // In hand: until deleted below, or until its start failed (then it is left to reappear).
    const inHand = new Set(messages);
    const stopExtending = this.keepInvisible(inHand);
    const outcomes = await Promise.allSettled(
      messages.map((m) =>
        this.handleMessage(m).catch((err: unknown) => {
          inHand.delete(m);
          throw err;
        }),
      ),
    );
    await stopExtending();
    const report: BatchReport = { started: 0, duplicates: 0, deadLettered: 0, failed: 0, deleteFailures: 0 };
    const handled: Message[] = [];
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') {
        handled.push(messages[i]);
        if (outcome.value === 'started') report.started++;
        else if (outcome.value === 'duplicate') report.duplicates++;
        else report.deadLettered++;
      } else {
        report.failed++;
        this.options.logger.warn(
          { err: errorSummary(outcome.reason), messageId: messages[i].MessageId },
          'Could not start workflow; message stays on the queue',
        );
      }
    });
    report.deleteFailures = await this.deleteMessages(handled);
    const metrics = this.options.metrics;
    if (metrics) {
      metrics.started.inc(report.started);
      metrics.duplicates.inc(report.duplicates);
      metrics.deadLettered.inc(report.deadLettered);
      metrics.startFailures.inc(report.failed);
      metrics.deleteFailures.inc(report.deleteFailures);
    }
    return report;
  }

  async handleMessage(message: Message): Promise<MessageOutcome> {
    const body = message.Body ?? '';
    const validation = parseFeedbackRequestBody(body);
    if (!validation.ok) {
      await this.deadLetter(message, validation.errors);
      return 'dead-lettered';
    }
    const request = validation.value;
    const requestId = requestKey({
      requestId: request.requestId,
      memberId: request.memberId,
      messageId: message.MessageId ?? '',
    });
    const workflowId = workflowIdFor(requestId);
    const sent = Number(message.Attributes?.SentTimestamp);
    const sentAt = fromEpochMillis(Number.isFinite(sent) ? sent : Date.now());
    const { requestId: _ignored, timestamp, ...fields } = request;
    const source = request.requestId ? 'api' : 'queue';
    const signature = source === 'queue' ? requestSignature(message) : undefined;
    const input: FeedbackWorkflowInput = {
      requestId,
      request: fields,
      requestedAt: timestamp ?? sentAt,
      source,
      policy: this.options.policy,
      acceptedAt: sentAt,
      sentAt,
      ...(signature === undefined ? {} : { signature }),
    };
    const log = this.options.logger.child({ requestId, workflowId, memberId: request.memberId });
    // A bulk request waits here (invisible, in hand) while the bound of open bulk runs is reached.
    if (input.source === 'queue' && this.options.admission) await this.admit(this.options.admission);
    try {
      // Continues the trace the API started (trace context in the message attributes), if any.
      await inSpan(
        'feedback.request.start',
        {
          kind: SpanKind.CONSUMER,
          parent: contextFromMessageAttributes(message.MessageAttributes),
          attributes: { 'feedback.request_id': requestId, 'feedback.member_id': request.memberId },
        },
        () =>
          startFeedbackWorkflow(this.options.temporal, input, {
            taskQueue: this.options.taskQueue,
            promptVersion: this.options.promptVersion,
            searchAttributes: this.options.searchAttributes,
            priority: this.options.priority,
            // A redelivered message never starts a second run, not even after a failed one: the BE's
            // re-request after a failure is a new message, hence a new request id.
            reusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          }),
      );
      log.info({ receiveCount: message.Attributes?.ApproximateReceiveCount }, 'Workflow started');
      return 'started';
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        log.info('Duplicate request; workflow already exists');
        return 'duplicate';
      }
      throw err;
    }
  }

  /** Admission of one bulk request, counted while it waits and timed once admitted. */
  private async admit(admission: QueueAdmission): Promise<void> {
    const metrics = this.options.metrics;
    const started = performance.now();
    metrics?.admissionWaiting.inc();
    try {
      await admission.admit(this.abort.signal);
      metrics?.admissionWait.observe((performance.now() - started) / 1000);
    } finally {
      metrics?.admissionWaiting.dec();
    }
  }

  private async deadLetter(message: Message, errors: FieldError[]): Promise<void> {
    const reason = errors
      .map((e) => (e.path ? `${e.path}: ${e.message}` : e.message))
      .join('; ')
      .slice(0, MAX_REASON_CHARS);
    await this.options.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.options.dlqUrl,
        MessageBody: message.Body && message.Body.length > 0 ? message.Body : '(empty body)',
        MessageGroupId: message.Attributes?.MessageGroupId ?? 'poison',
        MessageDeduplicationId: message.MessageId,
        MessageAttributes: {
          [DLQ_ATTRIBUTES.reason]: { DataType: 'String', StringValue: reason || 'invalid request' },
          [DLQ_ATTRIBUTES.errors]: {
            DataType: 'String',
            StringValue: JSON.stringify(errors.slice(0, 20)).slice(0, 4000),
          },
          [DLQ_ATTRIBUTES.sourceMessageId]: {
            DataType: 'String',
            StringValue: message.MessageId ?? 'unknown',
          },
        },
      }),
    );
    this.options.logger.warn({ messageId: message.MessageId, reason }, 'Invalid request moved to the DLQ');
  }

  /**
   * Every visibilityTimeout/2, sets the visibility of the messages in `inHand` to the full timeout
   * again. Returns the function that stops it (waiting for an extension in flight, so that it never
   * races the delete).
   */
  private keepInvisible(inHand: Set<Message>): () => Promise<void> {
    const periodMs = (this.options.visibilityTimeoutSeconds * 1000) / 2;
    let stopped = false;
    let inFlight = Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      timer = setTimeout(() => {
        inFlight = this.extendVisibility([...inHand]).then(() => {
          if (!stopped) schedule();
        });
      }, periodMs);
    };
    schedule();
    return async () => {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    };
  }

  /** Failures are logged, never thrown: at worst a message is received again (and is a duplicate). */
  private async extendVisibility(messages: Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += MAX_BATCH_ENTRIES) {
      const chunk = messages.slice(i, i + MAX_BATCH_ENTRIES);
      try {
        const out = await this.options.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.options.requestQueueUrl,
            Entries: chunk.map((m, j) => ({
              Id: String(j),
              ReceiptHandle: m.ReceiptHandle,
              VisibilityTimeout: this.options.visibilityTimeoutSeconds,
            })),
          }),
        );
        for (const f of out.Failed ?? []) {
          this.options.logger.warn(
            { messageId: chunk[Number(f.Id)]?.MessageId, code: f.Code, senderFault: f.SenderFault },
            'Could not extend the visibility of a message in hand',
          );
        }
        this.options.logger.debug(
          { messages: chunk.length - (out.Failed?.length ?? 0) },
          'Extended the visibility of messages in hand',
        );
      } catch (err) {
        this.options.logger.warn(
          { err: errorSummary(err), messageIds: chunk.map((m) => m.MessageId) },
          'Could not extend the visibility of messages in hand',
        );
      }
    }
  }

  /** Deletes in one call; returns how many entries SQS reported as failed. */
  private async deleteMessages(messages: Message[]): Promise<number> {
    if (messages.length === 0) return 0;
    const out = await this.options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.options.requestQueueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    const failed = out.Failed ?? [];
    for (const f of failed) {
      this.options.logger.warn(
        { messageId: messages[Number(f.Id)]?.MessageId, code: f.Code, senderFault: f.SenderFault },
        'Delete failed; the message will be redelivered and recognised as a duplicate',
      );
    }
    return failed.length;
  }
}
