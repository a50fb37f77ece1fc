import { problemsOf } from '../support/config';
import { loadConfig, vllmUrls } from '../../src/config';

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
    expect(config.policy).toMatchObject({ generateTimeoutSeconds: 60, deliveryMode: 'callback' });
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
      'AWS_SQS_FEEDBACK_QUEUE_URL: required for this process',
      'AWS_SQS_FEEDBACK_DLQ_URL: required for this process',
      'BE_CALLBACK_BASE_URL: required when DELIVERY_MODE=callback',
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
