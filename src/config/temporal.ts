/**
 * Temporal: the frontend, namespace, the task queues (the workflows' and the LLM calls'), and TLS / API
 * key for a secured or cloud frontend.
 */
import { z } from 'zod';
import { optionalBool, optionalKeys, optionalString, url } from './fields';

const TLS_IMPLIED_BY = [
  'TEMPORAL_TLS_CERT_PATH',
  'TEMPORAL_TLS_KEY_PATH',
  'TEMPORAL_TLS_CA_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_API_KEY',
] as const;

export const temporalEnv = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('leafresh-feedback'),
  /**
   * The namespace's retention, for `feedback setup` when it creates the namespace: `<n>h` or `<n>d`.
   * Above the request queue's 4-day message retention (docs/be-contract.md); 120h by default.
   */
  TEMPORAL_NAMESPACE_RETENTION: z
    .string()
    .regex(/^[1-9]\d*[hd]$/, 'use <n>h or <n>d, e.g. 120h')
    .default('120h'),
  /** The task queue of the vLLM calls (docs/flow-control.md). Default: `<TEMPORAL_TASK_QUEUE>-llm`. */
  LLM_TASK_QUEUE: optionalString,
  /** vLLM calls per second over all workers (the LLM task queue's rate limit); off when unset. */
  LLM_RATE_LIMIT_PER_SECOND: optionalString.pipe(z.coerce.number<string | undefined>().positive().optional()),
  TEMPORAL_WEB_UI_URL: url.default('http://localhost:8233'),
  // TEMPORAL_TLS unset: TLS is on as soon as any of the other TEMPORAL_TLS_* or TEMPORAL_API_KEY is
  // set. The files are read when connecting.
  TEMPORAL_TLS: optionalBool,
  TEMPORAL_TLS_CERT_PATH: optionalString,
  TEMPORAL_TLS_KEY_PATH: optionalString,
  TEMPORAL_TLS_CA_PATH: optionalString,
  TEMPORAL_TLS_SERVER_NAME: optionalString,
  TEMPORAL_API_KEY: optionalString,
});
export const temporalSection = temporalEnv.transform((env) =>
  optionalKeys({
    address: env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE,
    /** Seconds; used only by `feedback setup` when it creates the namespace. */
    namespaceRetentionSeconds:
      Number(env.TEMPORAL_NAMESPACE_RETENTION.slice(0, -1)) *
      (env.TEMPORAL_NAMESPACE_RETENTION.endsWith('d') ? 86_400 : 3_600),
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    /** The bridge puts it in each run's policy; every worker process polls it with the LLM worker. */
    llmTaskQueue: env.LLM_TASK_QUEUE ?? `${env.TEMPORAL_TASK_QUEUE}-llm`,
    llmRateLimitPerSecond: env.LLM_RATE_LIMIT_PER_SECOND,
    webUiUrl: env.TEMPORAL_WEB_UI_URL.replace(/\/+$/, ''),
    /**
     * TLS towards the Temporal frontend. Absent: plaintext. The paths are read when connecting
     * (`temporalConnectionOptions` in src/shared/temporal.ts).
     */
    tls:
      (env.TEMPORAL_TLS ?? TLS_IMPLIED_BY.some((name) => env[name] !== undefined))
        ? optionalKeys({
            /** Client certificate and key (PEM) for mTLS; both or neither. */
            certPath: env.TEMPORAL_TLS_CERT_PATH,
            keyPath: env.TEMPORAL_TLS_KEY_PATH,
            /** CA (PEM) that signed the server certificate; absent: the system's trusted roots. */
            caPath: env.TEMPORAL_TLS_CA_PATH,
            /** Overrides the name checked against the server certificate (SNI). */
            serverName: env.TEMPORAL_TLS_SERVER_NAME,
          })
        : undefined,
    /** Sent as `Authorization: Bearer <key>` (secret, redacted in logs). */
    apiKey: env.TEMPORAL_API_KEY,
  }),
);

/** Problems no single variable shows: a certificate without its key, TLS settings with TLS off. */
export function temporalProblems(env: z.infer<typeof temporalEnv>): string[] {
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
    for (const name of TLS_IMPLIED_BY) {
      if (env[name] !== undefined) problems.push(`${name}: requires TLS, but TEMPORAL_TLS=false`);
    }
  }
  return problems;
}
