/**
 * The fast tier (`npm test`): every suite except `*.slow.test.ts`, which wait real minutes and run
 * with `npm run test:slow` (jest.slow.config.js). README › Testing has the rule and the times.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '\\.slow\\.test\\.ts$'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testTimeout: 60000,
  // Two cores: most suites wait on servers and processes, so two run side by side (docs/testing.md).
  maxWorkers: 2,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  setupFiles: ['<rootDir>/test/support/jest-setup.ts'],
};
