import { problemsOf } from '../support/config';
import { deliveryWarnings, loadConfig, vllmUrls } from '../../src/config';

const QUEUES = {
  AWS_SQS_FEEDBACK_QUEUE_URL:
    'https://sqs.ap-northeast-2.amazonaws.com/123456789012/leafresh-sqs-feedback.fifo',
  AWS_SQS_FEEDBACK_DLQ_URL:
    'https://sqs.ap-northeast-2.amazonaws.com/123456789012/leafresh-sqs-feedback-dlq.fifo',
};

describe('configuration', () => {
  it('has local defaults for everything a process does not require', () => {
    const config = loadConfig({});
    expect(config.api.port).toBe(8000);
    expect(config.temporal).toMatchObject({
      address: 'localhost:7233',
      namespace: 'default',
      taskQueue: 'leafresh-feedback',
    });
    expect(config.vllm).toMatchObject({
      chatCompletionsUrl: 'http://localhost:8800/v1/chat/completions',
      temperature: 0.7,
    });
    // The BE's production path: its result-queue subscriber understands "500".
    expect(config.policy).toMatchObject({
      generateTimeoutSeconds: 60,
      deliveryMode: 'queue',
      postFailuresToCallback: false,
      failureHoldSeconds: 330,
    });
  });

  it("accepts the BE's queue variable names, so one configuration map serves both services", () => {
    const request = QUEUES.AWS_SQS_FEEDBACK_QUEUE_URL;
    const resultDlq =
      'https://sqs.ap-northeast-2.amazonaws.com/123456789012/leafresh-sqs-feedback-result-dlq.fifo';
    const config = loadConfig(
      { AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL: request, AWS_SQS_FEEDBACK_RESULT_DLQ_QUEUE_URL: resultDlq },
      ['requestQueue'],
    );
    expect(config.sqs).toMatchObject({ requestQueueUrl: request, resultDlqUrl: resultDlq });
    expect(
      problemsOf(() =>
        loadConfig({ ...QUEUES, AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL: `${request}-other` }, ['requestQueue']),
      ),
    ).toEqual([
      'AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL: differs from AWS_SQS_FEEDBACK_QUEUE_URL (set one, or both to the same queue)',
    ]);
  });

  it("reads the model's context from vLLM unless VLLM_MAX_MODEL_LEN overrides it, which must leave room beside VLLM_MAX_TOKENS", () => {
    expect(loadConfig({}).vllm.maxModelLen).toBeUndefined();
    expect(loadConfig({ VLLM_MAX_MODEL_LEN: '8192' }).vllm.maxModelLen).toBe(8192);
    expect(problemsOf(() => loadConfig({ VLLM_MAX_MODEL_LEN: '512' }))).toEqual([
      'VLLM_MAX_MODEL_LEN: must be above VLLM_MAX_TOKENS (the prompt and the answer share the context)',
    ]);
    expect(problemsOf(() => loadConfig({ VLLM_MAX_MODEL_LEN: 'lots' }))).toEqual([
      expect.stringMatching(/^VLLM_MAX_MODEL_LEN: /),
    ]);
  });

  it('warns at start about delivering to both channels and posting failures to the callback', () => {
    expect(deliveryWarnings(loadConfig({}))).toEqual([]);
    expect(deliveryWarnings(loadConfig({ DELIVERY_MODE: 'both' }))).toEqual([
      expect.stringMatching(/^DELIVERY_MODE=both is unsafe with the Leafresh BE: .* two feedbacks/),
    ]);
    expect(
      deliveryWarnings(loadConfig({ DELIVERY_MODE: 'callback', CALLBACK_POST_FAILURES: 'true' })),
    ).toEqual([
      expect.stringMatching(/^CALLBACK_POST_FAILURES=true: the Leafresh BE stores any callback content/),
    ]);
  });

  it('accepts the vLLM base URL, the /v1 URL or the full chat-completions URL', () => {
    const expected = 'http://gpu:8800/v1/chat/completions';
    for (const raw of [
      'http://gpu:8800',
      'http://gpu:8800/',
      'http://gpu:8800/v1',
      'http://gpu:8800/v1/chat/completions',
    ]) {
      expect(vllmUrls(raw).chatCompletionsUrl).toBe(expected);
    }
  });

  it('stops with a message naming each missing setting a process requires', () => {
    const problems = problemsOf(() => loadConfig({}, ['requestQueue', 'dlq', 'delivery']));
    expect(problems).toEqual([
      'AWS_SQS_FEEDBACK_QUEUE_URL (or AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL): required for this process',
      'AWS_SQS_FEEDBACK_DLQ_URL: required for this process',
      'AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: required when DELIVERY_MODE=queue',
    ]);
    expect(problemsOf(() => loadConfig({ ...QUEUES, DELIVERY_MODE: 'both' }, ['delivery']))).toEqual([
      'BE_CALLBACK_BASE_URL: required when DELIVERY_MODE=both',
      'AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: required when DELIVERY_MODE=both',
    ]);
  });

  it('rejects malformed values with the variable name and without echoing secrets', () => {
    const problems = problemsOf(() =>
      loadConfig({
        API_PORT: 'eighty',
        DELIVERY_MODE: 'pigeon',
        VLLM_API_URL: 'not a url',
        BE_CALLBACK_AUTHORIZATION: 'Bearer s3cret',
      }),
    );
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'API_PORT',
      'DELIVERY_MODE',
      'VLLM_API_URL',
    ]);
    expect(problems.join('\n')).not.toContain('s3cret');
  });

  it('requires both placeholders in a custom prompt template', () => {
    const problems = problemsOf(() =>
      loadConfig({ FEEDBACK_PROMPT_TEMPLATE: '요약해주세요: {personal_challenges}' }),
    );
    expect(problems).toEqual([expect.stringMatching(/^FEEDBACK_PROMPT_TEMPLATE: .*\{group_challenges\}/)]);
  });
});
