/**
 * The one place that reads `process.env`. Every process calls `loadConfig()` once at start; a bad or
 * missing setting stops it with a message that names the variable (never its value, which may be a
 * secret).
 */
import { z } from 'zod';
import type { FeedbackPolicy } from '../domain/policy';
import { sha256Hex } from '../domain/keys';
import { DEFAULT_PROMPT_VERSION, GROUP_PLACEHOLDER, PERSONAL_PLACEHOLDER } from '../domain/prompt';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = z.url({ protocol: /^https?$/ });
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));
/** Like `url.optional()`, but an empty value (`VAR=`, or compose's `${VAR:-}`) means unset. */
const optionalUrl = optionalString.pipe(url.optional());
/** `true`/`false` (also `1`/`0`, `yes`/`no`, any case); empty or absent means unset. */
const optionalBool = optionalString
  .transform((v) => v?.trim().toLowerCase())
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']).optional())
  .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1' || v === 'yes'));

export const DELIVERY_MODES = ['callback', 'queue', 'both'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

/** Environment schema. Defaults are the local development values; production overrides them. */
export const envSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  // Temporal
  TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('leafresh-feedback'),
  TEMPORAL_WEB_UI_URL: url.default('http://localhost:8233'),
  // TLS / mTLS and API key (Temporal Cloud or a secured self-hosted frontend). TEMPORAL_TLS unset:
  // TLS is on as soon as any of the other TEMPORAL_TLS_* or TEMPORAL_API_KEY is set. The files are
  // read when connecting.
  TEMPORAL_TLS: optionalBool,
  TEMPORAL_TLS_CERT_PATH: optionalString,
  TEMPORAL_TLS_KEY_PATH: optionalString,
  TEMPORAL_TLS_CA_PATH: optionalString,
  TEMPORAL_TLS_SERVER_NAME: optionalString,
  TEMPORAL_API_KEY: optionalString,

  // SQS (credentials come from the standard AWS chain; the endpoint only for an emulator)
  AWS_REGION: z.string().min(1).default('ap-northeast-2'),
  AWS_ENDPOINT_URL_SQS: optionalUrl,
  AWS_SQS_FEEDBACK_QUEUE_URL: optionalUrl,
  /** The BE's name for the request queue: an alias of AWS_SQS_FEEDBACK_QUEUE_URL (one config map for both). */
  AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL: optionalUrl,
  AWS_SQS_FEEDBACK_DLQ_URL: optionalUrl,
  AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: optionalUrl,
  /** The result queue's DLQ (the BE's variable; the BE polls it). Used by the BE double and the docs' checks. */
  AWS_SQS_FEEDBACK_RESULT_DLQ_QUEUE_URL: optionalUrl,
  SQS_REQUEST_TIMEOUT_MS: int(100, 60_000).default(3000),

  // API
  API_PORT: int(0, 65535).default(8000),
  API_HOST: z.string().min(1).default('0.0.0.0'),
  // Authentication of /ai/feedback (POST and GET) and /metrics: a bearer token, or an HMAC signature of
  // the body with a timestamp (src/shared/signing.ts). `none` only when set explicitly (local runs).
  API_AUTH_MODE: z.enum(['bearer', 'hmac', 'none']).default('bearer'),
  API_AUTH_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  API_AUTH_HMAC_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  API_AUTH_WINDOW_SECONDS: int(10, 3600).default(300),
  /** Comma-separated origins allowed by CORS; unset: no CORS headers at all. */
  API_CORS_ORIGINS: optionalString,

  // SQS bridge
  BRIDGE_POLLERS: int(1, 64).default(2),
  BRIDGE_WAIT_TIME_SECONDS: int(0, 20).default(20),
  BRIDGE_MAX_MESSAGES: int(1, 10).default(10),
  BRIDGE_VISIBILITY_TIMEOUT_SECONDS: int(5, 43_200).default(60),
  BRIDGE_BACKOFF_MAX_MS: int(100, 300_000).default(30_000),
  /** Open runs of bulk (BE queue) requests at most; more wait in SQS (src/sqs-bridge/admission.ts). 0: no bound. */
  BRIDGE_MAX_OPEN_QUEUE_RUNS: int(0, 1_000_000).default(1000),
  // Health ports of the bridge and the worker (/health, /ready, /metrics); 0 picks a free port.
  BRIDGE_HEALTH_PORT: int(0, 65535).default(8091),
  WORKER_HEALTH_PORT: int(0, 65535).default(8092),
  HEALTH_HOST: z.string().min(1).default('0.0.0.0'),

  // vLLM (OpenAI-compatible). Base URL or the full chat-completions URL.
  VLLM_API_URL: url.default('http://localhost:8800'),
  VLLM_MODEL: z.string().min(1).default('mistralai/Mistral-7B-Instruct-v0.3'),
  VLLM_API_KEY: optionalString,
  VLLM_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.7),
  VLLM_MAX_TOKENS: int(1, 32_768).default(512),

  // Workflow policy (timeouts and retries, passed to each workflow at start)
  VLLM_TIMEOUT_SECONDS: int(1, 3600).default(60),
  VLLM_HEARTBEAT_SECONDS: int(1, 600).default(10),
  VLLM_RETRY_INITIAL_SECONDS: int(1, 3600).default(1),
  VLLM_RETRY_MAX_INTERVAL_SECONDS: int(1, 3600).default(60),
  VLLM_GIVE_UP_AFTER_MINUTES: int(1, 7 * 24 * 60).default(120),
  FEEDBACK_MAX_REGENERATIONS: int(0, 10).default(2),
  FEEDBACK_MAX_CHARS: int(50, 10_000).default(600),
  DELIVERY_TIMEOUT_SECONDS: int(1, 600).default(15),
  DELIVERY_RETRY_MAX_INTERVAL_SECONDS: int(1, 3600).default(60),
  DELIVERY_GIVE_UP_AFTER_HOURS: int(1, 24 * 30).default(24),

  // Delivery. `queue` is what the BE runs: its result-queue subscriber understands "500"; its callback
  // controller stores any content as feedback (docs/be-contract.md).
  DELIVERY_MODE: z.enum(DELIVERY_MODES).default('queue'),
  /** Post a terminal failure's status code ("500", "408") to the callback too; only for a BE that reads codes there. */
  CALLBACK_POST_FAILURES: optionalBool,
  /**
   * A recoverable failure of a queue request is sent no earlier than this after the message's
   * SentTimestamp: the BE re-publishes the same body at once, and SQS drops it within 5 minutes.
   */
  FEEDBACK_FAILURE_HOLD_SECONDS: int(0, 24 * 3600).default(330),
  BE_CALLBACK_BASE_URL: optionalUrl,
  BE_CALLBACK_AUTHORIZATION: optionalString,
  /** When set, callbacks carry X-Leafresh-Timestamp and X-Leafresh-Signature (HMAC-SHA256). */
  BE_CALLBACK_SIGNING_SECRET: optionalString.pipe(
    z.string().min(32, 'must be at least 32 characters').optional(),
  ),

  // Prompt (placeholders {personal_challenges} and {group_challenges}, as in the seed)
  FEEDBACK_PROMPT_TEMPLATE: optionalString.refine(
    (t) => t === undefined || (t.includes(PERSONAL_PLACEHOLDER) && t.includes(GROUP_PLACEHOLDER)),
    { message: `must contain ${PERSONAL_PLACEHOLDER} and ${GROUP_PLACEHOLDER}` },
  ),
  /** Searchable as PromptVersion. Default: DEFAULT_PROMPT_VERSION, or `custom-<hash>` of the template. */
  FEEDBACK_PROMPT_VERSION: optionalString.pipe(
    z
      .string()
      .max(100)
      .regex(/^[\w.:-]+$/, 'letters, digits, ".", ":", "_" and "-" only')
      .optional(),
  ),

  // Worker
  WORKER_MAX_CONCURRENT_ACTIVITIES: int(1, 10_000).default(200),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: int(1, 10_000).default(100),
  WORKER_WORKFLOW_BUNDLE_PATH: optionalString,
  /** Sticky cache size (runs kept in memory between their workflow tasks); default: the SDK's, from the heap size. */
  WORKER_MAX_CACHED_WORKFLOWS: optionalString.pipe(
    z.coerce.number<string | undefined>().int().min(0).max(100_000).optional(),
  ),

  // LLM flow control (src/flow): generateFeedback runs on its own task queue, whose workers hold at
  // most as many calls in flight as the controller allows (README › Flow control).
  /** Default: `<TEMPORAL_TASK_QUEUE>-llm`. */
  LLM_TASK_QUEUE: optionalString,
  LLM_CONCURRENCY_MODE: z.enum(['adaptive', 'fixed']).default('adaptive'),
  LLM_CONCURRENCY_MIN: int(1, 10_000).default(2),
  /** The upper bound of the adaptive limit, and the limit itself in `fixed` mode. */
  LLM_CONCURRENCY_MAX: int(1, 10_000).default(256),
  LLM_CONCURRENCY_INITIAL: int(1, 10_000).default(16),
  /** The controller holds vLLM's `num_requests_waiting` near this. */
  LLM_TARGET_WAITING: int(0, 10_000).default(2),
  /** vLLM's Prometheus endpoint; default `<VLLM_API_URL base>/metrics`; `none`: latency only. */
  LLM_METRICS_URL: optionalString.pipe(z.union([z.literal('none'), url]).optional()),
  LLM_CONTROL_INTERVAL_MS: int(100, 60_000).default(250),
  /** Latency fallback: cut when the recent latency exceeds this multiple of the baseline. */
  LLM_LATENCY_TOLERANCE: z.coerce.number().min(1.05).max(10).default(1.5),
  /** Requests per second toward the model, over all workers (the task queue's rate limit); off when unset. */
  LLM_RATE_LIMIT_PER_SECOND: optionalString.pipe(z.coerce.number<string | undefined>().positive().optional()),
  /** Temporal priority keys (1 = first, 5 = last) of requests from the HTTP API and from the BE's queue. */
  FEEDBACK_PRIORITY_API: int(1, 5).default(1),
  FEEDBACK_PRIORITY_QUEUE: int(1, 5).default(3),
  /** Fairness key per member within a priority (needs matching.enableFairness on the server). */
  FEEDBACK_FAIRNESS: optionalBool,
  /** A request older than this (counted from when it reached our queue) is not generated: the BE gets "408". 0: never. */
  REQUEST_MAX_AGE_MINUTES: int(0, 60 * 24 * 365).default(72 * 60),
  /** For `feedback tokens`: price per million tokens (0: tokens only). */
  LLM_COST_PER_MILLION_PROMPT_TOKENS: z.coerce.number().min(0).default(0),
  LLM_COST_PER_MILLION_COMPLETION_TOKENS: z.coerce.number().min(0).default(0),
  LLM_COST_CURRENCY: z.string().min(1).max(10).default('USD'),

  // Tracing (OpenTelemetry): off by default. `otlp` sends to an OTLP/HTTP collector.
  OTEL_TRACES_EXPORTER: z.enum(['none', 'otlp', 'console']).default('none'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url.default('http://localhost:4318/v1/traces'),
  OTEL_SERVICE_NAME: optionalString,

  // Simulated vLLM (a development and test tool, not part of production)
  VLLM_SIM_PORT: int(0, 65535).default(8800),
  VLLM_SIM_HOST: z.string().min(1).default('127.0.0.1'),
  VLLM_SIM_MAX_NUM_SEQS: int(1, 100_000).default(64),
  VLLM_SIM_LATENCY_MS: int(0, 600_000).default(200),
  VLLM_SIM_LATENCY_PER_TOKEN_MS: z.coerce.number().min(0).max(10_000).default(0),
  /** Over-commitment cost (src/simulator/vllm-simulator.ts): 0.5 = up to 1.5 × the latency while requests wait. */
  VLLM_SIM_OVERCOMMIT_PENALTY: z.coerce.number().min(0).max(100).default(0),

  // BE double (a development tool that behaves like the BE: src/dev/be-double): its callback port
  BE_DOUBLE_PORT: int(0, 65535).default(8081),
});

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
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
      if (env.API_AUTH_MODE === 'bearer' && !env.API_AUTH_TOKEN) {
        return [
          'API_AUTH_TOKEN: required when API_AUTH_MODE=bearer (or set API_AUTH_MODE=none for a local run)',
        ];
      }
      if (env.API_AUTH_MODE === 'hmac' && !env.API_AUTH_HMAC_SECRET) {
        return ['API_AUTH_HMAC_SECRET: required when API_AUTH_MODE=hmac'];
      }
      return [];
    case 'dlq':
      return env.AWS_SQS_FEEDBACK_DLQ_URL ? [] : ['AWS_SQS_FEEDBACK_DLQ_URL: required for this process'];
    case 'delivery': {
      const missing: string[] = [];
      if (env.DELIVERY_MODE !== 'queue' && !env.BE_CALLBACK_BASE_URL) {
        missing.push(`BE_CALLBACK_BASE_URL: required when DELIVERY_MODE=${env.DELIVERY_MODE}`);
      }
      if (env.DELIVERY_MODE !== 'callback' && !env.AWS_SQS_FEEDBACK_RESULT_QUEUE_URL) {
        missing.push(`AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: required when DELIVERY_MODE=${env.DELIVERY_MODE}`);
      }
      return missing;
    }
  }
}

