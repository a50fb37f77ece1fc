/** The answer text: deterministic, warm Korean feedback mentioning every challenge title of the prompt. */
import { countTokens } from '../../src/shared/mistral-tokenizer';

export type MessageContent = string | ReadonlyArray<{ text: string }>;

export interface Answer {
  content: string;
  finishReason: 'stop' | 'length';
  promptTokens: number;
  completionTokens: number;
}

export function messageText(content: MessageContent): string {
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

/**
 * The answer to a conversation (the texts of its messages, the last one the user's) whose prompt
 * vLLM's tokenizer counts at `promptTokens`, cut to `maxTokens` real tokens. A `replacement` (a
 * fault's text) is sent as it is, never cut: tests read an echoed prompt in full.
 */
export function composeAnswer(
  texts: string[],
  promptTokens: number,
  maxTokens: number | undefined,
  replacement?: string,
): Answer {
  const { text, truncated } =
    replacement !== undefined
      ? { text: replacement, truncated: false }
      : limitTokens(feedbackText(texts[texts.length - 1]), maxTokens);
  return {
    content: text,
    finishReason: truncated ? 'length' : 'stop',
    promptTokens,
    completionTokens: countTokens(text),
  };
}

interface ChallengeResult {
  title: string;
  succeeded: boolean;
}

const PERSONAL_LINE = /^(\s*)-\s+(.+?)\s+\((성공|실패)\)\s*$/;
const BULLET_LINE = /^(\s*)-\s+(.+?)\s*$/;
const GROUP_PERIOD = /기간\s*:/;
const GROUP_RATE = /최근\s*일주일\s*성공률\s*:\s*(\d+)\s*\/\s*(\d+)/;

/** Personal challenges: `- title (성공|실패)`; group ones: `- title` with indented 기간/성공률 lines. */
function findChallenges(prompt: string): ChallengeResult[] {
  const lines = prompt.split(/\r?\n/);
  const found = new Map<string, boolean>();
  lines.forEach((line, index) => {
    const personal = PERSONAL_LINE.exec(line);
    if (personal) {
      if (!found.has(personal[2])) found.set(personal[2], personal[3] === '성공');
      return;
    }
    const bullet = BULLET_LINE.exec(line);
    if (!bullet) return;
    const details = indentedLinesAfter(lines, index, bullet[1].length);
    if (!details.some((detail) => GROUP_PERIOD.test(detail) || GROUP_RATE.test(detail))) return;
    if (!found.has(bullet[2])) found.set(bullet[2], groupSucceeded(details));
  });
  return [...found].map(([title, succeeded]) => ({ title, succeeded }));
}

function indentedLinesAfter(lines: string[], index: number, indent: number): string[] {
  const block: string[] = [];
  for (const line of lines.slice(index + 1)) {
    const lineIndent = line.length - line.trimStart().length;
    if (line.trim() === '' || lineIndent <= indent) break;
    block.push(line);
  }
  return block;
}

/** A group challenge counts as a success when at least half of the last week's days succeeded. */
function groupSucceeded(details: string[]): boolean {
  const rate = details.map((detail) => GROUP_RATE.exec(detail)).find((match) => match !== null);
  if (!rate) return false;
  const [successes, total] = [Number(rate[1]), Number(rate[2])];
  return total > 0 && successes * 2 >= total;
}

const OPENINGS = [
  '이번 주에도 지구를 위한 실천을 이어가 주셔서 정말 고마워요! 🌱',
  '한 주 동안 환경을 생각하며 움직여 주신 모습이 정말 멋져요! 🌱',
  '이번 주도 초록빛 습관을 위해 애써 주셔서 감사해요! 🌱',
];
const PRAISES = [
  (titles: string) => `${titles}에 성공하신 건 정말 대단한 일이에요.`,
  (titles: string) => `${titles}에서 보여 주신 꾸준함이 정말 빛났어요.`,
];
const ENCOURAGEMENTS = [
  (titles: string) => `${titles}에는 아쉽게 닿지 못했지만, 다음 주에 다시 도전하면 충분히 해낼 수 있어요.`,
  (titles: string) => `${titles}에서는 조금 아쉬웠지만, 작은 한 걸음부터 다시 시작하면 분명 달라질 거예요.`,
];
const NO_CHALLENGES =
  '아직 기록된 챌린지가 없다면, 텀블러 챙기기처럼 가벼운 실천부터 시작해 보는 건 어떨까요?';
const CLOSINGS = [
  '다음 주에도 함께 지구를 지켜 나가요! 💚',
  '작은 실천이 모여 큰 변화를 만든다는 걸 잊지 마세요! 🌍',
  '앞으로도 당신의 초록 발걸음을 응원할게요! 🌿',
];

/** FNV-1a: picks the wording variant, so the same prompt always gets the same text. */
function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

function pick<T>(variants: readonly T[], seed: number): T {
  return variants[seed % variants.length];
}

function quoteTitles(challenges: ChallengeResult[]): string {
  return challenges.map((challenge) => `'${challenge.title}'`).join(', ');
}

function feedbackText(prompt: string): string {
  const seed = hashText(prompt);
  const challenges = findChallenges(prompt);
  const succeeded = challenges.filter((challenge) => challenge.succeeded);
  const failed = challenges.filter((challenge) => !challenge.succeeded);
  const sentences = [pick(OPENINGS, seed)];
  if (succeeded.length > 0) sentences.push(pick(PRAISES, seed >>> 4)(quoteTitles(succeeded)));
  if (failed.length > 0) sentences.push(pick(ENCOURAGEMENTS, seed >>> 8)(quoteTitles(failed)));
  if (challenges.length === 0) sentences.push(NO_CHALLENGES);
  sentences.push(pick(CLOSINGS, seed >>> 12));
  return sentences.join(' ');
}

/** Cuts text to at most `maxTokens` tokens, on code points so an emoji is never split. */
function limitTokens(text: string, maxTokens: number | undefined): { text: string; truncated: boolean } {
  if (maxTokens === undefined || countTokens(text) <= maxTokens) return { text, truncated: false };
  const points = Array.from(text);
  // The longest prefix that fits (binary search: counts grow with the prefix).
  let [fits, over] = [0, points.length];
  while (over - fits > 1) {
    const middle = Math.floor((fits + over) / 2);
    if (countTokens(points.slice(0, middle).join('')) <= maxTokens) fits = middle;
    else over = middle;
  }
  return { text: points.slice(0, fits).join(''), truncated: true };
}
