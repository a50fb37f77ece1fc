import { createVllmSimulator, type SimulatorOptions, type VllmSimulator } from '../../dev/vllm-simulator';
import { chatPromptTokens, countTokens } from '../../src/shared/mistral-tokenizer';

const MODEL = 'mistralai/Mistral-7B-Instruct-v0.3';
const HANGUL = /[\uAC00-\uD7A3]/;

const SAMPLE_PROMPT = [
  '다음은 사용자의 이번 주 챌린지 기록입니다. 따뜻한 한국어 피드백을 2~4문장으로 작성해 주세요.',
  '',
  '개인 챌린지:',
  '- 텀블러 사용하기 (성공)',
  '- 대중교통 이용하기 (실패)',
  '',
  '단체 챌린지:',
  '- 제로웨이스트 플로깅',
  '  기간: 2025-05-01 ~ 2025-05-31',
  '  최근 일주일 성공률: 2/3',
].join('\n');

interface ChatCompletion {
  id: string;
  object: string;
  model: string;
  choices: Array<{ index: number; message: { role: string; content: string }; finish_reason: string }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

const started: VllmSimulator[] = [];

async function start(options: Partial<SimulatorOptions> = {}) {
  const simulator = createVllmSimulator({ maxNumSeqs: 4, latencyMs: 5, ...options });
  started.push(simulator);
  const { url } = await simulator.listen(0);
  return { simulator, url };
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((simulator) => simulator.close()));
});

function post(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
}

function chat(baseUrl: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return post(`${baseUrl}/v1/chat/completions`, body, signal);
}

function userMessage(content: string) {
  return { model: MODEL, messages: [{ role: 'user', content }] };
}

async function contentOf(response: Response): Promise<string> {
  expect(response.status).toBe(200);
  const completion = (await response.json()) as ChatCompletion;
  return completion.choices[0].message.content;
}

/** Polls `condition`; the deadline only ends a failing wait (other jest workers may slow this one). */
async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function metricValue(metrics: string, name: string): number {
  const line = metrics.split('\n').find((candidate) => candidate.startsWith(`${name}{`));
  return Number(line?.split(' ').at(-1));
}

