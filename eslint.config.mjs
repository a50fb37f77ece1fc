import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.tools/', '.data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['*.js', '*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { module: 'writable', require: 'readonly' } },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O modules.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': sandboxed('Workflows', {
        group: ['../config', '../config/*'],
        message: 'Workflows must not read configuration.',
      }),
    },
  },
  {
    // The definitions every role shares, workflow code included: the same rules, and nothing of
    // another room of src/.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': sandboxed('domain/', {
        group: ['../*'],
        message: 'domain/ imports nothing from the rest of src/.',
      }),
    },
  },
);

/** Code that may run in the workflow sandbox: no Node built-ins, no I/O modules, and `more`. */
function sandboxed(who, more) {
  return [
    'error',
    {
      patterns: [
        {
          group: ['node:*', 'fs', 'path', 'crypto', 'http', 'https', 'os', 'child_process'],
          message: `${who} must not use Node built-ins.`,
        },
        {
          group: [
            '@aws-sdk/*',
            'express',
            'pino',
            '@temporalio/client',
            '@temporalio/worker',
            '@temporalio/activity',
          ],
          message: `${who} must not do I/O.`,
        },
        more,
      ],
    },
  ];
}
