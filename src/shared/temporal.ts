/** Connecting to Temporal from the API, the bridge and the worker. */
import { readFileSync } from 'node:fs';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import { ConfigError, type AppConfig } from '../config';

/**
 * The connection settings shared by `Connection.connect` (client: API, bridge) and
 * `NativeConnection.connect` (worker): both take `address`, `tls` and `apiKey` with these meanings.
 */
export interface TemporalConnectionOptions {
  address: string;
  /** `false`: plaintext. An object: TLS, with the client certificate (mTLS), CA and SNI name if set. */
  tls: TLSConfig | false;
  /** Sent as `Authorization: Bearer <key>` on every call. */
  apiKey?: string;
}

/**
 * Builds the connection options from the configuration, reading the PEM files named by
 * `TEMPORAL_TLS_CERT_PATH`, `TEMPORAL_TLS_KEY_PATH` and `TEMPORAL_TLS_CA_PATH`. A file that cannot be
 * read is a `ConfigError` naming the variable and the path (never the file's content).
 */
export function temporalConnectionOptions(
  temporal: AppConfig['temporal'],
  readFile: (path: string) => Buffer = readFileSync,
): TemporalConnectionOptions {
  const { tls: settings, apiKey, address } = temporal;
  if (!settings) return { address, tls: false, apiKey };

  const problems: string[] = [];
  const read = (variable: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
      problems.push(`${variable}: cannot read ${path} (${code})`);
      return undefined;
    }
  };
  const crt = read('TEMPORAL_TLS_CERT_PATH', settings.certPath);
  const key = read('TEMPORAL_TLS_KEY_PATH', settings.keyPath);
  const ca = read('TEMPORAL_TLS_CA_PATH', settings.caPath);
  if (problems.length > 0) throw new ConfigError(problems);

  const tls: TLSConfig = {};
  if (crt && key) tls.clientCertPair = { crt, key };
  if (ca) tls.serverRootCACertificate = ca;
  if (settings.serverName) tls.serverNameOverride = settings.serverName;
  return { address, tls, apiKey };
}

/** `tracing`: put the active trace context into each start (the workflow's spans continue it). */
export async function connectTemporalClient(
  temporal: AppConfig['temporal'],
  options: { tracing?: boolean } = {},
): Promise<Client> {
  const connection = await Connection.connect({
    ...temporalConnectionOptions(temporal),
    connectTimeout: '5 seconds',
  });
  return new Client({
    connection,
    namespace: temporal.namespace,
    interceptors: options.tracing ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined,
  });
}

/** Link to a workflow run in the Temporal Web UI. */
export function webUiLink(temporal: AppConfig['temporal'], workflowId: string, runId?: string): string {
  const base = `${temporal.webUiUrl}/namespaces/${encodeURIComponent(temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}` : base;
}
