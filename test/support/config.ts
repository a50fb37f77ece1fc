import { ConfigError, type ApiAuth } from '../../src/config';

/** The problems of the ConfigError that `fn` throws (fails the test if it throws none). */
export function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** For tests of something else than authentication: the API with authentication explicitly off. */
export const NO_AUTH: ApiAuth = { mode: 'none' };
