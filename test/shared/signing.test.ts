import {
  constantTimeEqual,
  ReplayGuard,
  signature,
  signatureHeaders,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifySignature,
} from '../../src/shared/signing';

const SECRET = 'k'.repeat(32);
const BODY = '{"memberId":1}';

describe('HMAC-SHA256 signatures', () => {
  it('match an independently computed vector (Python hmac: key k*32, text "1700000000.{\\"memberId\\":1}")', () => {
    expect(signature(SECRET, '1700000000', BODY)).toBe(
      'sha256=6f5941e0cee212e8d36a37a081839912044d2f658030ce8158d32e9388281810',
    );
  });

  it('sign with the current second and verify within the window', () => {
    const now = Date.parse('2026-11-26T00:00:00Z');
    const headers = signatureHeaders(SECRET, BODY, now);
    expect(headers[TIMESTAMP_HEADER]).toBe(String(now / 1000));
    const given = { timestamp: headers[TIMESTAMP_HEADER], signature: headers[SIGNATURE_HEADER] };
    expect(verifySignature(SECRET, given, BODY, 300, now + 299_000)).toEqual({ ok: true });
    expect(verifySignature(SECRET, given, BODY, 300, now - 299_000)).toEqual({ ok: true });
  });

  it.each([
    ['a changed body', { body: '{"memberId":2}' }, 'signature does not match'],
    ['another secret', { secret: 'x'.repeat(32) }, 'signature does not match'],
    ['an old timestamp', { now: 301_000 }, 'timestamp outside the allowed window'],
    ['a timestamp from the future', { now: -301_000 }, 'timestamp outside the allowed window'],
    ['a malformed timestamp', { timestamp: '17e8' }, 'malformed timestamp'],
    ['no signature', { signature: '' }, 'missing signature headers'],
  ])(
    'reject %s',
    (
      _label,
      change: { body?: string; secret?: string; now?: number; timestamp?: string; signature?: string },
      reason,
    ) => {
      const now = 1_700_000_000_000;
      const headers = signatureHeaders(SECRET, BODY, now);
      const verdict = verifySignature(
        change.secret ?? SECRET,
        {
          timestamp: change.timestamp ?? headers[TIMESTAMP_HEADER],
          signature: change.signature ?? headers[SIGNATURE_HEADER],
        },
        change.body ?? BODY,
        300,
        now + (change.now ?? 0),
      );
      expect(verdict).toEqual({ ok: false, reason });
      // The reason never contains the expected signature.
      expect(JSON.stringify(verdict)).not.toContain(headers[SIGNATURE_HEADER].slice(7, 20));
    },
  );

  it('compares strings of any lengths in constant time without throwing', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', 'x'.repeat(1000))).toBe(false);
  });

  it('accept each signature once within the window, and forget it after', () => {
    let now = 0;
    const guard = new ReplayGuard(300, () => now);
    expect(guard.firstUse('sha256=a')).toBe(true);
    expect(guard.firstUse('sha256=a')).toBe(false);
    expect(guard.firstUse('sha256=b')).toBe(true);
    now += 601_000;
    expect(guard.firstUse('sha256=a')).toBe(true);
  });
});