function requestQueueUrl(env: Env): string | undefined {
  return env.AWS_SQS_FEEDBACK_QUEUE_URL ?? env.AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL;
}

/**
 * TLS towards the Temporal frontend. Absent: plaintext. The paths are read when connecting
 * (`temporalConnectionOptions` in src/shared/temporal.ts).
 */
export interface TemporalTlsSettings {
  /** Client certificate and key (PEM) for mTLS; both or neither. */
  certPath?: string;
  keyPath?: string;
  /** CA (PEM) that signed the server certificate; absent: the system's trusted roots. */
  caPath?: string;
  /** Overrides the name checked against the server certificate (SNI). */
  serverName?: string;
}

const TEMPORAL_TLS_IMPLIED_BY = [
  'TEMPORAL_TLS_CERT_PATH',
  'TEMPORAL_TLS_KEY_PATH',
  'TEMPORAL_TLS_CA_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_API_KEY',
] as const;

function temporalTlsProblems(env: Env): string[] {
  const problems: string[] = [];
  if ((env.TEMPORAL_TLS_CERT_PATH === undefined) !== (env.TEMPORAL_TLS_KEY_PATH === undefined)) {
    const [missing, given] =
      env.TEMPORAL_TLS_CERT_PATH === undefined
        ? ['TEMPORAL_TLS_CERT_PATH', 'TEMPORAL_TLS_KEY_PATH']
        : ['TEMPORAL_TLS_KEY_PATH', 'TEMPORAL_TLS_CERT_PATH'];
    problems.push(`${missing}: required with ${given} (mTLS needs the certificate and its key)`);
  }
  if (env.TEMPORAL_TLS === false) {
    // An API key or a certificate over plaintext would be sent in the clear, or not be used at all.
    for (const name of TEMPORAL_TLS_IMPLIED_BY) {
      if (env[name] !== undefined) problems.push(`${name}: requires TLS, but TEMPORAL_TLS=false`);
    }
  }
  return problems;
}

