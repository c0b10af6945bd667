/**
 * CDK app entry (`npx cdk synth`). The AWS deployment (evidence bucket with Object Lock, Athena tables,
 * scheduled detections, event-triggered preservation, member-account stack) is not built yet: this entry
 * says so instead of synthesizing an empty app that looks deployable.
 */
console.error(
  'amber: the AWS deployment (CDK stacks) is not built yet. Today Amber runs on the embedded default: ' +
    '`npx amber collect` / `npx amber verify` with a local or S3 locker (see README.md).',
);
process.exitCode = 1;
