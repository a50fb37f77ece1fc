/**
 * Records the histories of representative FeedbackWorkflow runs into test/histories/<scenario>.json,
 * which test/workflows/replay.test.ts replays against the current workflow code (see
 * docs/workflow-changes.md). Each scenario runs on the time-skipping test server with the real
 * prompt and guardrail and scripted vLLM answers and delivery.
 *
 * Usage: npx tsx scripts/record-histories.ts [--tag <change-id>] [--force] [scenario ...]
 *   (default: every scenario) writes test/histories/<scenario>.json, or <scenario>--<change-id>.json
 *   with --tag. Existing files are kept unless --force: after a workflow change, record with
 *   --tag <patch id> so the histories of the old code stay and keep being replayed.
 * Needs the test infrastructure's endpoints file (bash scripts/infra.sh start test), which names the
 * installed test-server binary.
 *
 * Self-contained on purpose: tsconfig.build.json (and the Docker build) compile scripts/ without test/.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowIdReusePolicy } from '@temporalio/common';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  makeTelemetryFilterString,
  Runtime,
  Worker,
} from '@temporalio/worker';
import { checkedGeneration, type DeliverInput, type FeedbackActivities } from '../src/activities';
import { DEFAULT_POLICY } from '../src/config';
import type { FeedbackPolicy } from '../src/domain/policy';
import { validateFeedbackRequest } from '../src/domain/request';
import {
  CompletionTokensSearchAttribute,
  FailureTypes,
  PromptTokensSearchAttribute,
  PromptVersionSearchAttribute,
  FeedbackSourceSearchAttribute,
  FeedbackStageSearchAttribute,
  MemberIdSearchAttribute,
  RequestSignatureSearchAttribute,
  type FeedbackOutcome,
  type FeedbackWorkflowInput,
  type RequestSource,
} from '../src/domain/workflow';
import { startFeedbackWorkflow } from '../src/run/start';
import { llmActivities, WORKFLOWS_PATH } from '../src/worker/worker';

const ROOT = join(__dirname, '..');
const OUT_DIR = join(ROOT, 'test', 'histories');
const ENDPOINTS = join(ROOT, '.data', 'test', 'endpoints.json');
const REQUEST_FIXTURE = join(ROOT, 'test', 'fixtures', 'contract', 'request-iso-dates.json');
/** Fixed names keep the recorded files stable between recordings (event times and run ids still change). */
const TASK_QUEUE = 'feedback-history-recording';
const LLM_TASK_QUEUE = 'feedback-history-recording-llm';
const IDENTITY = 'record-histories';
const REQUESTED_AT = '2025-06-16T09:00:00+09:00';
const KOREAN_FEEDBACK = '하루 30분 걷기를 멋지게 해냈어요! 🌱 텀블러는 다음 주에 다시 도전해봐요.';
/** The sha256 part of the recorded queue requests' signature (any fixed hex will do). */
const SIGNATURE_HASH = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

interface Scenario {
  policy?: Partial<FeedbackPolicy>;
  /** Where the request came from (default `api`): a `queue` request's failure result is held. */
  source?: RequestSource;
  /** When the request reached us (expiry counts from here), from the test server's clock; default now. */
  acceptedAt?: (nowMs: number) => string;
  /** Scripted vLLM: called once per attempt (1-based). */
  generate?: (attempt: number) => string;
  /** Scripted BE/result queue: called once per delivery attempt (1-based, across channels). */
  deliver?: (attempt: number) => void;
  /** Scripted visibility: the request's earlier failures within 24 h (default 0). */
  earlierFailures?: number;
  expect: { outcome: 'completed' | 'failed'; generateCalls: number; deliverCalls: number };
}

const vllm500 = () =>
  ApplicationFailure.create({
    message: 'vLLM answered 500: engine busy',
    type: FailureTypes.VllmUnavailable,
  });

/** vLLM's 400 for the request itself: generation fails for good at once. */
function rejectedByVllm(): never {
  throw ApplicationFailure.create({
    message: 'vLLM answered 400: prompt too long',
    type: FailureTypes.VllmRejected,
    nonRetryable: true,
  });
}

