/**
 * A request as the BE builds it for a long-time member: every group-challenge participation the member
 * ever had (here `groupChallenges` of them, long over), each with only this week's submissions; the
 * last `withSubmissions` are running this week and carry two submissions each.
 */
export function longTimeMember(memberId: number, groupChallenges: number, withSubmissions = 3) {
  return {
    memberId,
    personalChallenges: [{ id: 1, title: '텀블러 사용하기', isSuccess: true }],
    groupChallenges: Array.from({ length: groupChallenges }, (_, i) => {
      const thisWeek = i >= groupChallenges - withSubmissions;
      return {
        id: i + 1,
        title: `제로웨이스트 챌린지 ${i + 1}기`,
        startDate: thisWeek ? [2025, 6, 9, 0, 0] : [2019, 1, 7, 0, 0],
        endDate: thisWeek ? '2025-06-15T23:59:59' : [2019, 1, 13, 23, 59, 59],
        submissions: thisWeek
          ? [
              { isSuccess: true, submittedAt: [2025, 6, 10, 13, 8, 16, 710986000] },
              { isSuccess: false, submittedAt: '2025-06-11T09:00:00' },
            ]
          : [],
      };
    }),
  };
}

/**
 * The largest request of its kind the schema accepts, short of the body limit: 100 personal challenges
 * (the schema's bound) and 300 group challenges, each with a submission on every day of last week, all
 * with 200-character Korean titles (the schema's bound) that mix in digits and emoji.
 */
export function worstCaseRequest(memberId = 77) {
  const title = (kind: string, i: number) => {
    const base = `${kind} ${i}번 매일 아침 10분 걷기와 텀블러 사용하기 🌱 제로웨이스트 실천 `;
    return Array.from(base.repeat(10)).slice(0, 200).join('');
  };
  const day = (d: number, hour: number) =>
    `2025-06-${String(9 + d).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00`;
  return {
    memberId,
    personalChallenges: Array.from({ length: 100 }, (_, i) => ({
      id: i + 1,
      title: title('개인', i + 1),
      isSuccess: i % 3 !== 0,
    })),
    groupChallenges: Array.from({ length: 300 }, (_, i) => ({
      id: 1000 + i,
      title: title('단체', i + 1),
      startDate: '2025-06-01T00:00:00',
      endDate: '2025-06-30T23:59:59',
      // Each challenge's submissions at its own hours, so that "most recent" orders them all.
      submissions: Array.from({ length: 7 }, (_, d) => ({
        isSuccess: (i + d) % 4 !== 0,
        submittedAt: day(d, i % 24),
      })),
    })),
  };
}
