// Lint: typescript-eslint's recommended rules, no `any`, and the core kept free of transport and
// storage libraries (DESIGN: pure core, thin edges).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const SIMULATIONS_OUT = { group: ['**/simulations/**'], message: 'the server does not import the simulations (they import it)' };

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
          patterns: [
            { group: ['node:*'], message: 'the core and shared code run in the browser too; keep Node APIs at the edges' },
            SIMULATIONS_OUT,
          ],
        },
      ],
    },
  },
  {
    // The server runs without the simulations: what the demo needs of them lives in server/demo/.
    files: ['server/**/*.ts'],
    ignores: ['server/core/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [SIMULATIONS_OUT] }] },
  },
);
