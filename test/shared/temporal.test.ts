import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../../src/config';
import { temporalConnectionOptions } from '../../src/shared/temporal';

describe('temporalConnectionOptions', () => {
  let dir: string;
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'temporal-tls-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is plaintext with the configured address when TLS is off', async () => {
    const options = temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233' }).temporal);
    expect(options).toEqual({ address: 'temporal:7233', tls: false, apiKey: undefined });
    const connection = Connection.lazy(options);
    expect(connection.options.credentials._isSecure()).toBe(false);
    await connection.close();
  });

  it('passes an API key with TLS on and no client certificate (Temporal Cloud API key)', () => {
    const options = temporalConnectionOptions(
      loadConfig({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'key-123' }).temporal,
    );
    expect(options).toEqual({ address: 'ns.acct.tmprl.cloud:7233', tls: {}, apiKey: 'key-123' });
  });

  it('reads the certificate, key and CA files and sets the server name (mTLS)', () => {
    const config = loadConfig({
      TEMPORAL_TLS_CERT_PATH: file('client.pem', 'CERT'),
      TEMPORAL_TLS_KEY_PATH: file('client.key', 'KEY'),
      TEMPORAL_TLS_CA_PATH: file('ca.pem', 'CA'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const { tls } = temporalConnectionOptions(config.temporal);
    expect(tls).not.toBe(false);
    if (tls === false) return;
    expect(tls.clientCertPair?.crt.toString()).toBe('CERT');
    expect(tls.clientCertPair?.key.toString()).toBe('KEY');
    expect(tls.serverRootCACertificate?.toString()).toBe('CA');
    expect(tls.serverNameOverride).toBe('temporal.internal');
  });

  it('names each variable whose file cannot be read, without any file content', () => {
    const config = loadConfig({
      TEMPORAL_TLS_CERT_PATH: file('client.pem', 'CERT'),
      TEMPORAL_TLS_KEY_PATH: join(dir, 'missing.key'),
      TEMPORAL_TLS_CA_PATH: join(dir, 'missing-ca.pem'),
    });
    let error: unknown;
    try {
      temporalConnectionOptions(config.temporal);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      `TEMPORAL_TLS_KEY_PATH: cannot read ${join(dir, 'missing.key')} (ENOENT)`,
      `TEMPORAL_TLS_CA_PATH: cannot read ${join(dir, 'missing-ca.pem')} (ENOENT)`,
    ]);
  });

  it('fits both Connection.connect and NativeConnection.connect', async () => {
    const options = temporalConnectionOptions(loadConfig({ TEMPORAL_API_KEY: 'key-123' }).temporal);
    // Compile-time: the same object is valid for the client and the worker connection.
    const forClient: ConnectionOptions = options;
    const forWorker: NativeConnectionOptions = options;
    expect(forWorker.apiKey).toBe('key-123');
    // Run time: the client accepts it (lazy: builds the TLS channel credentials, dials nothing).
    const connection = Connection.lazy(forClient);
    expect(connection.options.address).toBe('localhost:7233');
    expect(connection.options.credentials._isSecure()).toBe(true);
    await connection.close();
  });
});
