/**
 * How a FeedbackWorkflow run is started (src/run/start.ts), observed on a client that
 * records what it is asked: workflow id, policies, priority and fairness, search attributes, memo.
 */
import type { Client, WorkflowStartOptions } from '@temporalio/client';
import {
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type SearchAttributePair,
} from '@temporalio/common';
import { DEFAULT_POLICY } from '../../src/config';
import { DEFAULT_PROMPT_VERSION } from '../../src/domain/prompt';
import {
  CompletionTokensSearchAttribute,
  FEEDBACK_SEARCH_ATTRIBUTES,
  FEEDBACK_WORKFLOW_TYPE,
  FeedbackSourceSearchAttribute,
  FeedbackStageSearchAttribute,
  MemberIdSearchAttribute,
  PromptTokensSearchAttribute,
  PromptVersionSearchAttribute,
  RequestSignatureSearchAttribute,
  type FeedbackWorkflowInput,
  type RequestSource,
} from '../../src/domain/workflow';
import { startFeedbackWorkflow, type FeedbackStartOptions } from '../../src/run/start';

function recordingClient() {
  const starts: Array<{ type: string; options: WorkflowStartOptions }> = [];
  const client = {
    workflow: {
      start: async (type: string, options: WorkflowStartOptions) => {
        starts.push({ type, options });
        return { firstExecutionRunId: `run-${starts.length}` };
      },
    },
  } as unknown as Client;
  return { client, starts };
}

function input(source: RequestSource = 'queue'): FeedbackWorkflowInput {
  return {
    requestId: '42-msg-1',
    request: {
      memberId: 42,
      personalChallenges: [
        { id: 1, title: '텀블러 사용하기', isSuccess: true },
        { id: 2, title: '플로깅 하기', isSuccess: false },
      ],
      groupChallenges: [],
    },
    requestedAt: '2025-06-16T09:00:00+09:00',
    source,
    policy: DEFAULT_POLICY,
    acceptedAt: '2025-06-16T00:00:01.000Z',
    sentAt: '2025-06-16T00:00:00.000Z',
  };
}

const SETTINGS: FeedbackStartOptions = {
  taskQueue: 'leafresh-feedback',
  reusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
};

async function startOnce(wfInput: FeedbackWorkflowInput, settings: Partial<FeedbackStartOptions> = {}) {
  const { client, starts } = recordingClient();
  const started = await startFeedbackWorkflow(client, wfInput, { ...SETTINGS, ...settings });
  expect(starts).toHaveLength(1);
  return { started, ...starts[0] };
}

const attributeValue = (pairs: SearchAttributePair[] | undefined, name: string) =>
  pairs?.find((pair) => pair.key.name === name)?.value;

it('starts FeedbackWorkflow as feedback-<requestId> on the task queue with the input, and returns its ids', async () => {
  const wfInput = input();
  const { started, type, options } = await startOnce(wfInput);
  expect(type).toBe(FEEDBACK_WORKFLOW_TYPE);
  expect(options).toMatchObject({
    taskQueue: 'leafresh-feedback',
    workflowId: 'feedback-42-msg-1',
    args: [wfInput],
  });
  expect(started).toEqual({ workflowId: 'feedback-42-msg-1', runId: 'run-1' });
});

it('never starts a second run while one is open, and passes the reuse policy it is given for closed ones', async () => {
  const bridge = await startOnce(input());
  expect(bridge.options).toMatchObject({
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
  });
  const retry = await startOnce(input(), { reusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY });
  expect(retry.options).toMatchObject({
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
  });
});

describe('priority and fairness', () => {
  const priority = { api: 1, queue: 4, fairness: true };

  it("takes the priority key of the request's source", async () => {
    expect((await startOnce(input('api'), { priority })).options.priority?.priorityKey).toBe(1);
    expect((await startOnce(input('queue'), { priority })).options.priority?.priorityKey).toBe(4);
  });

  it('makes the member the fairness key, so that one member’s many requests do not starve the others', async () => {
    const { options } = await startOnce(input(), { priority });
    expect(options.priority).toEqual({ priorityKey: 4, fairnessKey: 'member-42' });
  });

  it('sets no fairness key when fairness is off, and no priority at all when none is configured', async () => {
    const { options } = await startOnce(input(), { priority: { ...priority, fairness: false } });
    expect(options.priority).toEqual({ priorityKey: 4 });
    expect((await startOnce(input())).options).not.toHaveProperty('priority');
  });
});

describe('search attributes', () => {
  it("sets every registered attribute: member, stage queued, source, prompt version, the BE message's signature and zero tokens", async () => {
    const signature = '42-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
    const { options } = await startOnce(
      { ...input('queue'), signature },
      { promptVersion: 'custom-0123456789ab' },
    );
    const pairs = options.typedSearchAttributes as SearchAttributePair[];
    expect(pairs.map((pair) => pair.key.name).sort()).toEqual(
      FEEDBACK_SEARCH_ATTRIBUTES.map((key) => key.name).sort(),
    );
    expect(attributeValue(pairs, MemberIdSearchAttribute.name)).toBe(42);
    expect(attributeValue(pairs, FeedbackStageSearchAttribute.name)).toBe('queued');
    expect(attributeValue(pairs, FeedbackSourceSearchAttribute.name)).toBe('queue');
    expect(attributeValue(pairs, PromptVersionSearchAttribute.name)).toBe('custom-0123456789ab');
    expect(attributeValue(pairs, RequestSignatureSearchAttribute.name)).toBe(signature);
    expect(attributeValue(pairs, PromptTokensSearchAttribute.name)).toBe(0);
    expect(attributeValue(pairs, CompletionTokensSearchAttribute.name)).toBe(0);
  });

  it('sets no signature for a request without one (an API request)', async () => {
    const { options } = await startOnce(input('api'));
    const pairs = options.typedSearchAttributes as SearchAttributePair[];
    expect(attributeValue(pairs, FeedbackSourceSearchAttribute.name)).toBe('api');
    expect(pairs.map((pair) => pair.key.name)).not.toContain(RequestSignatureSearchAttribute.name);
  });

  it('uses DEFAULT_PROMPT_VERSION when no version is given', async () => {
    const { options } = await startOnce(input());
    const pairs = options.typedSearchAttributes as SearchAttributePair[];
    expect(attributeValue(pairs, PromptVersionSearchAttribute.name)).toBe(DEFAULT_PROMPT_VERSION);
  });

  it('sets none when told not to (a namespace without them registered)', async () => {
    const { options } = await startOnce(input(), { searchAttributes: false });
    expect(options).not.toHaveProperty('typedSearchAttributes');
  });
});

it('attaches a summary of the request as the memo, the prompt version with it', async () => {
  const { options } = await startOnce(input('queue'), { searchAttributes: false });
  expect(options.memo).toEqual({
    memberId: 42,
    source: 'queue',
    requestedAt: '2025-06-16T09:00:00+09:00',
    personalChallenges: 2,
    groupChallenges: 0,
    promptVersion: DEFAULT_PROMPT_VERSION,
  });
});
