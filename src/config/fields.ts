/** Field types shared by the settings schemas, and the one way an environment is parsed. */
import { z } from 'zod';

export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
export const url = z.url({ protocol: /^https?$/ });
export const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));
/** Like `url.optional()`, but an empty value (`VAR=`, or compose's `${VAR:-}`) means unset. */
export const optionalUrl = optionalString.pipe(url.optional());
/** `true`/`false` (also `1`/`0`, `yes`/`no`, any case); empty or absent means unset. */
export const optionalBool = optionalString
  .transform((v) => v?.trim().toLowerCase())
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']).optional())
  .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1' || v === 'yes'));

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses `source` with `schema`; a bad value stops with the variable's name, never its value (a secret). */
export function parseEnvironment<S extends z.ZodObject>(schema: S, source: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = schema.safeParse(source);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`),
  );
}

/**
 * Types a section's settings with the keys whose value may be undefined as optional (`endpoint?:
 * string`), as a hand-written settings type would have them; the object itself is unchanged.
 */
export function optionalKeys<T extends object>(settings: T): WithOptionalKeys<T> {
  return settings as WithOptionalKeys<T>;
}

type WithOptionalKeys<T> = Simplify<
  { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
    [K in keyof T as undefined extends T[K] ? K : never]?: T[K];
  }
>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
