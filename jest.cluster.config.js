/**
 * The cluster tier (`npm run test:cluster`): the e2e suites of the fast tier and the suites that talk to
 * Temporal's operator API, on the `cluster` engine (a Temporal server on PostgreSQL with 4 shards and
 * SQL visibility: scripts/temporal-cluster.sh) instead of the dev server. Not part of CI.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS config file extends the other
const fast = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...fast,
  testMatch: ['**/test/e2e/*.test.ts', '**/test/ops/setup-server.test.ts', '**/test/ops/operations.test.ts'],
  // test/support/stack.ts: this tier's own stack (scripts/infra.sh profile test-cluster).
  globals: { testStackProfile: 'test-cluster' },
};