const SCENARIOS: Record<string, Scenario> = {
  success: { expect: { outcome: 'completed', generateCalls: 1, deliverCalls: 1 } },
  'vllm-retries': {
    generate: (attempt) => {
      if (attempt <= 2) throw vllm500();
      return KOREAN_FEEDBACK;
    },
    expect: { outcome: 'completed', generateCalls: 3, deliverCalls: 1 },
  },
  'guardrail-regeneration': {
    generate: (attempt) => (attempt === 1 ? 'Great job this week! Keep going.' : KOREAN_FEEDBACK),
    expect: { outcome: 'completed', generateCalls: 2, deliverCalls: 1 },
  },
  // A BE queue request: the "500" waits for the failure hold (a timer) before it is sent.
  'terminal-failure': {
    source: 'queue',
    generate: rejectedByVllm,
    expect: { outcome: 'failed', generateCalls: 1, deliverCalls: 1 },
  },
  // The same request failed twice before within 24 h: its "500" is held 330 s × 4² = 88 min.
  'repeated-failure': {
    source: 'queue',
    earlierFailures: 2,
    generate: rejectedByVllm,
    expect: { outcome: 'failed', generateCalls: 1, deliverCalls: 1 },
  },
  'delivery-rejected': {
    policy: { deliveryMode: 'callback' },
    deliver: () => {
      throw ApplicationFailure.create({
        message: 'callback answered 400: bad body',
        type: FailureTypes.DeliveryRejected,
        nonRetryable: true,
      });
    },
    expect: { outcome: 'failed', generateCalls: 1, deliverCalls: 1 },
  },
  expired: {
    source: 'queue',
    policy: { maxAgeMinutes: 60 },
    acceptedAt: (nowMs) => new Date(nowMs - 3 * 3_600_000).toISOString(),
    expect: { outcome: 'failed', generateCalls: 0, deliverCalls: 1 },
  },
};

function workflowInput(
  scenario: string,
  { source = 'api', policy = {} }: Scenario,
  nowMs: number,
  acceptedAt: string,
): FeedbackWorkflowInput {
  const parsed = validateFeedbackRequest(JSON.parse(readFileSync(REQUEST_FIXTURE, 'utf8')));
  if (!parsed.ok) throw new Error(`${REQUEST_FIXTURE} is not a valid request`);
  const { requestId: _r, timestamp: _t, ...request } = parsed.value;
  return {
    requestId: `replay-${scenario}`,
    request,
    requestedAt: REQUESTED_AT,
    source,
    policy: { ...DEFAULT_POLICY, llmTaskQueue: LLM_TASK_QUEUE, ...policy },
    acceptedAt,
    sentAt: new Date(nowMs).toISOString(),
    // A BE queue message carries its signature (its MessageDeduplicationId).
    ...(source === 'queue' ? { signature: `${request.memberId}-${SIGNATURE_HASH}` } : {}),
  };
}

function scriptedActivities(scenario: Scenario) {
  const calls = { generate: 0, deliver: 0 };
  const generate = async () => {
    calls.generate++;
    const text = scenario.generate ? scenario.generate(calls.generate) : KOREAN_FEEDBACK;
    return { text, usage: { promptTokens: 812, completionTokens: 96 } };
  };
  const activities: FeedbackActivities = {
    generateCheckedFeedback: checkedGeneration(undefined, generate),
    deliverResult: async (_input: DeliverInput) => {
      calls.deliver++;
      scenario.deliver?.(calls.deliver);
    },
    countEarlierFailures: async () => scenario.earlierFailures ?? 0,
  };
  return { activities, calls };
}

/**
 * History <-> proto JSON, the format of `temporal workflow show --output json` and of the SDK's
 * `historyToJSON`/`historyFromJSON` (@temporalio/common/lib/proto-utils), which these use first.
 * Those two throw "type must be a Type" when npm installs separate protobufjs copies under
 * @temporalio/common and @temporalio/proto (as it does here, because @grpc/proto-loader holds the
 * top-level protobufjs 7); the fallback is the same conversion with the protobufjs copy that
 * @temporalio/proto's types belong to. It skips historyFromJSON's fix-ups of legacy (tctl-era) enum
 * spellings, which histories written by this script do not have.
 */
export function serializeHistory(history: History): string {
  try {
    return historyToJSON(history);
  } catch (err) {
    if (!isProtobufCopyMismatch(err)) throw err;
  }
  const type = temporal.api.history.v1.History;
  return JSON.stringify(protoJson().toJson(type, type.fromObject(history)), null, 2);
}

/** Reads what {@link serializeHistory} (or `temporal workflow show --output json`) wrote. */
export function parseHistory(json: unknown): History {
  try {
    return historyFromJSON(json);
  } catch (err) {
    if (!isProtobufCopyMismatch(err)) throw err;
  }
  return protoJson().fromJson(temporal.api.history.v1.History, json, {
    ignoreUnknownFields: true,
  }) as History;
}

function isProtobufCopyMismatch(err: unknown): boolean {
  return err instanceof TypeError && err.message === 'type must be a Type';
}

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): unknown;
}

