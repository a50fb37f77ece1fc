/** Checks a generated feedback text before it is delivered. Pure; used by the generateCheckedFeedback activity. */

export type GuardrailVerdict =
  | { ok: true; text: string }
  | { ok: false; reason: 'empty' | 'too-long' | 'no-hangul' | 'echoes-prompt'; detail: string };

const HANGUL = /[\u3131-\u318E\uAC00-\uD7A3]/;

/** Instruction lines of the prompt (not the member's data) that a real answer never repeats verbatim. */
function instructionLines(prompt: string): string[] {
  return prompt
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length >= 20 && !line.startsWith('-') && !line.includes(':'));
}

export function checkFeedback(text: string, prompt: string, maxChars: number): GuardrailVerdict {
  const trimmed = text.trim();
  if (trimmed.length === 0) return { ok: false, reason: 'empty', detail: 'the model returned no text' };
  const length = [...trimmed].length;
  if (length > maxChars) {
    return { ok: false, reason: 'too-long', detail: `${length} characters, at most ${maxChars} allowed` };
  }
  if (!HANGUL.test(trimmed)) return { ok: false, reason: 'no-hangul', detail: 'the text contains no Korean' };
  const echoed = instructionLines(prompt).find((line) => trimmed.includes(line));
  if (echoed !== undefined) {
    return {
      ok: false,
      reason: 'echoes-prompt',
      detail: `the text repeats the instruction "${echoed.slice(0, 30)}…"`,
    };
  }
  return { ok: true, text: trimmed };
}
