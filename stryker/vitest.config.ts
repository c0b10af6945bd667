/**
 * The tests mutation testing runs (`npm run test:mutation`): those that exercise the evidence core, the
 * detection runner and the analytics, CLI tests included (they run the CLI in-process, so they see mutants).
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: [
      'test/shared/evidence/**/*.test.ts',
      'test/shared/detections/findings.test.ts',
      'test/shared/detections/findings-soundness.test.ts',
      'test/shared/detections/run-guards.test.ts',
      'test/shared/analytics/**/*.test.ts',
      'test/scripts/verify-laundering.test.ts',
      'test/scripts/amber-cli.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