function temporalTls(env: Env): TemporalTlsSettings | undefined {
  const enabled = env.TEMPORAL_TLS ?? TEMPORAL_TLS_IMPLIED_BY.some((name) => env[name] !== undefined);
  if (!enabled) return undefined;
  return {
    certPath: env.TEMPORAL_TLS_CERT_PATH,
    keyPath: env.TEMPORAL_TLS_KEY_PATH,
    caPath: env.TEMPORAL_TLS_CA_PATH,
    serverName: env.TEMPORAL_TLS_SERVER_NAME,
  };
}

export interface AppConfig {
  logLevel: Env['LOG_LEVEL'];
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    webUiUrl: string;
    tls?: TemporalTlsSettings;
    /** Sent as `Authorization: Bearer <key>` (secret, redacted in logs). */
    apiKey?: string;
  };
  sqs: {
    region: string;
    endpoint?: string;
    requestQueueUrl?: string;
    dlqUrl?: string;
    resultQueueUrl?: string;
    resultDlqUrl?: string;
    requestTimeoutMs: number;
  };
  api: { port: number; host: string; auth: ApiAuth; corsOrigins?: string[] };
  bridge: {
    pollers: number;
    waitTimeSeconds: number;
    maxMessages: number;
    visibilityTimeoutSeconds: number;
    backoffMaxMs: number;
    maxOpenQueueRuns: number;
  };
  health: { host: string; bridgePort: number; workerPort: number };
  tracing: { exporter: 'none' | 'otlp' | 'console'; otlpEndpoint: string; serviceName?: string };
  vllm: {
    chatCompletionsUrl: string;
    baseUrl: string;
    model: string;
    apiKey?: string;
    temperature: number;
    maxTokens: number;
  };
  policy: FeedbackPolicy;
  delivery: {
    mode: DeliveryMode;
    callbackBaseUrl?: string;
    callbackAuthorization?: string;
    /** HMAC-SHA256 secret for the callback's signature headers (secret, never logged). */
    callbackSigningSecret?: string;
  };
  prompt: { template?: string; version: string };
  worker: {
    maxConcurrentActivities: number;
    maxConcurrentWorkflowTasks: number;
    workflowBundlePath?: string;
    maxCachedWorkflows?: number;
  };
  flow: FlowSettings;
  costs: { promptPerMillion: number; completionPerMillion: number; currency: string };
  simulator: {
    port: number;
    host: string;
    maxNumSeqs: number;
    latencyMs: number;
    latencyPerTokenMs: number;
    overcommitPenalty: number;
  };
  beDouble: { port: number };
}

