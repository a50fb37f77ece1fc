/**
 * The prompt budget end to end (issue: a request the schema accepts must never be one vLLM refuses):
 * the vLLM simulator serves a small context (4096 tokens, counted with Mistral's v3 tokenizer) and
 * reports it on /v1/models; a member with 100 personal challenges of 200-character titles, whose
 * full listing is several times that context, gets one real feedback through the API, the bridge and
 * the worker, and vLLM is never asked for more than its context.
 */
import { buildPromptMessages } from '../../src/domain/prompt';
import { validateFeedbackRequest } from '../../src/domain/request';
import { chatPromptTokens } from '../../src/shared/mistral-tokenizer';
import { acceptedRequest } from '../support/accepted';
import { startPipeline, workflowResult, type Pipeline } from '../support/pipeline';
import { worstCaseRequest } from '../support/requests';

const MAX_MODEL_LEN = 4096;
const STATUS_CODE = /^[45][0-9][0-9]$/;

let pipeline: Pipeline;

beforeAll(async () => {
  pipeline = await startPipeline('prompt-budget', 'queue', { simulator: { maxModelLen: MAX_MODEL_LEN } });
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
});

it('answers a request whose full listing is over the context with one real feedback', async () => {
  const memberId = 4_000_000 + Math.floor(Math.random() * 900_000);
  // The personal half of the worst case: about 60 KB, under the emulator's 256 KiB message limit.
  const request = { memberId, personalChallenges: worstCaseRequest(memberId).personalChallenges };
  const parsed = validateFeedbackRequest(request);
  if (!parsed.ok) throw new Error(`the request must be valid: ${JSON.stringify(parsed.errors)}`);
  const fullTokens = chatPromptTokens(buildPromptMessages(parsed.value));
  expect(fullTokens).toBeGreaterThan(2 * MAX_MODEL_LEN);

  const { workflowId } = await acceptedRequest(
    await fetch(`${pipeline.apiUrl}/ai/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    }),
  );
  await workflowResult(pipeline.temporal, workflowId);

  const results = await pipeline.results.waitFor((m) => JSON.parse(m.Body ?? '{}').memberId === memberId);
  expect(results).toHaveLength(1);
  expect((JSON.parse(results[0].Body ?? '{}') as { content: string }).content).not.toMatch(STATUS_CODE);

  // What vLLM was asked: answered (no 400), within its context, the rest summarised in one line.
  const summaries = (await (await fetch(`${pipeline.simulatorUrl}/sim/requests`)).json()) as Array<{
    status: number;
    prompt: string;
  }>;
  const asked = summaries.filter((r) => r.prompt.includes('개인 1번'));
  expect(asked.length).toBeGreaterThan(0);
  for (const r of asked) {
    expect(r.status).toBe(200);
    expect(chatPromptTokens([{ role: 'user', content: r.prompt }])).toBeLessThanOrEqual(
      MAX_MODEL_LEN - pipeline.config.vllm.maxTokens,
    );
    expect(r.prompt).toMatch(/외 \d+개 챌린지, 성공 \d+\/\d+/);
  }
});
