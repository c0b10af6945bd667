/**
 * The Amber CDK app as tests build it: cdk.json's context with fixed test accounts and region, the real detection
 * catalogue, and (unless a test needs the bundles) Lambda bundling skipped, so a synth takes about a second.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { loadCatalogue, type Detection } from '../../shared/detections/catalogue.ts';
import { createAmberApp, type AmberApp } from '../../infra/lib/amber-app.ts';
import { REPO_ROOT } from '../../infra/lib/constructs/amber-function.ts';
import type { CfnTemplate } from './cfn.ts';

export const EVIDENCE_ACCOUNT = '111111111111';
export const MEMBER_ACCOUNT = '222222222222';
export const OTHER_ACCOUNT = '999999999999';
export const REGION = 'eu-west-1';

/** cdk.json's context: feature flags and the amber:* defaults. */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
}

let detections: Promise<Detection[]> | undefined;
/** The shipped catalogue, loaded once per test file. */
export function catalogue(): Promise<Detection[]> {
  detections ??= loadCatalogue();
  return detections;
}

export interface TestAppOptions {
  /** Context values over cdk.json's. */
  readonly context?: Record<string, unknown>;
  /** Bundle the functions with esbuild (slower; only what inspects assets needs it). @default false */
  readonly bundle?: boolean;
  /** Register cdk-nag's checks. @default false */
  readonly nag?: boolean;
}

/** The app in single-account mode (evidence account 111111111111, eu-west-1) unless the context says otherwise. */
export async function testApp(options: TestAppOptions = {}): Promise<AmberApp> {
  const context: Record<string, unknown> = {
    ...cdkJsonContext(),
    'amber:evidenceAccountId': EVIDENCE_ACCOUNT,
    'amber:evidenceRegion': REGION,
    ...options.context,
  };
  // As the CLI does: aws:cdk:path metadata on every resource (tests find resources by construct path).
  context['aws:cdk:enable-path-metadata'] = true;
  // CDK's own switch for `cdk synth --exclusively`: no stack is bundled, assets point at a placeholder.
  if (!options.bundle) context['aws:cdk:bundling-stacks'] = [];
  return createAmberApp({ detections: await catalogue(), appProps: { context }, nag: options.nag ?? false });
}

/** A multi-account deployment: evidence 111111111111, member 222222222222. */
export const MULTI_ACCOUNT = { 'amber:singleAccount': false, 'amber:memberAccountIds': [MEMBER_ACCOUNT] } as const;

/** Both templates of an app. */
export function templates(app: AmberApp): { evidence: Template; member: Template; evidenceJson: CfnTemplate; memberJson: CfnTemplate } {
  const evidence = Template.fromStack(app.evidence);
  const member = Template.fromStack(app.member);
  return { evidence, member, evidenceJson: evidence.toJSON() as CfnTemplate, memberJson: member.toJSON() as CfnTemplate };
}