/** LLM flow control: the LLM task queue, its concurrency limit and the requests' priorities. */
export interface FlowSettings {
  taskQueue: string;
  mode: 'adaptive' | 'fixed';
  min: number;
  max: number;
  initial: number;
  targetWaiting: number;
  /** Absent: no metrics, the latency-gradient controller only. */
  metricsUrl?: string;
  intervalMs: number;
  latencyTolerance: number;
  rateLimitPerSecond?: number;
  /** Priority keys by source, and whether the member id is the fairness key (startFeedbackWorkflow). */
  priority: { api: number; queue: number; fairness: boolean };
}

/** How the API authenticates callers (secrets, never logged). */
export type ApiAuth =
  | { mode: 'none' }
  | { mode: 'bearer'; token: string }
  | { mode: 'hmac'; secret: string; windowSeconds: number };

function apiAuth(env: Env): ApiAuth {
  if (env.API_AUTH_MODE === 'bearer' && env.API_AUTH_TOKEN)
    return { mode: 'bearer', token: env.API_AUTH_TOKEN };
  if (env.API_AUTH_MODE === 'hmac' && env.API_AUTH_HMAC_SECRET) {
    return { mode: 'hmac', secret: env.API_AUTH_HMAC_SECRET, windowSeconds: env.API_AUTH_WINDOW_SECONDS };
  }
  if (env.API_AUTH_MODE === 'none') return { mode: 'none' };
  // Bearer or hmac without its secret: only a process that requires 'apiAuth' may not run like this
  // (the API); the others never authenticate callers. Refuse everything rather than allow anything.
  return { mode: 'bearer', token: '' };
}

