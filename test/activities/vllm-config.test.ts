/**
 * Configuration errors are outages: vLLM's 401, 403, 404 and the context-length 400 become a retryable
 * VllmMisconfigured failure, counted by cause (feedback_vllm_config_errors) and named by the worker's
 * /ready; any other 400 stays the request's own fault (VllmRejected, non-retryable). The prompt is fitted
 * to the model's context, read from vLLM's GET /v1/models (or VLLM_MAX_MODEL_LEN).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createVllmSimulator, type SimulatorOptions, type VllmSimulator } from '../../dev/vllm-simulator';
import {
  createActivities,
  type ActivityDeps,
  type CheckedFeedback,
  type CheckedGenerateInput,
} from '../../src/activities';
import { classifyVllmError, isContextLengthError } from '../../src/activities/vllm';
import { isRetryableStatus } from '../../src/activities/http';
import { VllmConfigStatus, VllmModelContext, type ModelContext } from '../../src/activities/vllm-config';
import { validateFeedbackRequest } from '../../src/domain/request';
import { FailureTypes } from '../../src/domain/workflow';
import { runReadiness } from '../../src/shared/health';
import { recordingMeter } from '../support/recording-meter';
import { worstCaseRequest } from '../support/requests';

const MODEL = 'mistralai/Mistral-7B-Instruct-v0.3';
const SMALL: CheckedGenerateInput = {
  request: { personalChallenges: [{ id: 1, title: '플로깅 하기', isSuccess: true }], groupChallenges: [] },
  maxChars: 600,
};
const worst = (() => {
  const parsed = validateFeedbackRequest(worstCaseRequest());
  if (!parsed.ok) throw new Error('worst case invalid');
  return { request: parsed.value, maxChars: 600 };
})();

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function simulator(
  options: Partial<SimulatorOptions> = {},
): Promise<{ sim: VllmSimulator; url: string }> {
  const sim = createVllmSimulator({ maxNumSeqs: 4, latencyMs: 5, ...options });
  const { url } = await sim.listen(0);
  closers.push(() => sim.close());
  return { sim, url };
}

/** A server that answers every request with `status` and `body`, counting the requests by path. */
async function stub(status: number, body: unknown): Promise<{ url: string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

function deps(
  url: string,
  vllm: Partial<ActivityDeps['vllm']> = {},
  extra: Partial<ActivityDeps> = {},
): ActivityDeps {
  return {
    vllm: {
      baseUrl: url,
      chatCompletionsUrl: `${url}/v1/chat/completions`,
      model: MODEL,
      temperature: 0.7,
      maxTokens: 512,
      ...vllm,
    },
    delivery: {},
    sqs: {} as SQSClient,
    configStatus: new VllmConfigStatus(),
    ...extra,
  };
}

/** Runs generateCheckedFeedback; its answer or its ApplicationFailure, and the metrics it recorded. */
async function generate(activityDeps: ActivityDeps, input: CheckedGenerateInput = SMALL) {
  const { meter, recorded } = recordingMeter();
  const env = new MockActivityEnvironment(
    { startToCloseTimeoutMs: 10_000, heartbeatTimeoutMs: 5_000 },
    { metricMeter: meter },
  );
  const run: Promise<CheckedFeedback> = env.run(
    createActivities(activityDeps).generateCheckedFeedback,
    input,
  );
  const outcome = await run.then(
    (answer) => ({ answer, failure: undefined }),
    (err: unknown) => {
      if (!(err instanceof ApplicationFailure)) throw err;
      return { answer: undefined, failure: err };
    },
  );
  // The causes counted (the SDK's meter adds namespace, taskQueue and activityType).
  const configErrors = recorded
    .filter((r) => r.name === 'feedback_vllm_config_errors')
    .map((r) => r.tags.cause);
  return { ...outcome, configErrors };
}

describe('vLLM configuration errors are outages', () => {
  it('a wrong VLLM_API_KEY (401): retryable, counted as unauthorized, named by /ready until a call is answered', async () => {
    const { url } = await simulator({ apiKey: 'right-key' });
    const status = new VllmConfigStatus();

    const wrong = await generate(deps(url, { apiKey: 'wrong-key' }, { configStatus: status }));

    expect(wrong.failure).toMatchObject({ type: FailureTypes.VllmMisconfigured, nonRetryable: false });
    expect(wrong.failure?.message).toMatch(/^vLLM configuration error \(unauthorized\): .*401/);
    expect(wrong.configErrors).toEqual(['unauthorized']);
    const notReady = await runReadiness([status.readinessCheck()]);
    expect(notReady.ready).toBe(false);
    expect(notReady.checks['vllm-config']).toMatch(/^VllmConfigurationError: unauthorized since /);

    const fixed = await generate(deps(url, { apiKey: 'right-key' }, { configStatus: status }));
    expect(fixed.answer?.verdict.ok).toBe(true);
    expect(await runReadiness([status.readinessCheck()])).toEqual({
      ready: true,
      checks: { 'vllm-config': 'ok' },
    });
  });

  it('a proxy that forbids the call (403): retryable, counted as forbidden', async () => {
    const proxy = await stub(403, { error: { message: 'Forbidden', type: 'Forbidden', code: 403 } });

    const { failure, configErrors } = await generate(deps(proxy.url, { maxModelLen: 8192 }));

    expect(failure).toMatchObject({ type: FailureTypes.VllmMisconfigured, nonRetryable: false });
    expect(failure?.details).toEqual([403, 'forbidden']);
    expect(configErrors).toEqual(['forbidden']);
  });

  it('a VLLM_MODEL vLLM does not serve: model-not-found, from the model list and from the chat 404 alike', async () => {
    const { url } = await simulator();

    const fromList = await generate(deps(url, { model: 'no-such-model' }));
    // With VLLM_MAX_MODEL_LEN set the list is not read: vLLM's own 404 says it.
    const fromChat = await generate(deps(url, { model: 'no-such-model', maxModelLen: 8192 }));

    for (const { failure, configErrors } of [fromList, fromChat]) {
      expect(failure).toMatchObject({ type: FailureTypes.VllmMisconfigured, nonRetryable: false });
      expect(configErrors).toEqual(['model-not-found']);
    }
    expect(fromList.failure?.message).toContain('does not serve the model `no-such-model`');
    expect(fromChat.failure?.message).toMatch(
      /vLLM answered 404: The model `no-such-model` does not exist\./,
    );
  });

  it("a context-length 400 (our VLLM_MAX_MODEL_LEN above the server's): retryable context-length, and the figure is read again", async () => {
    const { url } = await simulator({ maxModelLen: 2048 });
    let forgotten = 0;
    const context: ModelContext = { maxModelLen: async () => 32_768, forget: () => void forgotten++ };

    const { failure, configErrors } = await generate(deps(url, {}, { modelContext: context }), worst);

    expect(failure).toMatchObject({ type: FailureTypes.VllmMisconfigured, nonRetryable: false });
    expect(failure?.message).toMatch(
      /\(context-length\): vLLM answered 400: max_tokens must be at least 1, got -\d+\./,
    );
    expect(configErrors).toEqual(['context-length']);
    expect(forgotten).toBe(1);
  });

  it("any other 400 stays the request's fault: non-retryable VllmRejected, not counted as configuration", async () => {
    const { sim, url } = await simulator();
    sim.setFaults([{ kind: 'error400', count: 1 }]);

    const { failure, configErrors } = await generate(deps(url));

    expect(failure).toMatchObject({ type: FailureTypes.VllmRejected, nonRetryable: true });
    expect(configErrors).toEqual([]);
  });

  it('a max_model_len that leaves no room for the prompt beside VLLM_MAX_TOKENS: context-length, naming the settings', async () => {
    const { url } = await simulator();

    const { failure, configErrors } = await generate(deps(url, { maxModelLen: 600, maxTokens: 512 }));

    expect(failure).toMatchObject({ type: FailureTypes.VllmMisconfigured, nonRetryable: false });
    expect(failure?.message).toMatch(/max_model_len 600 leaves 85 tokens for the prompt .* VLLM_MAX_TOKENS/);
    expect(configErrors).toEqual(['context-length']);
  });

  it.each([
    // vllm 0.11.0, --tokenizer-mode mistral: sampling_params.py after entrypoints/utils.py get_max_tokens.
    ['max_tokens must be at least 1, got -2731.', true],
    ['max_tokens must be at least 1, got 0.', true],
    // vllm 0.11.0, Hugging Face tokenizer: serving_engine.py _validate_input, with serving_chat.py's " None".
    [
      "This model's maximum context length is 8192 tokens. However, your request has 9000 input tokens. Please reduce the length of the input messages. None",
      true,
    ],
    [
      "'max_tokens' or 'max_completion_tokens' is too large: 512. This model's maximum context length is 8192 tokens and your request has 7900 input tokens (512 > 8192 - 7900). None",
      true,
    ],
    // Older vLLM (serving_engine.py) and the engine's own check (v1/engine/processor.py).
    [
      "This model's maximum context length is 8192 tokens. However, you requested 9512 tokens (9000 in the messages, 512 in the completion). Please reduce the length of the messages or completion.",
      true,
    ],
    [
      'The decoder prompt (length 9000) is longer than the maximum model length of 8192. Make sure that `max_model_len` is no smaller than the number of text tokens.',
      true,
    ],
    // The chat template's own 400s are the request's fault.
    [
      'Only user and assistant roles are supported, with the exception of an initial optional system message!',
      false,
    ],
  ])('reads %j as a context-length error: %s', (message, expected) => {
    expect(isContextLengthError({ status: 400, message })).toBe(expected);
    expect(classifyVllmError({ status: 400, message }, isRetryableStatus)).toEqual(
      expected ? { kind: 'configuration', cause: 'context-length' } : { kind: 'rejected' },
    );
  });

  it('classifies by status: 401, 403, 404 configuration; 5xx, 408, 429 outage; other 4xx rejected', () => {
    const kind = (status: number) => classifyVllmError({ status, message: '' }, isRetryableStatus);
    expect([401, 403, 404].map(kind)).toEqual([
      { kind: 'configuration', cause: 'unauthorized' },
      { kind: 'configuration', cause: 'forbidden' },
      { kind: 'configuration', cause: 'model-not-found' },
    ]);
    expect([500, 502, 503, 408, 429].map((s) => kind(s).kind)).toEqual(Array(5).fill('outage'));
    expect([400, 405, 413, 422].map((s) => kind(s).kind)).toEqual(Array(4).fill('rejected'));
  });
});

describe('the prompt fitted to the model context', () => {
  it("fits the worst-case request into the simulator's max_model_len, which it reads from GET /v1/models", async () => {
    const { url } = await simulator({ maxModelLen: 4096 });

    const { answer, failure } = await generate(deps(url), worst);

    expect(failure).toBeUndefined();
    expect(answer?.verdict.ok).toBe(true);
    expect(answer?.usage?.promptTokens).toBeLessThanOrEqual(4096 - 512);
    expect(answer?.usage?.promptTokens).toBeGreaterThan((4096 - 512) * 0.9);
  });

  it('reads max_model_len once for concurrent callers, keeps it for the TTL, and again after forget()', async () => {
    const server = await stub(200, { object: 'list', data: [{ id: MODEL, max_model_len: 8192 }] });
    let now = 0;
    const context = new VllmModelContext(
      { baseUrl: server.url, model: MODEL },
      { ttlMs: 1000, now: () => now },
    );

    expect(await Promise.all([context.maxModelLen(), context.maxModelLen(), context.maxModelLen()])).toEqual([
      8192, 8192, 8192,
    ]);
    expect(server.hits.get('/v1/models')).toBe(1);
    now = 999;
    await context.maxModelLen();
    expect(server.hits.get('/v1/models')).toBe(1);
    now = 1000;
    await context.maxModelLen();
    expect(server.hits.get('/v1/models')).toBe(2);
    context.forget();
    await context.maxModelLen();
    expect(server.hits.get('/v1/models')).toBe(3);
  });

  it('uses VLLM_MAX_MODEL_LEN without asking vLLM, and asks for it when the server reports none', async () => {
    const silent = await stub(200, { object: 'list', data: [{ id: MODEL }] });
    expect(
      await new VllmModelContext({ baseUrl: silent.url, model: MODEL, maxModelLen: 4096 }).maxModelLen(),
    ).toBe(4096);
    expect(silent.hits.size).toBe(0);

    await expect(
      new VllmModelContext({ baseUrl: silent.url, model: MODEL }).maxModelLen(),
    ).rejects.toMatchObject({
      kind: 'configuration',
      configCause: 'context-length',
      message: expect.stringContaining('set VLLM_MAX_MODEL_LEN'),
    });
  });

  it('treats an unreachable or failing model list as an outage (VllmUnavailable), not a configuration error', async () => {
    const down = await generate(deps('http://127.0.0.1:1'));
    const failing = await generate(deps((await stub(503, { error: 'busy' })).url));

    for (const { failure, configErrors } of [down, failing]) {
      expect(failure).toMatchObject({ type: FailureTypes.VllmUnavailable, nonRetryable: false });
      expect(configErrors).toEqual([]);
    }
  });
});

describe('VllmConfigStatus', () => {
  it('keeps the time a cause was first seen, and forgets a problem not seen again for a while', () => {
    let now = Date.parse('2026-12-07T10:00:00Z');
    const status = new VllmConfigStatus({ now: () => now, forgetAfterMs: 60_000 });
    status.failed('model-not-found', 'first');
    now += 30_000;
    status.failed('model-not-found', 'second');
    expect(status.current()).toEqual({
      cause: 'model-not-found',
      message: 'second',
      since: '2026-12-07T10:00:00.000Z',
    });
    now += 30_000;
    status.failed('unauthorized', 'key');
    expect(status.current()?.since).toBe('2026-12-07T10:01:00.000Z');
    now += 60_001;
    expect(status.current()).toBeUndefined();
  });
});
