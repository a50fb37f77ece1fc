/** Structured logs (src/shared/logger.ts): JSON lines, secrets redacted by key, errors summarized. */
import { Writable } from 'node:stream';
import { createLogger, errorSummary } from '../../src/shared/logger';

function captured(level = 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger('bridge', level, destination), lines };
}

describe('createLogger', () => {
  it('writes one JSON object per line with the level label, the service and an ISO time', () => {
    const { logger, lines } = captured();
    logger.info({ requestId: 'r-1' }, 'Workflow started');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        service: 'bridge',
        name: 'bridge',
        requestId: 'r-1',
        msg: 'Workflow started',
      }),
    ]);
    expect(lines[0].time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('redacts authorization headers, API keys and AWS secrets at the top level and one level down', () => {
    const { logger, lines } = captured();
    logger.info(
      {
        authorization: 'Bearer top',
        headers: { authorization: 'Bearer header', 'content-type': 'application/json' },
        vllm: { apiKey: 'vllm-key', model: 'm' },
        delivery: { callbackAuthorization: 'Bearer be', mode: 'queue' },
        credentials: { secretAccessKey: 'aws-secret', accessKeyId: 'AKIA' },
        apiKey: 'top-key',
      },
      'settings',
    );
    const text = JSON.stringify(lines);
    for (const secret of ['Bearer top', 'Bearer header', 'vllm-key', 'Bearer be', 'aws-secret', 'top-key']) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({
      authorization: '[redacted]',
      headers: { authorization: '[redacted]', 'content-type': 'application/json' },
      vllm: { apiKey: '[redacted]', model: 'm' },
      delivery: { callbackAuthorization: '[redacted]', mode: 'queue' },
      credentials: { secretAccessKey: '[redacted]', accessKeyId: 'AKIA' },
    });
  });

  it('writes nothing below its level', () => {
    const { logger, lines } = captured('warn');
    logger.info('not shown');
    logger.warn('shown');
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
  });
});

describe('errorSummary', () => {
  it('is the name and message of an error, with its cause’s message when that says more', () => {
    const err = new Error('14 UNAVAILABLE: connection refused', { cause: new Error('connect ECONNREFUSED') });
    expect(errorSummary(err)).toEqual({
      name: 'Error',
      message: '14 UNAVAILABLE: connection refused: connect ECONNREFUSED',
    });
    const typed = new TypeError('fetch failed');
    expect(errorSummary(typed)).toEqual({ name: 'TypeError', message: 'fetch failed' });
  });

  it('does not repeat a cause with the same message, nor carry anything else the error has', () => {
    const err = Object.assign(new Error('timeout', { cause: new Error('timeout') }), {
      metadata: { authorization: 'Bearer secret' },
    });
    expect(errorSummary(err)).toEqual({ name: 'Error', message: 'timeout' });
  });

  it('turns anything thrown that is not an Error into a message', () => {
    expect(errorSummary('plain string')).toEqual({ name: 'Error', message: 'plain string' });
    expect(errorSummary(42)).toEqual({ name: 'Error', message: '42' });
  });
});
