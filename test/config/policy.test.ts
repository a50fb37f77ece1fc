/**
 * The run policy section (src/config/policy.ts): each variable reaches its policy field, the default
 * policy is the schema's, where results go and which settings are refused or warned about, and the
 * prompt's version.
 */
import { createHash } from 'node:crypto';
import { problemsOf } from '../support/config';
import { DEFAULT_POLICY, deliveryWarnings, loadConfig } from '../../src/config';
import { deliveryProblems, policySection } from '../../src/config/policy';
import { DEFAULT_PROMPT_VERSION } from '../../src/domain/prompt';

const RESULT_QUEUE =
  'https://sqs.ap-northeast-2.amazonaws.com/123456789012/leafresh-sqs-feedback-result.fifo';
const TEMPLATE = '지난주 개인 챌린지: {personal_challenges}\n단체 챌린지: {group_challenges}';

describe('the run policy', () => {
  it('takes each setting from its own variable', () => {
    const { policy } = loadConfig({
      VLLM_TIMEOUT_SECONDS: '31',
      VLLM_HEARTBEAT_SECONDS: '7',
      VLLM_RETRY_INITIAL_SECONDS: '3',
      VLLM_RETRY_MAX_INTERVAL_SECONDS: '45',
      VLLM_GIVE_UP_AFTER_MINUTES: '90',
      FEEDBACK_MAX_REGENERATIONS: '4',
      FEEDBACK_MAX_CHARS: '700',
      DELIVERY_TIMEOUT_SECONDS: '12',
      DELIVERY_RETRY_MAX_INTERVAL_SECONDS: '120',
      DELIVERY_GIVE_UP_AFTER_HOURS: '48',
      DELIVERY_MODE: 'both',
      CALLBACK_POST_FAILURES: 'yes',
      FEEDBACK_FAILURE_HOLD_SECONDS: '400',
      BE_TIME_ZONE: 'Asia/Seoul',
      REQUEST_MAX_AGE_MINUTES: '60',
      LLM_TASK_QUEUE: 'gpu-llm',
    });
    expect(policy).toEqual({
      generateTimeoutSeconds: 31,
      generateHeartbeatSeconds: 7,
      generateRetryInitialSeconds: 3,
      generateRetryMaxIntervalSeconds: 45,
      generateGiveUpAfterMinutes: 90,
      maxRegenerations: 4,
      maxFeedbackChars: 700,
      deliveryTimeoutSeconds: 12,
      deliveryRetryMaxIntervalSeconds: 120,
      deliveryGiveUpAfterHours: 48,
      deliveryMode: 'both',
      postFailuresToCallback: true,
      failureHoldSeconds: 400,
      beTimeZone: 'Asia/Seoul',
      llmTaskQueue: 'gpu-llm',
      maxAgeMinutes: 60,
    });
  });

  it("DEFAULT_POLICY is the schema's defaults, expiry included, with the LLM calls on the run's own task queue", () => {
    const { llmTaskQueue, ...configured } = loadConfig({}).policy;
    expect(llmTaskQueue).toBe('leafresh-feedback-llm');
    expect(DEFAULT_POLICY).toEqual(configured);
    expect(DEFAULT_POLICY).not.toHaveProperty('llmTaskQueue');
    expect(DEFAULT_POLICY).toMatchObject({
      generateTimeoutSeconds: 60,
      maxRegenerations: 2,
      deliveryMode: 'queue',
      postFailuresToCallback: false,
      failureHoldSeconds: 330,
      beTimeZone: 'UTC',
      maxAgeMinutes: 72 * 60,
    });
  });

  it("takes the BE's time zone as an IANA name (UTC when unset or empty) and refuses an unknown one", () => {
    expect(loadConfig({ BE_TIME_ZONE: '' }).policy.beTimeZone).toBe('UTC');
    expect(loadConfig({ BE_TIME_ZONE: 'Asia/Seoul' }).policy.beTimeZone).toBe('Asia/Seoul');
    expect(() => loadConfig({ BE_TIME_ZONE: 'Mars/Olympus' })).toThrow(/BE_TIME_ZONE/);
  });

  it('the policy section alone leaves the LLM task queue out (the run then uses its own task queue)', () => {
    expect(Object.keys(policySection.parse({}))).not.toContain('llmTaskQueue');
  });

  it('accepts REQUEST_MAX_AGE_MINUTES=0 (never expires: 0 or absent), and rejects out-of-range values by name', () => {
    expect(loadConfig({ REQUEST_MAX_AGE_MINUTES: '0' }).policy.maxAgeMinutes ?? 0).toBe(0);
    const problems = problemsOf(() =>
      loadConfig({ FEEDBACK_MAX_REGENERATIONS: '11', FEEDBACK_MAX_CHARS: '49', VLLM_TIMEOUT_SECONDS: '0' }),
    );
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'FEEDBACK_MAX_CHARS',
      'FEEDBACK_MAX_REGENERATIONS',
      'VLLM_TIMEOUT_SECONDS',
    ]);
  });
});

