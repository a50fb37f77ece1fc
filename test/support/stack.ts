/**
 * Endpoints of the local test infrastructure that `npm test` starts (scripts/infra.sh start test).
 * Tests read them from the file the script writes, not from the environment.
 *
 * `npm test` starts the stack empty (it restarts one it finds running), but jest run directly uses
 * whatever stack runs, with every earlier run's workflows and queues: tests work on fresh queues
 * (`freshQueues`) and use member and request ids of their own wherever they query Temporal by them.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { loadConfig, type AppConfig } from '../../src/config';
import {
  createSqsClient,
  ensureFeedbackQueues,
  type FeedbackQueues,
  type QueueSetupOptions,
} from '../../src/shared/sqs';

export interface TestStack {
  temporalAddress: string;
  /** Absent on the cluster engine, which has no Web UI. */
  temporalWebUi?: string | null;
  sqsEndpoint: string;
  temporalCli: string;
  temporalTestServer: string;
}

/**
 * The tier's stack: `test` for the fast tier, `test-slow` for the slow one (jest.slow.config.js sets the
 * global), so that both tiers can run at once.
 */
const PROFILE = (globalThis as { testStackProfile?: string }).testStackProfile ?? 'test';
const ENDPOINTS = join(__dirname, '..', '..', '.data', PROFILE, 'endpoints.json');

export function testStack(): TestStack {
  if (!existsSync(ENDPOINTS)) {
    throw new Error(
      `${ENDPOINTS} is missing: run the tests with "npm test" or "npm run test:slow" (they start the local infrastructure)`,
    );
  }
  return JSON.parse(readFileSync(ENDPOINTS, 'utf8')) as TestStack;
}

/** TEMPORAL_WEB_UI_URL for the stack's Web UI; none on the cluster engine (the default stays). */
export function webUiSetting(stack: TestStack): Record<string, string> {
  return stack.temporalWebUi ? { TEMPORAL_WEB_UI_URL: stack.temporalWebUi } : {};
}

/** A configuration for the test stack, built through the real config module. */
export function testConfig(overrides: Record<string, string> = {}): AppConfig {
  const stack = testStack();
  return loadConfig({
    TEMPORAL_ADDRESS: stack.temporalAddress,
    ...webUiSetting(stack),
    AWS_ENDPOINT_URL_SQS: stack.sqsEndpoint,
    LOG_LEVEL: 'silent',
    ...overrides,
  });
}

/** ElasticMQ accepts any static credentials; the SDK still needs some. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export function testSqsClient(config: AppConfig = testConfig()): SQSClient {
  return createSqsClient(config.sqs, { requestTimeoutMs: 30_000, credentials: LOCAL_CREDENTIALS });
}

/** Fresh queues with a unique name prefix, so tests never see each other's messages. */
export async function freshQueues(
  client: SQSClient,
  label: string,
  options?: QueueSetupOptions,
): Promise<FeedbackQueues> {
  const prefix = `t-${label}-${randomUUID().slice(0, 8)}`;
  return ensureFeedbackQueues(client, prefix, options);
}

/**
 * The CLI's SQS client takes credentials from the AWS SDK's chain, which reads this process's
 * environment (not the env handed to runCli): sets the emulator's static keys and returns how to put
 * the previous values back.
 */
export function useLocalAwsCredentials(): () => void {
  const saved = {
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
  };
  process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