/**
 * Settings that are valid but risky with the Leafresh BE; the bridge (which puts the delivery mode in
 * each run's policy) and the worker (which delivers) log them at start.
 */
export function deliveryWarnings(config: Pick<AppConfig, 'delivery' | 'policy'>): string[] {
  const warnings: string[] = [];
  if (config.delivery.mode === 'both') {
    warnings.push(
      'DELIVERY_MODE=both is unsafe with the Leafresh BE: it checks for an existing week and saves later, ' +
        'without a unique key, so two deliveries at once can store two feedbacks for a member. Use queue ' +
        '(or callback) for the BE; keep both for other consumers.',
    );
  }
  if (config.policy.postFailuresToCallback && config.delivery.mode !== 'queue') {
    warnings.push(
      'CALLBACK_POST_FAILURES=true: the Leafresh BE stores any callback content as feedback, a "500" too. ' +
        'Only for a BE that reads status codes on that path.',
    );
  }
  return warnings;
}

/** `VLLM_API_URL` may be the base URL (`http://host:8800`, `.../v1`) or the full endpoint URL. */
export function vllmUrls(raw: string): { baseUrl: string; chatCompletionsUrl: string } {
  const trimmed = raw.replace(/\/+$/, '');
  const base = trimmed.replace(/\/chat\/completions$/, '').replace(/\/v1$/, '');
  return { baseUrl: base, chatCompletionsUrl: `${base}/v1/chat/completions` };
}

