import {
  fitPrompt,
  NO_PERSONAL,
  PromptBudgetError,
  renderPrompt,
  summaryLine,
  tokensAtMost,
  type PromptBudget,
} from '../../src/domain/prompt';
import { validateFeedbackRequest, type FeedbackRequest } from '../../src/domain/request';
import { countTokens, USER_MESSAGE_TEMPLATE_TOKENS } from '../../src/shared/mistral-tokenizer';
import { worstCaseRequest } from '../support/requests';

function valid(body: unknown): FeedbackRequest {
  const result = validateFeedbackRequest(body);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.value;
}

/** The budget the worker computes for a vLLM context: max_model_len − VLLM_MAX_TOKENS − template. */
const budgetFor = (maxModelLen: number, maxTokens = 512): PromptBudget => ({
  maxTokens: maxModelLen - maxTokens - USER_MESSAGE_TEMPLATE_TOKENS,
  countTokens,
});

const text = (fitted: { messages: { content: string }[] }) => fitted.messages[0].content;

const group = (id: number, title: string, submittedAt: string[], succeeded = submittedAt.length) => ({
  id,
  title,
  startDate: '2025-06-01T00:00:00',
  endDate: '2025-06-30T23:59:59',
  submissions: submittedAt.map((at, i) => ({ isSuccess: i < succeeded, submittedAt: at })),
});

