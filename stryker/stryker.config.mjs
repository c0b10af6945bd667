// @ts-check
/**
 * Mutation testing of the evidence core, the detection runner and the analytics: `npm run test:mutation`.
 * Not in CI (too slow for it). Incremental: a re-run tests only mutants whose code or tests changed since
 * the last run (reports/mutation/incremental.json, git-ignored). HTML report: reports/mutation/index.html.
 * One file at a time: `npm run test:mutation -- --mutate shared/evidence/local-object-store.ts`.
 * Mutants known to be equivalent are listed, with the reason, in stryker/EQUIVALENT.md.
 */
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'stryker/vitest.config.ts', related: false },
  mutate: ['shared/evidence/**/*.ts', 'shared/detections/run.ts', 'shared/analytics/**/*.ts'],
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: 'reports/mutation/incremental.json',
  reporters: ['html', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  // The machine is shared: one test process; lock tests wait up to 30 s, so a mutant that stalls them is a timeout.
  concurrency: 1,
  timeoutMS: 60_000,
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['/cdk.out', '/dist', '/evidence', '/reports', '/coverage', '/.bench', '/.s3-server', '/.stryker-tmp'],
  thresholds: { high: 90, low: 75, break: null },
};
