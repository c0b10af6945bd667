/**
 * `amber demo` (what `npm start` runs): a deterministic synthetic intrusion in CloudTrail's S3-delivered
 * layout (shared/demo/incident.ts) is written to a temporary folder, then collected into the `demo` case,
 * verified, run through the detection catalogue and written up as an HTML report, on the embedded default.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { generateIncident } from '../../shared/demo/incident.ts';
import { generateMultiCloud } from '../../shared/demo/multicloud.ts';
import { recogniseSource } from '../../shared/sources/recognise.ts';
import { collectEvidence } from '../../shared/evidence/collect.ts';
import { LocalEvidenceSource } from '../../shared/evidence/local-source.ts';
import type { Finding } from '../../shared/detections/run.ts';
import type { Values } from '../amber.ts';
import { optionalString } from './args.ts';
import { actorFrom, lockerSpec, openLocker } from './context.ts';
import { formatBytes, t, type Io } from './io.ts';
import { buildReport } from './report.ts';
import { safeOutputPath } from './output-path.ts';

const CASE = 'demo';
const DAY_MS = 86_400_000;

/** Runs `amber demo`. */
export async function runDemo(values: Values, _positionals: string[], io: Io): Promise<number> {
  const started = performance.now();
  const lockerDir = lockerSpec(optionalString(values, 'locker'), io);
  await safeOutputPath(optionalString(values, 'out') ?? 'amber-demo-report.html', io.cwd, /^[a-z][a-z0-9+.-]*:\/\//i.test(lockerDir) ? undefined : resolve(io.cwd, lockerDir));
  const work = await mkdtemp(join(tmpdir(), 'amber-demo-'));
  try {
    const files = [...generateIncident(), ...generateMultiCloud()];
    for (const f of files) {
      await mkdir(dirname(join(work, f.path)), { recursive: true });
      await writeFile(join(work, f.path), f.bytes);
    }
    const lockerFlag = optionalString(values, 'locker');
    const store = await openLocker(lockerSpec(lockerFlag, io), io, { create: true });
    const collected = await collectEvidence({
      store,
      caseName: CASE,
      // One source per top folder, so keys read cases/demo/AWSLogs/..., cases/demo/azure/..., as exported.
      sources: await Promise.all([...new Set(files.map((f) => f.path.split('/')[0]!))].sort().map((top) => LocalEvidenceSource.open(join(work, top)))),
      actor: actorFrom(io),
      retainUntil: new Date(Date.now() + 365 * DAY_MS),
      recognise: recogniseSource,
    });
    const out = optionalString(values, 'out') ?? 'amber-demo-report.html';
    const report = await buildReport(CASE, lockerFlag, out, io);
    const seconds = (performance.now() - started) / 1000;
    if (values.json) {
      io.out(`${JSON.stringify({ case: CASE, collected, intact: report.intact, events: report.events, findings: report.run.findings, report: report.exported, seconds }, null, 2)}\n`);
      return report.intact ? 0 : 3;
    }
    const findings = report.run.findings;
    io.out(
      [
        'Amber demo: a synthetic intrusion across AWS, Entra ID, Microsoft 365 and Google Cloud, investigated on the embedded default.',
        '',
        `1. collect  ${collected.items} log files (${formatBytes(collected.bytes)}, ${report.events} events from ${report.sources.join(', ')}) into case "${CASE}", each SHA-256-hashed as stored`,
        `            (${collected.created} new, ${collected.reacquired} already preserved: the incident is deterministic, so reruns add no duplicates)`,
        `2. verify   ${report.intact ? 'INTACT: every object re-hashed, custody ledger chain and checkpoints unbroken' : 'INTEGRITY FAILURE: see the report'}`,
        `3. detect   ${report.run.detections} detections and analytics (the catalogue is the same Athena SQL that runs in AWS), ${findings.length} findings:`,
        ...summarise(findings),
        `4. report   ${t(report.exported.path ?? '')}`,
        `            (self-contained HTML; its SHA-256 ${report.exported.sha256.slice(0, 16)}... is in the custody ledger)`,
        '',
        `Done in ${seconds.toFixed(1)} s. Locker: ${t(store.uri)}`,
        'Next:',
        `  npx amber detect --case ${CASE}                          findings with evidence references`,
        `  npx amber timeline --case ${CASE} --format csv --out timeline.csv`,
        `  npx amber verify --case ${CASE}                          re-hash everything, check the ledger`,
        '',
      ].join('\n'),
    );
    return report.intact ? 0 : 3;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** One line per detection that fired, most severe first, with its count. */
function summarise(findings: readonly Finding[]): string[] {
  const byDetection = new Map<string, { f: Finding; n: number }>();
  for (const f of findings) {
    const seen = byDetection.get(f.detection);
    if (seen) seen.n += 1;
    else byDetection.set(f.detection, { f, n: 1 });
  }
  return [...byDetection.values()].map(({ f, n }) => `     ${f.severity.toUpperCase().padEnd(8)} ${t(f.title)}${n > 1 ? ` (x${n})` : ''}  [${f.mitre.join(', ')}]`);
}
