import { RecentRequests } from '../../src/api/recent';

describe('RecentRequests', () => {
  it('remembers an accepted request until its age runs out', () => {
    let now = 1_000;
    const recent = new RecentRequests(10, 5_000, () => now);
    recent.add('a', { memberId: 1, acceptedAt: '2026-11-26T10:00:00+09:00' });
    expect(recent.get('a')).toEqual({ memberId: 1, acceptedAt: '2026-11-26T10:00:00+09:00' });
    now += 4_999;
    expect(recent.get('a')).toBeDefined();
    now += 1;
    expect(recent.get('a')).toBeUndefined();
    expect(recent.size).toBe(0);
  });

  it('keeps at most maxEntries, dropping the oldest first', () => {
    const recent = new RecentRequests(3, 60_000, () => 0);
    for (const id of ['a', 'b', 'c', 'd']) recent.add(id, { memberId: 1, acceptedAt: 'x' });
    expect(recent.size).toBe(3);
    expect(recent.get('a')).toBeUndefined();
    expect(recent.get('d')).toBeDefined();
  });
});
