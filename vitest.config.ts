import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'drivers/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: run files in parallel, but keep heavy end-to-end files from starving each other.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    // One temporary directory per run, removed at its end (test/support/test-tmpdir.ts).
    globalSetup: ['./test/support/test-tmpdir.ts'],
  },
});
