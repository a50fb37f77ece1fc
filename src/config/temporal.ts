/** Temporal: the frontend, namespace and task queue, and TLS / API key for a secured or cloud frontend. */
import { z } from 'zod';
import { optionalBool, optionalString, url } from './fields';

export const temporalEnv = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('leafresh-feedback'),
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
type TemporalEnv = z.infer<typeof temporalEnv>;

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

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  webUiUrl: string;
  tls?: TemporalTlsSettings;
  /** Sent as `Authorization: Bearer <key>` (secret, redacted in logs). */
  apiKey?: string;
}

const TLS_IMPLIED_BY = [
  'TEMPORAL_TLS_CERT_PATH',
  'TEMPORAL_TLS_KEY_PATH',
  'TEMPORAL_TLS_CA_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_API_KEY',
] as const;

export function temporalProblems(env: TemporalEnv): string[] {
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

function temporalTls(env: TemporalEnv): TemporalTlsSettings | undefined {
  const enabled = env.TEMPORAL_TLS ?? TLS_IMPLIED_BY.some((name) => env[name] !== undefined);
  if (!enabled) return undefined;
  return {
    certPath: env.TEMPORAL_TLS_CERT_PATH,
    keyPath: env.TEMPORAL_TLS_KEY_PATH,
    caPath: env.TEMPORAL_TLS_CA_PATH,
    serverName: env.TEMPORAL_TLS_SERVER_NAME,
  };
}

export function temporalSettings(env: TemporalEnv): TemporalSettings {
  return {
    address: env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    webUiUrl: env.TEMPORAL_WEB_UI_URL.replace(/\/+$/, ''),
    tls: temporalTls(env),
    apiKey: env.TEMPORAL_API_KEY,
  };
}
