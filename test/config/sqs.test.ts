/**
 * The SQS section (src/config/sqs.ts): the request queue under our name or the BE's, and the queues a
 * process is given.
 */
import { problemsOf } from '../support/config';
import { loadConfig } from '../../src/config';

const QUEUE = 'https://sqs.ap-northeast-2.amazonaws.com/123456789012/leafresh-sqs-feedback.fifo';
const OTHER = 'https://sqs.ap-northeast-2.amazonaws.com/123456789012/leafresh-sqs-other.fifo';
const CONFLICT =
  'AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL: differs from AWS_SQS_FEEDBACK_QUEUE_URL (set one, or both to the same queue)';

describe('the request queue', () => {
  it('is AWS_SQS_FEEDBACK_QUEUE_URL, or the BE’s AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL', () => {
    expect(loadConfig({ AWS_SQS_FEEDBACK_QUEUE_URL: QUEUE }).sqs.requestQueueUrl).toBe(QUEUE);
    expect(loadConfig({ AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL: QUEUE }).sqs.requestQueueUrl).toBe(QUEUE);
    expect(loadConfig({}).sqs.requestQueueUrl).toBeUndefined();
  });

  it('accepts both names set to the same queue', () => {
    const config = loadConfig(
      { AWS_SQS_FEEDBACK_QUEUE_URL: QUEUE, AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL: QUEUE },
      ['requestQueue'],
    );
    expect(config.sqs.requestQueueUrl).toBe(QUEUE);
  });

  it('stops every process, not only the ones that read requests, when the two names differ', () => {
    const env = { AWS_SQS_FEEDBACK_QUEUE_URL: QUEUE, AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL: OTHER };
    expect(problemsOf(() => loadConfig(env))).toEqual([CONFLICT]);
    expect(problemsOf(() => loadConfig(env, ['delivery']))).toEqual([
      CONFLICT,
      'AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: required when DELIVERY_MODE=queue',
    ]);
  });

  it('reads an empty value of either name (compose’s ${VAR:-}) as unset: no conflict, the other one counts', () => {
    expect(
      loadConfig({ AWS_SQS_FEEDBACK_QUEUE_URL: '', AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL: QUEUE }, [
        'requestQueue',
      ]).sqs.requestQueueUrl,
    ).toBe(QUEUE);
    expect(
      loadConfig({ AWS_SQS_FEEDBACK_QUEUE_URL: QUEUE, AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL: '' }, [
        'requestQueue',
      ]).sqs.requestQueueUrl,
    ).toBe(QUEUE);
    expect(problemsOf(() => loadConfig({ AWS_SQS_FEEDBACK_QUEUE_URL: '' }, ['requestQueue']))).toEqual([
      'AWS_SQS_FEEDBACK_QUEUE_URL (or AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL): required for this process',
    ]);
  });
});

it('gives a process the region, the emulator endpoint, every queue and the request timeout', () => {
  const config = loadConfig({
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SQS: 'http://localhost:9324',
    AWS_SQS_FEEDBACK_QUEUE_URL: QUEUE,
    AWS_SQS_FEEDBACK_DLQ_URL: `${QUEUE}-dlq`,
    AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: `${QUEUE}-result`,
    AWS_SQS_FEEDBACK_RESULT_DLQ_QUEUE_URL: `${QUEUE}-result-dlq`,
    SQS_REQUEST_TIMEOUT_MS: '5000',
  });
  expect(config.sqs).toEqual({
    region: 'us-east-1',
    endpoint: 'http://localhost:9324',
    requestQueueUrl: QUEUE,
    dlqUrl: `${QUEUE}-dlq`,
    resultQueueUrl: `${QUEUE}-result`,
    resultDlqUrl: `${QUEUE}-result-dlq`,
    requestTimeoutMs: 5000,
  });
  expect(loadConfig({}).sqs).toMatchObject({ region: 'ap-northeast-2', requestTimeoutMs: 3000 });
});
