/** Injectable faults: which rule applies to a request, and what each kind does to it. */
import { z } from 'zod';

export type FaultKind =
  'error500' | 'error400' | 'unauthorized' | 'hang' | 'slow' | 'empty' | 'english' | 'echo';

/**
 * A rule with `count` applies to the next `count` requests; one with `probability` applies at random;
 * one with both applies at random until it has applied `count` times; one with neither applies always.
 */
export interface FaultRule {
  kind: FaultKind;
  count?: number;
  probability?: number;
  slowMs?: number;
}

const FAULT_KINDS = [
  'error500',
  'error400',
  'unauthorized',
  'hang',
  'slow',
  'empty',
  'english',
  'echo',
] as const satisfies readonly FaultKind[];

export const faultRuleSchema = z.object({
  kind: z.enum(FAULT_KINDS),
  count: z.int().min(0).optional(),
  probability: z.number().min(0).max(1).optional(),
  slowMs: z.number().min(0).optional(),
});

const DEFAULT_SLOW_MS = 5000;
const ENGLISH_TEXT = 'Great job this week! Keep going with your green habits.';

export class FaultRules {
  private rules: FaultRule[] = [];
  private readonly injected: Record<string, number> = {};

  replace(rules: FaultRule[]): void {
    // Copies, since counts are decremented here and the caller's objects stay untouched.
    this.rules = z.array(faultRuleSchema).parse(rules);
  }

  /** The first rule that applies to this request, if any; counts it as injected. */
  next(): FaultRule | undefined {
    const rule = this.rules.find((candidate) => this.applies(candidate));
    if (!rule) return undefined;
    if (rule.count !== undefined) rule.count -= 1;
    this.injected[rule.kind] = (this.injected[rule.kind] ?? 0) + 1;
    return rule;
  }

  counts(): Record<string, number> {
    return { ...this.injected };
  }

  resetCounts(): void {
    for (const kind of Object.keys(this.injected)) delete this.injected[kind];
  }

  private applies(rule: FaultRule): boolean {
    if (rule.count !== undefined && rule.count <= 0) return false;
    return rule.probability === undefined || Math.random() < rule.probability;
  }
}

export interface FaultError {
  status: 400 | 401 | 500;
  message: string;
  /**
   * vLLM answers in two shapes depending on version and code path; clients must read both. Its
   * `--api-key` check answers a third, `{"error": "Unauthorized"}`.
   */
  shape: 'old' | 'new' | 'auth';
}

/** The error a fault answers with instead of generating. */
export function faultError(fault: FaultRule | undefined): FaultError | undefined {
  if (fault?.kind === 'error500') {
    return { status: 500, message: 'Simulated fault: the engine failed while generating.', shape: 'old' };
  }
  if (fault?.kind === 'error400') {
    return { status: 400, message: 'Simulated fault: the request was rejected.', shape: 'new' };
  }
  if (fault?.kind === 'unauthorized') {
    // As vLLM with --api-key answers a wrong key (e.g. while the key is being rotated).
    return { status: 401, message: 'Unauthorized', shape: 'auth' };
  }
  return undefined;
}

/** The text a fault sends in place of the feedback on `prompt`, if it is one that does. */
export function replacementText(fault: FaultRule | undefined, prompt: string): string | undefined {
  if (fault?.kind === 'empty') return '';
  if (fault?.kind === 'english') return ENGLISH_TEXT;
  if (fault?.kind === 'echo') return prompt;
  return undefined;
}

/** A hanging request holds its slot until the client or the server gives up. */
export function hangs(fault: FaultRule | undefined): boolean {
  return fault?.kind === 'hang';
}

/** Generation time a fault adds. */
export function faultDelayMs(fault: FaultRule | undefined, latencyMs: number): number {
  if (fault?.kind !== 'slow') return 0;
  return fault.slowMs ?? (latencyMs > 0 ? 10 * latencyMs : DEFAULT_SLOW_MS);
}