function protoJson(): ProtoJson {
  const protoDir = dirname(require.resolve('@temporalio/proto/package.json'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as ProtoJson;
}

/** The Java time-skipping test server that scripts/infra.sh installs (no download at run time). */
function testServerPath(): string {
  if (!existsSync(ENDPOINTS)) {
    throw new Error(`${ENDPOINTS} is missing: run "bash scripts/infra.sh start test" first`);
  }
  return (JSON.parse(readFileSync(ENDPOINTS, 'utf8')) as { temporalTestServer: string }).temporalTestServer;
}

async function record(
  env: TestWorkflowEnvironment,
  workflowBundle: Awaited<ReturnType<typeof bundleWorkflowCode>>,
  name: string,
  scenario: Scenario,
  file: string,
): Promise<string> {
  const { activities, calls } = scriptedActivities(scenario);
  const nowMs = await env.currentTimeMs();
  const acceptedAt = scenario.acceptedAt?.(nowMs) ?? new Date(nowMs).toISOString();
  const input = workflowInput(name, scenario, nowMs, acceptedAt);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    identity: IDENTITY,
    workflowBundle,
    activities,
  });
  const llmWorker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: LLM_TASK_QUEUE,
    identity: IDENTITY,
    activities: llmActivities(activities),
  });
  const { handle, outcome } = await llmWorker.runUntil(
    worker.runUntil(async () => {
      // As the SQS bridge starts runs, so the histories include the stage and token upserts.
      const { workflowId, runId } = await startFeedbackWorkflow(env.client, input, {
        taskQueue: TASK_QUEUE,
        reusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      const handle = env.client.workflow.getHandle(workflowId, runId);
      const outcome = await handle.result().then(
        (result: FeedbackOutcome) => ({ outcome: 'completed' as const, detail: result.content }),
        (err: unknown) => {
          if (!(err instanceof WorkflowFailedError)) throw err;
          return { outcome: 'failed' as const, detail: err.cause?.message ?? err.message };
        },
      );
      return { handle, outcome };
    }),
  );
  const actual = { outcome: outcome.outcome, generateCalls: calls.generate, deliverCalls: calls.deliver };
  if (JSON.stringify(actual) !== JSON.stringify(scenario.expect)) {
    throw new Error(
      `scenario ${name} did not run as scripted: expected ${JSON.stringify(scenario.expect)}, ` +
        `got ${JSON.stringify(actual)} (${outcome.detail})`,
    );
  }

  const history = await handle.fetchHistory();
  const json = serializeHistory(history) + '\n';
  const events = parseHistory(JSON.parse(json)).events ?? [];
  if (events.length !== history.events?.length) throw new Error(`${file} does not read back`);
  writeFileSync(file, json);
  const last = temporal.api.enums.v1.EventType[events[events.length - 1]?.eventType ?? 0];
  return `${relative(ROOT, file)}: ${events.length} events, ${last} (${outcome.outcome}: ${outcome.detail})`;
}

/** The search attributes scripts/infra.sh registers on the dev server, registered on the test server. */
export async function registerSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  const { INDEXED_VALUE_TYPE_INT, INDEXED_VALUE_TYPE_KEYWORD } = temporal.api.enums.v1.IndexedValueType;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: {
      [MemberIdSearchAttribute.name]: INDEXED_VALUE_TYPE_INT,
      [FeedbackStageSearchAttribute.name]: INDEXED_VALUE_TYPE_KEYWORD,
      [FeedbackSourceSearchAttribute.name]: INDEXED_VALUE_TYPE_KEYWORD,
      [PromptVersionSearchAttribute.name]: INDEXED_VALUE_TYPE_KEYWORD,
      [RequestSignatureSearchAttribute.name]: INDEXED_VALUE_TYPE_KEYWORD,
      [PromptTokensSearchAttribute.name]: INDEXED_VALUE_TYPE_INT,
      [CompletionTokensSearchAttribute.name]: INDEXED_VALUE_TYPE_INT,
    },
  });
}

const USAGE = 'usage: npx tsx scripts/record-histories.ts [--tag <change-id>] [--force] [scenario ...]';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { tag: { type: 'string' }, force: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  const unknown = positionals.filter((n) => !(n in SCENARIOS));
  if (unknown.length > 0) {
    throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  }
  if (values.tag !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(values.tag)) {
    throw new Error(`--tag must be lower-case letters, digits and dashes\n${USAGE}`);
  }
  const fileOf = (name: string) => join(OUT_DIR, values.tag ? `${name}--${values.tag}.json` : `${name}.json`);
  const todo = (positionals.length > 0 ? positionals : Object.keys(SCENARIOS)).filter((name) => {
    if (values.force || !existsSync(fileOf(name))) return true;
    process.stdout.write(`kept ${relative(ROOT, fileOf(name))} (exists; --force overwrites it)\n`);
    return false;
  });
  if (todo.length === 0) return;

  // The scripted failures would otherwise be logged as worker warnings.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
  mkdirSync(OUT_DIR, { recursive: true });
  const quiet = () => undefined;
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet, log: quiet },
  });
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath() } },
    client: { identity: IDENTITY },
  });
  try {
    await registerSearchAttributes(env);
    for (const name of todo) {
      const summary = await record(env, workflowBundle, name, SCENARIOS[name], fileOf(name));
      process.stdout.write(`wrote ${summary}\n`);
    }
  } finally {
    await env.teardown();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`record-histories failed: ${err instanceof Error ? err.message : String(err)}\n`);
    if (err instanceof Error && err.cause) process.stderr.write(`  cause: ${String(err.cause)}\n`);
    process.exit(1);
  });
}
