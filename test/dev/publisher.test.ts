/** The BE double's deduplication id of a request body (dev/be-double/publisher.ts), as the BE makes it. */
import { createHash } from 'node:crypto';
import { beDeduplicationId, sha256Hex } from '../../dev/be-double/publisher';

it('sha256Hex is the hex SHA-256 of the UTF-8 text', () => {
  expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  expect(sha256Hex('피드백')).toBe(createHash('sha256').update(Buffer.from('피드백', 'utf8')).digest('hex'));
});

it('beDeduplicationId is <memberId>-<sha256 hex of the body>', () => {
  expect(beDeduplicationId(7, '{}')).toBe(`7-${sha256Hex('{}')}`);
});
