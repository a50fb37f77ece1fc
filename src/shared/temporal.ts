/** Connecting to Temporal from the API, the bridge and the worker. */
import { Client, Connection } from '@temporalio/client';
import type { AppConfig } from '../config';

export async function connectTemporalClient(temporal: AppConfig['temporal']): Promise<Client> {
  const connection = await Connection.connect({ address: temporal.address, connectTimeout: '5 seconds' });
  return new Client({ connection, namespace: temporal.namespace });
}

/** Link to a workflow run in the Temporal Web UI. */
export function webUiLink(temporal: AppConfig['temporal'], workflowId: string, runId?: string): string {
  const base = `${temporal.webUiUrl}/namespaces/${encodeURIComponent(temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}` : base;
}
