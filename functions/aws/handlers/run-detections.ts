/**
 * Lambda handler `run-detections` (contract: ./contracts.ts), invoked by EventBridge Scheduler. Runs the
 * bundled detection catalogue's selected detections on Athena over the window before the scheduled time, over the
 * trail and over each case whose derived Parquet holds rows of the window (shared/detections/case-sources.ts),
 * writes the findings to `findings/<yyyy>/<mm>/<dd>/<run id>.json` in the evidence bucket (write-once),
 * records an `accessed` entry in each case the findings cite, publishes a plain-text summary to the findings
 * topic and, when SECURITY_HUB_FINDINGS=true, imports the findings into Security Hub (ASFF). Those ledger
 * entries' checkpoints are signed with the KMS key SIGNING_KEY_ARN names, opened only when findings cite a case.
 * DETECTION_PARAMETERS (JSON, `{"detection-id.name": value}`, '' or {} for none) overrides detection thresholds.
 */
import { AthenaQueryEngine } from '../adapters/athena-query-engine.ts';
import { lazyKmsSigner } from '../adapters/kms-signer.ts';
import { createS3Client, s3ConfigFromEnv } from '../adapters/s3-client.ts';
import { S3ObjectStore } from '../adapters/s3-object-store.ts';
import { SecurityHubFindingsNotifier } from '../adapters/security-hub-findings-notifier.ts';
import { SnsFindingsNotifier } from '../adapters/sns-findings-notifier.ts';
import { bundledCatalogue } from '../bundled-catalogue.ts';
import { booleanVar, readEnv } from '../env.ts';
import { actorOf, createLogger, placeOf, withInvocation, type LambdaContext } from '../runtime.ts';
import { InvalidInputError } from '../../../shared/errors.ts';
import { runScheduledDetections } from '../../../shared/detections/scheduled-run.ts';
import { derivedCaseRuns } from '../../../shared/detections/case-sources.ts';
import { withParameterJson } from '../../../shared/detections/parameters.ts';
import type { FindingsNotifier } from '../../../shared/ports/findings-notifier.ts';
import type { DetectionRunInput, DetectionRunOutput } from './contracts.ts';

const env = readEnv('run-detections');
const securityHubEnabled = booleanVar('SECURITY_HUB_FINDINGS', env.SECURITY_HUB_FINDINGS);
if (!/^[a-z0-9_]{1,255}$/.test(env.ATHENA_DATABASE)) {
  throw new InvalidInputError(`ATHENA_DATABASE ${JSON.stringify(env.ATHENA_DATABASE)} is not a Glue database name`, { hint: 'lowercase letters, digits and underscores' });
}
const logger = createLogger('run-detections');
// Thresholds the deployment overrides (CDK context amber:detectionParameters), checked at cold start.
const catalogue = withParameterJson(bundledCatalogue(), env.DETECTION_PARAMETERS, 'DETECTION_PARAMETERS');
const store = new S3ObjectStore({ bucket: env.EVIDENCE_BUCKET, client: createS3Client(s3ConfigFromEnv()) });
const engine = new AthenaQueryEngine({ workgroup: env.ATHENA_WORKGROUP, database: env.ATHENA_DATABASE });
// Every detection also runs over each case with derived rows in the window (its evidence tables need the case).
const cases = derivedCaseRuns(store, env.ATHENA_DATABASE);
const sns = new SnsFindingsNotifier({ topicArn: env.FINDINGS_TOPIC_ARN });
const signer = lazyKmsSigner({ keyId: env.SIGNING_KEY_ARN });
// Security Hub needs the function's own account and region, known from the first invocation's context.
let securityHub: SecurityHubFindingsNotifier | undefined;

export const handler = async (event: DetectionRunInput, context?: LambdaContext): Promise<DetectionRunOutput> =>
  withInvocation(logger, context, {}, async () => {
    const notifiers: FindingsNotifier[] = [sns];
    if (securityHubEnabled) {
      if (!securityHub) {
        const place = placeOf(context);
        const accountId = place.accountId;
        const region = place.region ?? process.env.AWS_REGION;
        if (!accountId || !region) throw new InvalidInputError('cannot tell this function\'s account and region for Security Hub (no invokedFunctionArn)', { hint: 'invoke it as a Lambda function, or set SECURITY_HUB_FINDINGS=false' });
        securityHub = new SecurityHubFindingsNotifier({ accountId, region, evidenceBucket: env.EVIDENCE_BUCKET });
      }
      notifiers.push(securityHub);
    }
    const result = await runScheduledDetections(
      { engine, store, catalogue, sources: { cloudtrail: `"${env.ATHENA_DATABASE}"."cloudtrail"` }, cases, actor: actorOf(context), notifiers, signer },
      { detections: event?.detections ?? [], window: event?.window ?? '', ...(event?.scheduledTime ? { scheduledTime: event.scheduledTime } : {}) },
    );
    for (const e of result.errors) logger.error('detection failed', { detection: e.detection, error: e.error });
    logger.info('detections run', { runId: result.runId, findings: result.findings, bySeverity: result.bySeverity, findingsKey: result.findingsKey, cases: result.cases, notified: result.notified });
    return { runId: result.runId, findingsKey: result.findingsKey, findingsSha256: result.findingsSha256, findings: result.findings, errors: result.errors, cases: result.cases };
  });
