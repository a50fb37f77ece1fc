import { workflowIdFor } from '../../src/domain/keys';

/**
 * What a 202 of `POST /ai/feedback` names: the requestId from its `X-Request-Id` header (the body's
 * `data` is null for the BE's strict parser) and the workflow id derived from it. Reads the body, so
 * the connection is free again; throws unless the answer is such a 202.
 */
export async function acceptedRequest(
  response: Response,
): Promise<{ requestId: string; workflowId: string }> {
  const body = (await response.json()) as { status?: unknown; data?: unknown };
  const requestId = response.headers.get('x-request-id');
  if (response.status !== 202 || body.status !== 202 || body.data !== null || !requestId) {
    throw new Error(
      `not an accepted request: HTTP ${response.status}, X-Request-Id ${requestId}, body ${JSON.stringify(body)}`,
    );
  }
  return { requestId, workflowId: workflowIdFor(requestId) };
}