function flowSettings(env: Env): FlowSettings {
  const max = env.LLM_CONCURRENCY_MAX;
  const min = Math.min(env.LLM_CONCURRENCY_MIN, max);
  return {
    taskQueue: env.LLM_TASK_QUEUE ?? `${env.TEMPORAL_TASK_QUEUE}-llm`,
    mode: env.LLM_CONCURRENCY_MODE,
    min,
    max,
    initial: Math.min(Math.max(env.LLM_CONCURRENCY_INITIAL, min), max),
    targetWaiting: env.LLM_TARGET_WAITING,
    metricsUrl:
      env.LLM_METRICS_URL === 'none'
        ? undefined
        : (env.LLM_METRICS_URL ?? `${vllmUrls(env.VLLM_API_URL).baseUrl}/metrics`),
    intervalMs: env.LLM_CONTROL_INTERVAL_MS,
    latencyTolerance: env.LLM_LATENCY_TOLERANCE,
    rateLimitPerSecond: env.LLM_RATE_LIMIT_PER_SECOND,
    priority: {
      api: env.FEEDBACK_PRIORITY_API,
      queue: env.FEEDBACK_PRIORITY_QUEUE,
      fairness: env.FEEDBACK_FAIRNESS ?? true,
    },
  };
}

export function loadConfig(
  source: NodeJS.ProcessEnv = process.env,
  requirements: readonly Requirement[] = [],
): AppConfig {
  const parsed = envSchema.safeParse(source);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.') || '(environment)'}: ${issue.message}`);
    }
    throw new ConfigError(problems);
  }
  const env = parsed.data;
  problems.push(...temporalTlsProblems(env));
  if (
    env.AWS_SQS_FEEDBACK_QUEUE_URL &&
    env.AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL &&
    env.AWS_SQS_FEEDBACK_QUEUE_URL !== env.AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL
  ) {
    problems.push(
      'AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL: differs from AWS_SQS_FEEDBACK_QUEUE_URL (set one, or both to the same queue)',
    );
  }
  for (const requirement of requirements) problems.push(...missingFor(requirement, env));
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    logLevel: env.LOG_LEVEL,
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      webUiUrl: env.TEMPORAL_WEB_UI_URL.replace(/\/+$/, ''),
      tls: temporalTls(env),
      apiKey: env.TEMPORAL_API_KEY,
    },
    sqs: {
      region: env.AWS_REGION,
      endpoint: env.AWS_ENDPOINT_URL_SQS,
      requestQueueUrl: requestQueueUrl(env),
      dlqUrl: env.AWS_SQS_FEEDBACK_DLQ_URL,
      resultQueueUrl: env.AWS_SQS_FEEDBACK_RESULT_QUEUE_URL,
      resultDlqUrl: env.AWS_SQS_FEEDBACK_RESULT_DLQ_QUEUE_URL,
      requestTimeoutMs: env.SQS_REQUEST_TIMEOUT_MS,
    },
    api: {
      port: env.API_PORT,
      host: env.API_HOST,
      auth: apiAuth(env),
      corsOrigins: env.API_CORS_ORIGINS?.split(',')
        .map((o) => o.trim())
        .filter((o) => o.length > 0),
    },
    bridge: {
      pollers: env.BRIDGE_POLLERS,
      waitTimeSeconds: env.BRIDGE_WAIT_TIME_SECONDS,
      maxMessages: env.BRIDGE_MAX_MESSAGES,
      visibilityTimeoutSeconds: env.BRIDGE_VISIBILITY_TIMEOUT_SECONDS,
      backoffMaxMs: env.BRIDGE_BACKOFF_MAX_MS,
      maxOpenQueueRuns: env.BRIDGE_MAX_OPEN_QUEUE_RUNS,
    },
    tracing: {
      exporter: env.OTEL_TRACES_EXPORTER,
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
      serviceName: env.OTEL_SERVICE_NAME,
    },
    health: { host: env.HEALTH_HOST, bridgePort: env.BRIDGE_HEALTH_PORT, workerPort: env.WORKER_HEALTH_PORT },
    vllm: {
      ...vllmUrls(env.VLLM_API_URL),
      model: env.VLLM_MODEL,
      apiKey: env.VLLM_API_KEY,
      temperature: env.VLLM_TEMPERATURE,
      maxTokens: env.VLLM_MAX_TOKENS,
    },
    policy: {
      generateTimeoutSeconds: env.VLLM_TIMEOUT_SECONDS,
      generateHeartbeatSeconds: env.VLLM_HEARTBEAT_SECONDS,
      generateRetryInitialSeconds: env.VLLM_RETRY_INITIAL_SECONDS,
      generateRetryMaxIntervalSeconds: env.VLLM_RETRY_MAX_INTERVAL_SECONDS,
      generateGiveUpAfterMinutes: env.VLLM_GIVE_UP_AFTER_MINUTES,
      maxRegenerations: env.FEEDBACK_MAX_REGENERATIONS,
      maxFeedbackChars: env.FEEDBACK_MAX_CHARS,
      deliveryTimeoutSeconds: env.DELIVERY_TIMEOUT_SECONDS,
      deliveryRetryMaxIntervalSeconds: env.DELIVERY_RETRY_MAX_INTERVAL_SECONDS,
      deliveryGiveUpAfterHours: env.DELIVERY_GIVE_UP_AFTER_HOURS,
      deliveryMode: env.DELIVERY_MODE,
      postFailuresToCallback: env.CALLBACK_POST_FAILURES ?? false,
      failureHoldSeconds: env.FEEDBACK_FAILURE_HOLD_SECONDS,
      llmTaskQueue: env.LLM_TASK_QUEUE ?? `${env.TEMPORAL_TASK_QUEUE}-llm`,
      maxAgeMinutes: env.REQUEST_MAX_AGE_MINUTES,
    },
    delivery: {
      mode: env.DELIVERY_MODE,
      callbackBaseUrl: env.BE_CALLBACK_BASE_URL,
      callbackAuthorization: env.BE_CALLBACK_AUTHORIZATION,
      callbackSigningSecret: env.BE_CALLBACK_SIGNING_SECRET,
    },
    prompt: {
      template: env.FEEDBACK_PROMPT_TEMPLATE,
      version:
        env.FEEDBACK_PROMPT_VERSION ??
        (env.FEEDBACK_PROMPT_TEMPLATE === undefined
          ? DEFAULT_PROMPT_VERSION
          : `custom-${sha256Hex(env.FEEDBACK_PROMPT_TEMPLATE).slice(0, 12)}`),
    },
    worker: {
      maxConcurrentActivities: env.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: env.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      workflowBundlePath: env.WORKER_WORKFLOW_BUNDLE_PATH,
      maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
    },
    flow: flowSettings(env),
    costs: {
      promptPerMillion: env.LLM_COST_PER_MILLION_PROMPT_TOKENS,
      completionPerMillion: env.LLM_COST_PER_MILLION_COMPLETION_TOKENS,
      currency: env.LLM_COST_CURRENCY,
    },
    simulator: {
      port: env.VLLM_SIM_PORT,
      host: env.VLLM_SIM_HOST,
      maxNumSeqs: env.VLLM_SIM_MAX_NUM_SEQS,
      latencyMs: env.VLLM_SIM_LATENCY_MS,
      latencyPerTokenMs: env.VLLM_SIM_LATENCY_PER_TOKEN_MS,
      overcommitPenalty: env.VLLM_SIM_OVERCOMMIT_PENALTY,
    },
    beDouble: { port: env.BE_DOUBLE_PORT },
  };
}
