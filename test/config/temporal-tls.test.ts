import { problemsOf } from '../support/config';
import { loadConfig } from '../../src/config';

describe('Temporal TLS and API key settings', () => {
  it('connects in plaintext without an API key when nothing is set (the local dev server)', () => {
    const { temporal } = loadConfig({});
    expect(temporal.tls).toBeUndefined();
    expect(temporal.apiKey).toBeUndefined();
  });

  it('turns TLS on by itself when an API key is set (Temporal Cloud)', () => {
    const { temporal } = loadConfig({ TEMPORAL_API_KEY: 'key-123' });
    expect(temporal.apiKey).toBe('key-123');
    expect(temporal.tls).toEqual({});
  });

  it('turns TLS on by itself for a client certificate pair and keeps the paths (mTLS)', () => {
    const { temporal } = loadConfig({
      TEMPORAL_TLS_CERT_PATH: '/certs/client.pem',
      TEMPORAL_TLS_KEY_PATH: '/certs/client.key',
      TEMPORAL_TLS_CA_PATH: '/certs/ca.pem',
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    expect(temporal.tls).toEqual({
      certPath: '/certs/client.pem',
      keyPath: '/certs/client.key',
      caPath: '/certs/ca.pem',
      serverName: 'temporal.internal',
    });
  });

  it('reads TEMPORAL_TLS as a boolean, not as any non-empty string', () => {
    for (const on of ['true', 'TRUE', '1', 'yes']) {
      expect(loadConfig({ TEMPORAL_TLS: on }).temporal.tls).toEqual({});
    }
    for (const off of ['false', 'False', '0', 'no', '']) {
      expect(loadConfig({ TEMPORAL_TLS: off }).temporal.tls).toBeUndefined();
    }
    expect(problemsOf(() => loadConfig({ TEMPORAL_TLS: 'maybe' }))).toEqual([
      expect.stringMatching(/^TEMPORAL_TLS: /),
    ]);
  });

  it('rejects a certificate without its key, and the reverse', () => {
    expect(problemsOf(() => loadConfig({ TEMPORAL_TLS_CERT_PATH: '/c.pem' }))).toEqual([
      expect.stringMatching(/^TEMPORAL_TLS_KEY_PATH: required with TEMPORAL_TLS_CERT_PATH/),
    ]);
    expect(problemsOf(() => loadConfig({ TEMPORAL_TLS_KEY_PATH: '/c.key' }))).toEqual([
      expect.stringMatching(/^TEMPORAL_TLS_CERT_PATH: required with TEMPORAL_TLS_KEY_PATH/),
    ]);
  });

  it('rejects an API key or TLS files with TEMPORAL_TLS=false, without echoing the key', () => {
    const problems = problemsOf(() =>
      loadConfig({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 's3cret-key', TEMPORAL_TLS_CA_PATH: '/ca.pem' }),
    );
    expect(problems).toEqual([
      'TEMPORAL_TLS_CA_PATH: requires TLS, but TEMPORAL_TLS=false',
      'TEMPORAL_API_KEY: requires TLS, but TEMPORAL_TLS=false',
    ]);
    expect(problems.join('\n')).not.toContain('s3cret-key');
  });
});

describe('optional URLs', () => {
  it('treats an empty value as unset (compose passes `${VAR:-}` as an empty string)', () => {
    const config = loadConfig({ BE_CALLBACK_BASE_URL: '', AWS_ENDPOINT_URL_SQS: '', DELIVERY_MODE: 'queue' });
    expect(config.delivery.callbackBaseUrl).toBeUndefined();
    expect(config.sqs.endpoint).toBeUndefined();
  });

  it('still rejects a value that is not an http(s) URL', () => {
    expect(problemsOf(() => loadConfig({ BE_CALLBACK_BASE_URL: 'ftp://be.example' }))).toEqual([
      expect.stringMatching(/^BE_CALLBACK_BASE_URL: /),
    ]);
  });
});
