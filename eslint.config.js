// Lint: typescript-eslint's recommended rules, no `any`, and the core kept free of transport and
// storage libraries (DESIGN: pure core, thin edges).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'web/dist/', 'dist/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['server/core/**/*.ts', 'shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['socket.io', 'socket.io-client', 'express', 'ioredis', 'pino'].map((name) => ({
            name,
            message: 'the core and shared code stay free of transport, storage and logging libraries',
          })),
          patterns: [{ group: ['node:*'], message: 'the core and shared code run in the browser too; keep Node APIs at the edges' }],
        },
      ],
    },
  },
);
