/**
 * `amber demo` (what `npm start` runs): generates a small, deterministic sample of CloudTrail-shaped log
 * files in CloudTrail's S3 layout, collects them into the `demo` case and verifies it. Detection, timeline
 * and the HTML report join the demo when those commands exist.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { collectEvidence } from '../../shared/evidence/collect.ts';
import { LocalEvidenceSource } from '../../shared/evidence/local-source.ts';
import { verifyCase } from '../../shared/evidence/verify.ts';
import type { Values } from '../amber.ts';
import { optionalString } from './args.ts';
import { actorFrom, lockerSpec, openLocker } from './context.ts';
import { formatBytes, t, type Io } from './io.ts';

const ACCOUNT = '111122223333';

/** Runs `amber demo`. */
export async function runDemo(values: Values, _positionals: string[], io: Io): Promise<number> {
  const work = await mkdtemp(join(tmpdir(), 'amber-demo-'));
  try {
    const sample = join(work, 'AWSLogs');
    await writeSample(sample);
    const store = await openLocker(lockerSpec(optionalString(values, 'locker'), io), io, { create: true });
    const actor = actorFrom(io);
    const source = await LocalEvidenceSource.open(sample);
    const collected = await collectEvidence({ store, caseName: 'demo', sources: [source], actor, clock: () => new Date() });
    const verified = await verifyCase({ store, caseName: 'demo', actor });
    if (values.json) {
      io.out(`${JSON.stringify({ collected, verified: { intact: verified.intact, items: verified.items.length, failures: verified.failures } }, null, 2)}\n`);
    } else {
      io.out(
        [
          'Amber demo: a generated sample of CloudTrail log files, preserved and verified on the embedded default.',
          '',
          `1. collect  ${collected.items} objects (${formatBytes(collected.bytes)}) into case "demo", each hashed with SHA-256 while stored`,
          `            (${collected.created} new, ${collected.reacquired} already preserved: the sample is deterministic, so reruns are idempotent)`,
          `2. verify   ${verified.intact ? 'INTACT' : 'INTEGRITY FAILURE'}: ${verified.items.length} objects re-hashed, ${verified.ledgerEntries} custody-ledger entries chained`,
          '',
          `Locker: ${t(store.uri)}`,
          'Look around:',
          '  npx amber cases',
          '  npx amber verify --case demo',
          '  cat evidence/cases/demo/custody-ledger.jsonl',
          '',
        ].join('\n'),
      );
    }
    return verified.intact ? 0 : 3;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Writes a few hours of plausible, fixed CloudTrail records as S3-delivered .json.gz files. */
async function writeSample(root: string): Promise<void> {
  const names = ['ListBuckets', 'DescribeInstances', 'GetCallerIdentity', 'AssumeRole', 'GetObject'];
  for (let hour = 0; hour < 6; hour++) {
    const stamp = `20261120T${String(hour).padStart(2, '0')}05Z`;
    const dir = join(root, ACCOUNT, 'CloudTrail', 'us-east-1', '2026', '11', '20');
    await mkdir(dir, { recursive: true });
    const records = Array.from({ length: 40 }, (_, i) => ({
      eventVersion: '1.09',
      userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLEDEMO', arn: `arn:aws:iam::${ACCOUNT}:user/demo-analyst`, accountId: ACCOUNT, userName: 'demo-analyst' },
      eventTime: `2026-11-20T${String(hour).padStart(2, '0')}:${String(i).padStart(2, '0')}:00Z`,
      eventSource: 'ec2.amazonaws.com',
      eventName: names[(hour + i) % names.length],
      awsRegion: 'us-east-1',
      sourceIPAddress: '198.51.100.7',
      userAgent: 'aws-cli/2.15.0',
      requestParameters: null,
      responseElements: null,
      requestID: `req-${hour}-${i}`,
      eventID: `00000000-0000-4000-8000-${String(hour * 100 + i).padStart(12, '0')}`,
      readOnly: true,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
      eventCategory: 'Management',
    }));
    const file = `${ACCOUNT}_CloudTrail_us-east-1_${stamp}_demo${hour}.json.gz`;
    await writeFile(join(dir, file), gzipSync(JSON.stringify({ Records: records }), { level: 6 }));
  }
}
