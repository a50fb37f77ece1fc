/** The slow tier (`npm run test:slow`): the suites that wait real minutes (`*.slow.test.ts`). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS config file extends the other
const fast = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...fast,
  testMatch: ['**/*.slow.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  // test/support/stack.ts: this tier's own stack (scripts/infra.sh profile test-slow).
  globals: { testStackProfile: 'test-slow' },
};