describe('vLLM simulator', () => {
  it('answers in the OpenAI chat completion shape and marks the response as coming from the simulator', async () => {
    const { url } = await start();

    const response = await chat(url, userMessage(SAMPLE_PROMPT));

    expect(response.status).toBe(200);
    expect(response.headers.get('x-vllm-simulator')).toBe('1');
    const completion = (await response.json()) as ChatCompletion;
    expect(completion.id).toMatch(/^chatcmpl-sim-\d+$/);
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe(MODEL);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]).toMatchObject({
      index: 0,
      message: { role: 'assistant' },
      finish_reason: 'stop',
    });
    const { prompt_tokens, completion_tokens, total_tokens } = completion.usage;
    expect(prompt_tokens).toBeGreaterThan(0);
    expect(completion_tokens).toBeGreaterThan(0);
    expect(total_tokens).toBe(prompt_tokens + completion_tokens);
  });

  it('mentions every personal and group challenge title of the prompt in a Korean answer', async () => {
    const { url } = await start();

    const content = await contentOf(await chat(url, userMessage(SAMPLE_PROMPT)));

    expect(content).toMatch(HANGUL);
    expect(content).toContain('🌱');
    for (const title of ['텀블러 사용하기', '대중교통 이용하기', '제로웨이스트 플로깅']) {
      expect(content).toContain(title);
    }
  });

  it('answers a prompt without challenge titles with a generic Korean encouragement', async () => {
    const { url } = await start();

    const content = await contentOf(await chat(url, userMessage('이번 주 기록이 없습니다.')));

    expect(content).toMatch(HANGUL);
    expect(content.length).toBeGreaterThan(20);
  });

  it('answers the same prompt with the same content every time', async () => {
    const { url } = await start();

    const first = await contentOf(await chat(url, userMessage(SAMPLE_PROMPT)));
    const second = await contentOf(await chat(url, userMessage(SAMPLE_PROMPT)));

    expect(second).toBe(first);
  });

  it('cuts the answer to about max_tokens and reports finish_reason length', async () => {
    const { url } = await start();

    const response = await chat(url, { ...userMessage(SAMPLE_PROMPT), max_tokens: 5 });

    const completion = (await response.json()) as ChatCompletion;
    expect(completion.choices[0].finish_reason).toBe('length');
    expect(completion.usage.completion_tokens).toBeLessThanOrEqual(5);
  });

  it("counts prompt and completion tokens with Mistral's v3 tokenizer and chat template, as vLLM does", async () => {
    const { url } = await start();

    const response = await chat(url, userMessage('매일 아침 10분 걷기 챌린지 (성공)'));

    const completion = (await response.json()) as ChatCompletion;
    // mistral-common counts this one-message chat request at 32 tokens (test/shared/mistral-tokenizer.test.ts).
    expect(completion.usage.prompt_tokens).toBe(32);
    expect(completion.usage.completion_tokens).toBe(countTokens(completion.choices[0].message.content));
  });

  it("answers a prompt that leaves no room in max_model_len with vLLM v0.11.0's 400 (--tokenizer-mode mistral)", async () => {
    const { url } = await start({ maxModelLen: 512 });
    const prompt = `${SAMPLE_PROMPT}\n${'- 매일 아침 10분 걷기 챌린지 (성공)\n'.repeat(20)}`;
    const promptTokens = chatPromptTokens([{ role: 'user', content: prompt }]);
    expect(promptTokens).toBeGreaterThan(512);

    const response = await chat(url, { ...userMessage(prompt), max_tokens: 256 });

    // vLLM cuts the completion budget to max_model_len − prompt tokens (entrypoints/utils.py
    // get_max_tokens); SamplingParams refuses what is left (sampling_params.py): exactly this body.
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        message: `max_tokens must be at least 1, got ${512 - promptTokens}.`,
        type: 'BadRequestError',
        param: null,
        code: 400,
      },
    });
  });

  it('cuts the completion budget to what max_model_len leaves beside the prompt, as vLLM v0.11.0 does', async () => {
    const promptTokens = chatPromptTokens([{ role: 'user', content: SAMPLE_PROMPT }]);
    const { url } = await start({ maxModelLen: promptTokens + 4 });

    const response = await chat(url, { ...userMessage(SAMPLE_PROMPT), max_tokens: 512 });

    const completion = (await response.json()) as ChatCompletion;
    expect(response.status).toBe(200);
    expect(completion.choices[0].finish_reason).toBe('length');
    expect(completion.usage.prompt_tokens).toBe(promptTokens);
    expect(completion.usage.completion_tokens).toBeLessThanOrEqual(4);
  });

  it("answers /v1 routes without the right key with vLLM's 401 when it has an API key, like vllm serve --api-key", async () => {
    const { url } = await start({ apiKey: 'sim-key' });

    const without = await chat(url, userMessage(SAMPLE_PROMPT));
    const wrong = await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer other' } });
    const right = await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer sim-key' } });

    expect(without.status).toBe(401);
    expect(await without.json()).toEqual({ error: 'Unauthorized' });
    expect(wrong.status).toBe(401);
    expect(right.status).toBe(200);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('rejects two system messages with 400 in the new error shape', async () => {
    const { url } = await start();

    const response = await chat(url, {
      model: MODEL,
      messages: [
        { role: 'system', content: '너는 친절한 환경 코치야.' },
        { role: 'system', content: '짧게 답해.' },
        { role: 'user', content: SAMPLE_PROMPT },
      ],
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { message: expect.any(String), type: 'BadRequestError', param: null, code: 400 },
    });
  });

  it.each([
    ['an empty message list', []],
    ['a conversation that starts with the assistant', [{ role: 'assistant', content: '안녕하세요' }]],
    [
      'two user messages in a row',
      [
        { role: 'user', content: '하나' },
        { role: 'user', content: '둘' },
      ],
    ],
    [
      'a conversation that ends with the assistant',
      [
        { role: 'user', content: '하나' },
        { role: 'assistant', content: '둘' },
      ],
    ],
  ])('rejects %s with 400', async (_case, messages) => {
    const { url } = await start();

    const response = await chat(url, { model: MODEL, messages });

    expect(response.status).toBe(400);
  });

  it('rejects a body that is not JSON with 400', async () => {
    const { url } = await start();

    const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{not json' });

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('BadRequestError');
  });

  it('rejects an unknown model with 404 in the new error shape', async () => {
    const { url } = await start();

    const response = await chat(url, { ...userMessage(SAMPLE_PROMPT), model: 'gpt-4o' });

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { message: expect.stringContaining('gpt-4o'), type: 'NotFoundError', param: null, code: 404 },
    });
  });

  it('answers 500 in the old flat error shape for the two requests of an error500 fault with count 2, then 200', async () => {
    const { simulator, url } = await start();
    simulator.setFaults([{ kind: 'error500', count: 2 }]);

    const responses = [];
    for (let i = 0; i < 3; i++) responses.push(await chat(url, userMessage(SAMPLE_PROMPT)));

    for (const response of responses.slice(0, 2)) {
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({
        object: 'error',
        message: expect.any(String),
        type: 'InternalServerError',
        param: null,
        code: 500,
      });
    }
    expect(responses[2].status).toBe(200);
    expect(simulator.stats().faultsInjected).toEqual({ error500: 2 });
  });

  it("answers vLLM's 401 body once under an unauthorized fault with count 1, then 200", async () => {
    const { simulator, url } = await start();
    simulator.setFaults([{ kind: 'unauthorized', count: 1 }]);

    const refused = await chat(url, userMessage(SAMPLE_PROMPT));
    const accepted = await chat(url, userMessage(SAMPLE_PROMPT));

    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: 'Unauthorized' });
    expect(accepted.status).toBe(200);
    expect(simulator.stats().faultsInjected).toEqual({ unauthorized: 1 });
  });

  it('answers with the full text of the last user message under the echo fault', async () => {
    const { simulator, url } = await start();
    simulator.setFaults([{ kind: 'echo', count: 1 }]);

    const response = await chat(url, {
      model: MODEL,
      messages: [
        { role: 'system', content: '너는 친절한 환경 코치야.' },
        { role: 'user', content: '첫 질문' },
        { role: 'assistant', content: '첫 답변' },
        { role: 'user', content: SAMPLE_PROMPT },
      ],
    });

    expect(await contentOf(response)).toBe(SAMPLE_PROMPT);
  });

  it('runs at most maxNumSeqs requests at once and shows the rest waiting in /metrics', async () => {
    const { simulator, url } = await start({ maxNumSeqs: 2, latencyMs: 200 });
    const startedAt = Date.now();

    const pending = Promise.all(
      Array.from({ length: 6 }, (_, i) => chat(url, userMessage(`${SAMPLE_PROMPT}\n요청 ${i}`))),
    );
    await waitFor(() => simulator.stats().running + simulator.stats().waiting === 6);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const responses = await pending;
    const elapsedMs = Date.now() - startedAt;

    expect(metricValue(metrics, 'vllm:num_requests_running')).toBe(2);
    expect(metricValue(metrics, 'vllm:num_requests_waiting')).toBeGreaterThan(0);
    expect(metrics).toContain('# TYPE vllm:num_requests_waiting gauge');
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200, 200]);
    // Three rounds of two at 200 ms each: 600 ms at least (a lower bound: load only adds to it).
    expect(elapsedMs).toBeGreaterThanOrEqual(550);
    expect(simulator.stats().maxRunningSeen).toBe(2);
  });

  it('frees the slot of a hanging request when its client aborts, so the waiting request completes', async () => {
    const { simulator, url } = await start({ maxNumSeqs: 1, latencyMs: 20 });
    simulator.setFaults([{ kind: 'hang', count: 1 }]);
    const controller = new AbortController();

    const hanging = chat(url, userMessage('첫 요청'), controller.signal).catch((error: unknown) => error);
    await waitFor(() => simulator.stats().running === 1);
    const queued = chat(url, userMessage('둘째 요청'));
    await waitFor(() => simulator.stats().waiting === 1);
    // Proves a non-event: 100 ms is five times the latency, long enough for a request that did not
    // hang to have completed and handed its slot on; neither may happen before the abort.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(simulator.stats()).toMatchObject({ running: 1, waiting: 1, completed: 0 });

    controller.abort();

    expect((await queued).status).toBe(200);
    expect(((await hanging) as Error).name).toBe('AbortError');
    const [hangingRecord, queuedRecord] = simulator.stats().requests;
    expect(hangingRecord.status).toBeUndefined();
    expect(queuedRecord.status).toBe(200);
  });

  it('lists the served model owned by vllm-simulator on /v1/models', async () => {
    const { url } = await start({ maxModelLen: 8192 });

    const response = await fetch(`${url}/v1/models`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      object: 'list',
      data: [{ id: MODEL, object: 'model', owned_by: 'vllm-simulator', max_model_len: 8192 }],
    });
  });

  it('applies faults set through the /sim/faults admin route and reports them on /sim/stats', async () => {
    const { url } = await start();

    const setResponse = await post(`${url}/sim/faults`, { rules: [{ kind: 'english', count: 1 }] });
    const faulty = await contentOf(await chat(url, userMessage(SAMPLE_PROMPT)));
    const normal = await contentOf(await chat(url, userMessage(SAMPLE_PROMPT)));
    const stats = (await (await fetch(`${url}/sim/stats`)).json()) as Record<string, unknown>;

    expect(setResponse.status).toBe(200);
    expect(await setResponse.json()).toEqual({ ok: true });
    expect(faulty).not.toMatch(HANGUL);
    expect(normal).toMatch(HANGUL);
    expect(stats).toMatchObject({ received: 2, completed: 2, faultsInjected: { english: 1 } });
    expect(stats).not.toHaveProperty('requests');
  });

  it('rejects an unknown fault kind on the /sim/faults admin route with 400', async () => {
    const { url } = await start();

    const response = await post(`${url}/sim/faults`, { rules: [{ kind: 'explode' }] });

    expect(response.status).toBe(400);
  });

  it('answers unknown paths with 404 in the new error shape', async () => {
    const { url } = await start();

    const response = await fetch(`${url}/v1/completions`);

    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('NotFoundError');
  });
});