describe('the prompt budget', () => {
  const worst = valid(worstCaseRequest());

  it.each([8192, 32768])(
    'fits the worst case the schema accepts (100 personal, 300 group challenges with submissions, 200-character titles) into max_model_len %i',
    (maxModelLen) => {
      const budget = budgetFor(maxModelLen);
      const whole = countTokens(renderPrompt(worst)) + USER_MESSAGE_TEMPLATE_TOKENS;
      const fitted = fitPrompt(worst, undefined, budget);
      if (fitted.tokens === undefined) throw new Error('a fitted worst case is counted');
      // mistral-common 1.13.1 counts the whole prompt as a chat request at 116,575 tokens (and the
      // text fitted to 8192 at 7,480): far past Mistral-7B's 32k.
      expect(whole).toBe(116_575);
      expect(fitted.tokens).toBe(countTokens(text(fitted)));
      expect(fitted.tokens).toBeLessThanOrEqual(budget.maxTokens);
      // Little of the budget stays unused (the estimate's margin).
      expect(fitted.tokens).toBeGreaterThan(budget.maxTokens * 0.95);
      expect(fitted.personal.listed + fitted.personal.summarised).toBe(100);
      expect(fitted.group.listed + fitted.group.summarised).toBe(300);
      console.log(
        `max_model_len ${maxModelLen}: worst-case prompt ${whole} tokens whole, ${fitted.tokens + USER_MESSAGE_TEMPLATE_TOKENS} fitted ` +
          `(${fitted.personal.listed} personal and ${fitted.group.listed} group challenges listed)`,
      );
    },
  );

  it('takes a prompt whose length alone fits whole without the tokenizer (a typical week)', () => {
    const request = valid({
      memberId: 1,
      personalChallenges: [{ id: 1, title: '텀블러 사용하기', isSuccess: true }],
      groupChallenges: [group(2, '일요일 플로깅', ['2025-06-15T09:00:00'])],
    });
    const whole = renderPrompt(request);
    const counted: string[] = [];
    const budget = { maxTokens: tokensAtMost(whole), countTokens: (t: string) => (counted.push(t), 0) };
    const fitted = fitPrompt(request, undefined, budget);
    expect(text(fitted)).toBe(whole);
    expect(fitted.tokens).toBeUndefined();
    expect(counted).toEqual([]);
    expect(fitted.personal).toEqual({ listed: 1, summarised: 0 });
    expect(fitted.group).toEqual({ listed: 1, summarised: 0 });
    // One token less of room: counted, and it fits by the exact count.
    const exact = fitPrompt(request, undefined, { maxTokens: tokensAtMost(whole) - 1, countTokens });
    expect(text(exact)).toBe(whole);
    expect(exact.tokens).toBe(countTokens(whole));
  });

  it('gives the same prompt for the same request every time', () => {
    const budget = budgetFor(8192);
    const first = fitPrompt(worst, undefined, budget);
    // Another request in between: nothing carries over from one call to the next.
    fitPrompt(valid(worstCaseRequest(78)), undefined, budgetFor(4096));
    const again = fitPrompt(
      valid(JSON.parse(JSON.stringify(worstCaseRequest())) as unknown),
      undefined,
      budget,
    );
    expect(text(again)).toBe(text(first));
    expect(again).toEqual(first);
  });

  it('leaves a request that fits exactly as renderPrompt writes it', () => {
    const small = valid({
      memberId: 1,
      personalChallenges: [{ id: 1, title: '텀블러 사용하기', isSuccess: true }],
      groupChallenges: [group(2, '플로깅', ['2025-06-10T09:00:00'])],
    });
    const fitted = fitPrompt(small, undefined, budgetFor(8192));
    expect(text(fitted)).toBe(renderPrompt(small));
    expect(fitted.personal).toEqual({ listed: 1, summarised: 0 });
    expect(fitted.group).toEqual({ listed: 1, summarised: 0 });
  });

  it("keeps the group challenges with the most recent submissions, listed in the request's order", () => {
    const request = valid({
      memberId: 1,
      personalChallenges: [],
      groupChallenges: [
        group(1, '월요일 분리수거', ['2025-06-09T08:00:00']),
        group(2, '일요일 플로깅', ['2025-06-09T08:00:00', '2025-06-15T20:00:00']),
        group(3, '수요일 장바구니', ['2025-06-11T12:00:00']),
        // Participations without a submission are not last week's activity: never listed or counted.
        group(4, '지난달 챌린지', []),
        group(5, '금요일 텀블러', ['2025-06-13T07:30:00']),
      ],
    });
    const full = countTokens(renderPrompt(request));
    // Room for about three of the four active challenges.
    const fitted = fitPrompt(request, undefined, { countTokens, maxTokens: full - 20 });
    const prompt = text(fitted);
    expect(fitted.group).toEqual({ listed: 3, summarised: 1 });
    expect(prompt).not.toContain('월요일 분리수거');
    expect(prompt).not.toContain('지난달 챌린지');
    const listed = ['일요일 플로깅', '수요일 장바구니', '금요일 텀블러'].map((t) => prompt.indexOf(t));
    expect(listed.every((at) => at > 0)).toBe(true);
    expect([...listed].sort((a, b) => a - b)).toEqual(listed);
    expect(prompt.endsWith(`</data>\n${summaryLine(1, 1, 1)}`)).toBe(true);
  });

  it('summarises the rest of each list in one line: 외 N개 챌린지, 성공 x/y (challenges for personal, submissions for group)', () => {
    const fitted = fitPrompt(worst, undefined, budgetFor(8192));
    const prompt = text(fitted);
    const personalRest = worst.personalChallenges.slice(fitted.personal.listed);
    expect(prompt).toContain(
      `</data>\n${summaryLine(
        personalRest.length,
        personalRest.filter((c) => c.isSuccess).length,
        personalRest.length,
      )}\n\n단체 챌린지:`,
    );
    const listedGroups = worst.groupChallenges.filter((c) => prompt.includes(`- ${c.title}\n`));
    const groupRest = worst.groupChallenges.filter((c) => !listedGroups.includes(c));
    const submissions = groupRest.flatMap((c) => c.submissions);
    expect(listedGroups).toHaveLength(fitted.group.listed);
    expect(
      prompt.endsWith(
        `</data>\n${summaryLine(groupRest.length, submissions.filter((s) => s.isSuccess).length, submissions.length)}`,
      ),
    ).toBe(true);
    expect(summaryLine(12, 7, 12)).toBe('외 12개 챌린지, 성공 7/12');
    // One summary line per list, outside the data blocks (it is ours, not the member's text).
    expect(prompt.match(/^외 \d+개 챌린지, 성공 \d+\/\d+$/gm)).toHaveLength(2);
  });

  it('lets the two lists take turns, so that neither crowds the other out', () => {
    const fitted = fitPrompt(worst, undefined, budgetFor(8192));
    expect(Math.abs(fitted.personal.listed - fitted.group.listed)).toBeLessThanOrEqual(3);
    // With fewer personal challenges than their share, the group list takes the rest of the room.
    const fewPersonal = valid({
      ...worstCaseRequest(),
      personalChallenges: worstCaseRequest().personalChallenges.slice(0, 2),
    });
    const more = fitPrompt(fewPersonal, undefined, budgetFor(8192));
    expect(more.personal).toEqual({ listed: 2, summarised: 0 });
    expect(more.group.listed).toBeGreaterThan(fitted.group.listed + 5);
    expect(text(more)).not.toContain(NO_PERSONAL);
  });

  it('refuses a budget that not even the instructions and the summary lines fit', () => {
    expect(() => fitPrompt(worst, undefined, { countTokens, maxTokens: 100 })).toThrow(PromptBudgetError);
  });
});
