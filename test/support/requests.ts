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