describe('delivery settings', () => {
  it('carries the callback settings; the mode is the policy’s alone', () => {
    const { delivery, policy } = loadConfig({
      DELIVERY_MODE: 'callback',
      BE_CALLBACK_BASE_URL: 'http://be:8080',
      BE_CALLBACK_AUTHORIZATION: 'Bearer be-token',
      BE_CALLBACK_SIGNING_SECRET: 's'.repeat(32),
    });
    expect(policy.deliveryMode).toBe('callback');
    expect(delivery).toEqual({
      callbackBaseUrl: 'http://be:8080',
      callbackAuthorization: 'Bearer be-token',
      callbackSigningSecret: 's'.repeat(32),
    });
  });

  it('refuses a short signing secret without echoing it', () => {
    const problems = problemsOf(() => loadConfig({ BE_CALLBACK_SIGNING_SECRET: 'short-s3cret' }));
    expect(problems).toEqual([expect.stringMatching(/^BE_CALLBACK_SIGNING_SECRET: .*32 characters/)]);
    expect(problems.join('\n')).not.toContain('short-s3cret');
  });

  it('requires what each delivery mode sends to: the callback URL, the result queue, or both', () => {
    const callbackBaseUrl = 'http://be:8080';
    expect(deliveryProblems('callback', { resultQueueUrl: RESULT_QUEUE })).toEqual([
      'BE_CALLBACK_BASE_URL: required when DELIVERY_MODE=callback',
    ]);
    expect(deliveryProblems('callback', { callbackBaseUrl })).toEqual([]);
    expect(deliveryProblems('queue', { resultQueueUrl: RESULT_QUEUE })).toEqual([]);
    expect(deliveryProblems('queue', {})).toEqual([
      'AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: required when DELIVERY_MODE=queue',
    ]);
    expect(deliveryProblems('both', { callbackBaseUrl, resultQueueUrl: RESULT_QUEUE })).toEqual([]);
  });

  it('only a process that delivers requires them', () => {
    expect(() => loadConfig({ DELIVERY_MODE: 'callback' })).not.toThrow();
    expect(problemsOf(() => loadConfig({ DELIVERY_MODE: 'callback' }, ['delivery']))).toEqual([
      'BE_CALLBACK_BASE_URL: required when DELIVERY_MODE=callback',
    ]);
  });
});

describe('deliveryWarnings', () => {
  it('says nothing about posting failures to the callback when results go to the queue only', () => {
    expect(deliveryWarnings(loadConfig({ DELIVERY_MODE: 'queue', CALLBACK_POST_FAILURES: 'true' }))).toEqual(
      [],
    );
    expect(deliveryWarnings(loadConfig({ DELIVERY_MODE: 'callback' }))).toEqual([]);
  });

  it('gives both warnings for both channels with failures posted to the callback', () => {
    expect(deliveryWarnings(loadConfig({ DELIVERY_MODE: 'both', CALLBACK_POST_FAILURES: '1' }))).toEqual([
      expect.stringMatching(/^DELIVERY_MODE=both is unsafe/),
      expect.stringMatching(/^CALLBACK_POST_FAILURES=true: /),
    ]);
  });
});

describe('the prompt', () => {
  it('is the built-in template at DEFAULT_PROMPT_VERSION by default', () => {
    expect(loadConfig({}).prompt).toEqual({ template: undefined, version: DEFAULT_PROMPT_VERSION });
  });

  it('versions a custom template by its content: custom-<first 12 hex digits of its SHA-256>', () => {
    const { prompt } = loadConfig({ FEEDBACK_PROMPT_TEMPLATE: TEMPLATE });
    const hash = createHash('sha256').update(TEMPLATE, 'utf8').digest('hex').slice(0, 12);
    expect(prompt).toEqual({ template: TEMPLATE, version: `custom-${hash}` });
    const changed = loadConfig({ FEEDBACK_PROMPT_TEMPLATE: `${TEMPLATE}\n짧게 써주세요.` }).prompt.version;
    expect(changed).toMatch(/^custom-[0-9a-f]{12}$/);
    expect(changed).not.toBe(prompt.version);
  });

  it('takes FEEDBACK_PROMPT_VERSION over the derived one, and refuses characters a search could not match', () => {
    expect(
      loadConfig({ FEEDBACK_PROMPT_TEMPLATE: TEMPLATE, FEEDBACK_PROMPT_VERSION: 'v4:be.week_2' }).prompt
        .version,
    ).toBe('v4:be.week_2');
    expect(problemsOf(() => loadConfig({ FEEDBACK_PROMPT_VERSION: "v4' OR 1=1" }))).toEqual([
      expect.stringMatching(/^FEEDBACK_PROMPT_VERSION: /),
    ]);
  });
});

describe("the BE's zone (BE_TIME_ZONE)", () => {
  it('is UTC by default and takes an IANA zone', () => {
    expect(loadConfig({}).policy.beTimeZone).toBe('UTC');
    expect(loadConfig({ BE_TIME_ZONE: 'Asia/Seoul' }).policy.beTimeZone).toBe('Asia/Seoul');
    expect(problemsOf(() => loadConfig({ BE_TIME_ZONE: 'Korea Time' }))).toEqual([
      expect.stringMatching(/^BE_TIME_ZONE: must be an IANA time zone/),
    ]);
  });
});
