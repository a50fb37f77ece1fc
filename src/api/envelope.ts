/**
 * Every response of the API is `{status, message, data}` with `status` equal to the HTTP status.
 * Messages are Korean for the BE's logs, with English after a slash.
 */
import type { Response } from 'express';

export interface Envelope<T> {
  status: number;
  message: string;
  data: T | null;
}

export function sendEnvelope<T>(res: Response, status: number, message: string, data: T | null = null): void {
  const body: Envelope<T> = { status, message, data };
  res.status(status).json(body);
}

export const Messages = {
  accepted: '피드백 요청이 접수되었습니다. / Feedback request accepted.',
  invalid: '요청 형식이 올바르지 않습니다. / The request is invalid.',
  invalidJson: '요청 본문이 올바른 JSON이 아닙니다. / The request body is not valid JSON.',
  tooLarge: '요청 본문이 너무 큽니다. / The request body is too large.',
  unsupportedMediaType: '요청 본문은 application/json이어야 합니다. / The body must be application/json.',
  queueUnavailable:
    '요청 큐에 연결할 수 없습니다. 잠시 후 다시 시도해주세요. / The request queue is unreachable; try again shortly.',
  notFound: '요청한 경로를 찾을 수 없습니다. / Not found.',
  internal: '서버 오류가 발생했습니다. / Internal server error.',
  healthy: '정상 / OK',
  unauthorized: '인증이 필요합니다. / Authentication required.',
  ready: '준비됨 / Ready.',
  notReady: '의존 서비스에 연결할 수 없습니다. / A dependency is unreachable.',
  found: '요청 상태입니다. / The request status.',
  requestNotFound: '해당 요청을 찾을 수 없습니다. / No such request.',
  temporalUnavailable:
    'Temporal에 연결할 수 없습니다. 잠시 후 다시 시도해주세요. / Temporal is unreachable; try again shortly.',
} as const;
