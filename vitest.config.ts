import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Browser and server tests each start a real server; two at a time suits two cores.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
