/** The HTTP API: where it listens, how it authenticates callers, CORS. */
import { z } from 'zod';
import { int, optionalKeys, optionalString } from './fields';

/** How the API authenticates callers (secrets, never logged). */
export type ApiAuth =
  | { mode: 'none' }
  | { mode: 'bearer'; token: string }
  | { mode: 'hmac'; secret: string; windowSeconds: number };

const apiEnv = z.object({
  API_PORT: int(0, 65535).default(8000),
  API_HOST: z.string().min(1).default('0.0.0.0'),
  // Authentication of /ai/feedback (POST and GET) and /metrics: a bearer token, or an HMAC signature of
  // the body with a timestamp (src/shared/signing.ts). `none` only when set explicitly (local runs).
  API_AUTH_MODE: z.enum(['bearer', 'hmac', 'none']).default('bearer'),
  API_AUTH_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  API_AUTH_HMAC_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  API_AUTH_WINDOW_SECONDS: int(10, 3600).default(300),
  /** Comma-separated origins allowed by CORS; unset: no CORS headers at all. */
  API_CORS_ORIGINS: optionalString,
});
export const apiSection = apiEnv.transform((env) =>
  optionalKeys({
    port: env.API_PORT,
    host: env.API_HOST,
    auth: apiAuth(env),
    corsOrigins: env.API_CORS_ORIGINS?.split(',')
      .map((o) => o.trim())
      .filter((o) => o.length > 0),
  }),
);

/** Problems of a process that serves the API (the `apiAuth` requirement). */
export function apiAuthProblems(env: z.infer<typeof apiEnv>): string[] {
  if (env.API_AUTH_MODE === 'bearer' && !env.API_AUTH_TOKEN) {
    return ['API_AUTH_TOKEN: required when API_AUTH_MODE=bearer (or set API_AUTH_MODE=none for a local run)'];
  }
  if (env.API_AUTH_MODE === 'hmac' && !env.API_AUTH_HMAC_SECRET) {
    return ['API_AUTH_HMAC_SECRET: required when API_AUTH_MODE=hmac'];
  }
  return [];
}

function apiAuth(env: z.infer<typeof apiEnv>): ApiAuth {
  if (env.API_AUTH_MODE === 'bearer' && env.API_AUTH_TOKEN)
    return { mode: 'bearer', token: env.API_AUTH_TOKEN };
  if (env.API_AUTH_MODE === 'hmac' && env.API_AUTH_HMAC_SECRET) {
    return { mode: 'hmac', secret: env.API_AUTH_HMAC_SECRET, windowSeconds: env.API_AUTH_WINDOW_SECONDS };
  }
  if (env.API_AUTH_MODE === 'none') return { mode: 'none' };
  // Bearer or hmac without its secret: only a process that requires 'apiAuth' may not run like this
  // (the API); the others never authenticate callers. Refuse everything rather than allow anything.
  return { mode: 'bearer', token: '' };
}
