/**
 * The one place that reads `process.env`. Every process calls `loadConfig()` once at start; a bad or
 * missing setting stops it with a message that names the variable (never its value, which may be a
 * secret). One section per concern (this folder): each owns its variables and their defaults, and its
 * schema transforms them into the settings its processes receive; their types are the schemas' outputs.
 */
import { z } from 'zod';
import { apiAuthProblems, apiSection } from './api';
import { bridgeSection } from './bridge';
import { ConfigError, parseEnvironment } from './fields';
import { llmConcurrencySection } from './llm-concurrency';
import { deliveryProblems, deliverySection, policySection, promptSection } from './policy';
import { prioritySection } from './priority';
import { healthSection, logLevelSection, workerSection } from './processes';
import { requestQueueUrl, sqsProblems, sqsSection } from './sqs';
import { temporalProblems, temporalSection } from './temporal';
import { tracingSection } from './tracing';
import { costsSection, vllmProblems, vllmSection } from './vllm';

export { ConfigError, parseEnvironment } from './fields';
export type { ApiAuth } from './api';
export type { BridgeSettings } from './bridge';
export type { LlmConcurrencySettings } from './llm-concurrency';
export type { PrioritySettings } from './priority';
export { DEFAULT_POLICY, deliveryWarnings } from './policy';
export { vllmUrls } from './vllm';
export { DELIVERY_MODES, type DeliveryMode } from '../domain/policy';

/** Each key of the configuration and the section whose schema makes it. */
const SECTIONS = {
  logLevel: logLevelSection,
  temporal: temporalSection,
  sqs: sqsSection,
  api: apiSection,
  bridge: bridgeSection,
  health: healthSection,
  tracing: tracingSection,
  vllm: vllmSection,
  policy: policySection,
  delivery: deliverySection,
  prompt: promptSection,
  worker: workerSection,
  llmConcurrency: llmConcurrencySection,
  priority: prioritySection,
  costs: costsSection,
};
type Sections = typeof SECTIONS;

export type AppConfig = { [K in keyof Sections]: z.output<Sections[K]> };

/**
 * Every variable of every section: what .env.example, the docs and the deploy files are checked
 * against. Its type is the intersection of the sections' variables.
 */
export const envSchema = z.object(
  Object.assign({}, ...Object.values(SECTIONS).map((section) => section.in.shape)) as SectionShapes,
);
type SectionShapes = UnionToIntersection<Sections[keyof Sections]['in']['shape']>;
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;
type Env = z.infer<typeof envSchema>;

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
      return deliveryProblems(env.DELIVERY_MODE, {
        callbackBaseUrl: env.BE_CALLBACK_BASE_URL,
        resultQueueUrl: env.AWS_SQS_FEEDBACK_RESULT_QUEUE_URL,
      });
  }
}

export function loadConfig(
  source: NodeJS.ProcessEnv = process.env,
  requirements: readonly Requirement[] = [],
): AppConfig {
  const env = parseEnvironment(envSchema, source);
  const problems = [...temporalProblems(env), ...sqsProblems(env), ...vllmProblems(env)];
  for (const requirement of requirements) problems.push(...missingFor(requirement, env));
  if (problems.length > 0) throw new ConfigError(problems);

  // Every variable is valid now, so no section's schema can fail.
  const sections = Object.fromEntries(
    Object.entries(SECTIONS).map(([key, section]) => [key, section.parse(source)]),
  ) as AppConfig;
  return {
    ...sections,
    policy: { ...sections.policy, llmTaskQueue: sections.temporal.llmTaskQueue },
  };
}
