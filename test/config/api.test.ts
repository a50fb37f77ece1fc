/**
 * The API section (src/config/api.ts): how callers are authenticated, and which origins CORS allows.
 */
import { problemsOf } from '../support/config';
import { loadConfig } from '../../src/config';

const TOKEN = 'a-bearer-token-of-24-chars';
const SECRET = 'an-hmac-secret-of-at-least-32-characters';

describe('API authentication', () => {
  it('is bearer by default, and the API refuses to start without its token', () => {
    expect(problemsOf(() => loadConfig({}, ['apiAuth']))).toEqual([
      'API_AUTH_TOKEN: required when API_AUTH_MODE=bearer (or set API_AUTH_MODE=none for a local run)',
    ]);
    expect(loadConfig({ API_AUTH_TOKEN: TOKEN }, ['apiAuth']).api.auth).toEqual({
      mode: 'bearer',
      token: TOKEN,
    });
  });

  it('is hmac with its secret and the timestamp window, and requires the secret', () => {
    expect(problemsOf(() => loadConfig({ API_AUTH_MODE: 'hmac' }, ['apiAuth']))).toEqual([
      'API_AUTH_HMAC_SECRET: required when API_AUTH_MODE=hmac',
    ]);
    expect(loadConfig({ API_AUTH_MODE: 'hmac', API_AUTH_HMAC_SECRET: SECRET }).api.auth).toEqual({
      mode: 'hmac',
      secret: SECRET,
      windowSeconds: 300,
    });
    expect(
      loadConfig({ API_AUTH_MODE: 'hmac', API_AUTH_HMAC_SECRET: SECRET, API_AUTH_WINDOW_SECONDS: '60' }).api
        .auth,
    ).toMatchObject({ windowSeconds: 60 });
  });

  it('is off only when API_AUTH_MODE=none is set, even if a token is configured too', () => {
    expect(loadConfig({ API_AUTH_MODE: 'none' }, ['apiAuth']).api.auth).toEqual({ mode: 'none' });
    expect(loadConfig({ API_AUTH_MODE: 'none', API_AUTH_TOKEN: TOKEN }).api.auth).toEqual({ mode: 'none' });
  });

  it('refuses every caller (an empty bearer token) in a process that does not require authentication settings', () => {
    expect(loadConfig({}).api.auth).toEqual({ mode: 'bearer', token: '' });
    expect(loadConfig({ API_AUTH_MODE: 'hmac' }).api.auth).toEqual({ mode: 'bearer', token: '' });
    // The secret of the other mode does not stand in for the missing one.
    expect(loadConfig({ API_AUTH_MODE: 'hmac', API_AUTH_TOKEN: TOKEN }).api.auth).toEqual({
      mode: 'bearer',
      token: '',
    });
  });

  it('refuses a short token or secret, an unknown mode and an out-of-range window, without echoing secrets', () => {
    const problems = problemsOf(() =>
      loadConfig({
        API_AUTH_TOKEN: 'short-t0ken',
        API_AUTH_HMAC_SECRET: 'short-s3cret',
        API_AUTH_MODE: 'basic',
        API_AUTH_WINDOW_SECONDS: '5',
      }),
    );
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'API_AUTH_HMAC_SECRET',
      'API_AUTH_MODE',
      'API_AUTH_TOKEN',
      'API_AUTH_WINDOW_SECONDS',
    ]);
    expect(problems.join('\n')).not.toMatch(/short-t0ken|short-s3cret/);
  });
});

describe('CORS origins', () => {
  it('are absent unless configured: no CORS headers at all', () => {
    expect(loadConfig({}).api.corsOrigins).toBeUndefined();
    expect(loadConfig({ API_CORS_ORIGINS: ' ' }).api.corsOrigins).toBeUndefined();
  });

  it('are the comma-separated list, trimmed, without empty entries', () => {
    expect(
      loadConfig({ API_CORS_ORIGINS: 'https://leafresh.app, https://admin.leafresh.app ,,' }).api.corsOrigins,
    ).toEqual(['https://leafresh.app', 'https://admin.leafresh.app']);
  });
});

it('listens on API_HOST:API_PORT, 0.0.0.0:8000 by default', () => {
  expect(loadConfig({}).api).toMatchObject({ host: '0.0.0.0', port: 8000 });
  expect(loadConfig({ API_HOST: '127.0.0.1', API_PORT: '0' }).api).toMatchObject({
    host: '127.0.0.1',
    port: 0,
  });
});
