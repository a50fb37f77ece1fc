import { isRetryableStatus, joinUrl } from '../../src/shared/http';

describe('joinUrl', () => {
  it('joins base and path with exactly one slash', () => {
    const expected = 'https://be.example/api/members/feedback/result';
    expect(joinUrl('https://be.example', '/api/members/feedback/result')).toBe(expected);
    expect(joinUrl('https://be.example/', '/api/members/feedback/result')).toBe(expected);
    expect(joinUrl('https://be.example//', 'api/members/feedback/result')).toBe(expected);
    expect(joinUrl('https://be.example/prefix/', '/x')).toBe('https://be.example/prefix/x');
  });
});

describe('isRetryableStatus', () => {
  it('retries timeouts, throttling and server errors but not client errors', () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 409, 422].some(isRetryableStatus)).toBe(false);
  });
});
