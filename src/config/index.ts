/**
 * The one place that reads `process.env`. Every process calls `loadConfig()` once at start; a bad or
 * missing setting stops it with a message that names the variable (never its value, which may be a
 * secret). The schema is assembled from one section per concern (this folder); each section owns its
 * variables, their defaults and the settings object its processes receive.
 */
import { z } from 'zod';
import type { FeedbackPolicy } from '../domain/policy';
import { apiAuthProblems, apiEnv, apiSettings, type ApiSettings } from './api';
import { bridgeEnv, bridgeSettings, type BridgeSettings } from './bridge';
import { parseEnvironment, ConfigError } from './fields';
import { flowEnv, flowSettings, llmTaskQueue, type FlowSettings } from './flow';
import {
  deliveryProblems,
  deliverySettings,
  policyEnv,
  policySettings,
  promptSettings,
  type DeliverySettings,
  type PromptSettings,
} from './policy';
import {
  healthSettings,
  processesEnv,
  workerSettings,
  type HealthSettings,
  type LogLevel,
  type WorkerSettings,
} from './processes';
import { requestQueueUrl, sqsEnv, sqsProblems, sqsSettings, type SqsSettings } from './sqs';
import { temporalEnv, temporalProblems, temporalSettings, type TemporalSettings } from './temporal';
import { tracingEnv, tracingSettings, type TracingSettings } from './tracing';
import { costSettings, vllmEnv, vllmSettings, type CostSettings, type VllmSettings } from './vllm';

export { ConfigError, parseEnvironment } from './fields';
export type { ApiAuth, ApiSettings } from './api';
export type { BridgeSettings } from './bridge';
export type { FlowSettings } from './flow';
export { DEFAULT_POLICY, deliveryWarnings } from './policy';
export type { DeliverySettings, PromptSettings } from './policy';
export type { TemporalSettings, TemporalTlsSettings } from './temporal';
export { vllmUrls } from './vllm';
export { DELIVERY_MODES, type DeliveryMode } from '../domain/policy';

/** Environment schema. Defaults are the local development values; production overrides them. */
export const envSchema = z.object({
  ...processesEnv.shape,
  ...temporalEnv.shape,
  ...sqsEnv.shape,
  ...apiEnv.shape,
  ...bridgeEnv.shape,
  ...vllmEnv.shape,
  ...policyEnv.shape,
  ...flowEnv.shape,
  ...tracingEnv.shape,
});

export type Env = z.infer<typeof envSchema>;

export interface AppConfig {
  logLevel: LogLevel;
  temporal: TemporalSettings;
  sqs: SqsSettings;
  api: ApiSettings;
  bridge: BridgeSettings;
  health: HealthSettings;
  tracing: TracingSettings;
  vllm: VllmSettings;
  policy: FeedbackPolicy;
  delivery: DeliverySettings;
  prompt: PromptSettings;
  worker: WorkerSettings;
  flow: FlowSettings;
  costs: CostSettings;
}

/** Settings a process cannot run without; checked in addition to the schema. */
export type Requirement = 'requestQueue' | 'dlq' | 'delivery' | 'apiAuth';

function missingFor(requirement: Requirement, env: Env): string[] {
  switch (requirement) {
    case 'requestQueue':
      return requestQueueUrl(env)
        ? []
        : ['AWS_SQS_FEEDBACK_QUEUE_URL (or AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL): required for this process'];
    case 'apiAuth':
      return apiAuthProblems(env);
    case 'dlq':
      return env.AWS_SQS_FEEDBACK_DLQ_URL ? [] : ['AWS_SQS_FEEDBACK_DLQ_URL: required for this process'];
    case 'delivery':
      return deliveryProblems(env, env.AWS_SQS_FEEDBACK_RESULT_QUEUE_URL);
  }
}

export function loadConfig(
  source: NodeJS.ProcessEnv = process.env,
  requirements: readonly Requirement[] = [],
): AppConfig {
  const env = parseEnvironment(envSchema, source);
  const problems = [...temporalProblems(env), ...sqsProblems(env)];
  for (const requirement of requirements) problems.push(...missingFor(requirement, env));
  if (problems.length > 0) throw new ConfigError(problems);

  const temporal = temporalSettings(env);
  const vllm = vllmSettings(env);
  const llmQueue = llmTaskQueue(env, temporal.taskQueue);
  return {
    logLevel: env.LOG_LEVEL,
    temporal,
    sqs: sqsSettings(env),
    api: apiSettings(env),
    bridge: bridgeSettings(env),
    health: healthSettings(env),
    tracing: tracingSettings(env),
    vllm,
    policy: policySettings(env, llmQueue),
    delivery: deliverySettings(env),
    prompt: promptSettings(env),
    worker: workerSettings(env),
    flow: flowSettings(env, { taskQueue: llmQueue, vllmBaseUrl: vllm.baseUrl }),
    costs: costSettings(env),
  };
}
