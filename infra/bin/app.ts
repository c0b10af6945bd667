/**
 * CDK app entry (`npx cdk synth`, `npx cdk deploy`). Reads the `amber:*` context (cdk.json, or -c key=value)
 * once, loads the detection catalogue, and builds the evidence and member-account stacks with cdk-nag's
 * AwsSolutions checks. Bad context values, and a detection folder that does not load, are reported with exit
 * status 2: every context problem at once, the detection with its file and field.
 */
import { isAmberError } from '../../shared/errors.ts';
import { loadCatalogue } from '../../shared/detections/catalogue.ts';
import { ConfigError } from '../lib/config.ts';
import { createAmberApp } from '../lib/amber-app.ts';

try {
  const { app } = createAmberApp({
    detections: await loadCatalogue(),
    defaultEnv: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  app.synth();
} catch (err) {
  if (err instanceof ConfigError || isAmberError(err)) {
    console.error(`${err.message}${isAmberError(err) && err.hint ? `\n${err.hint}` : ''}`);
    process.exitCode = 2;
  } else {
    throw err;
  }
}
