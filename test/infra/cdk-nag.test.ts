/**
 * The whole app under cdk-nag's AwsSolutions checks, as `cdk synth` runs it: Lambda bundles built by the local
 * esbuild, no unacknowledged finding (error or warning), and every acknowledgement sits on a construct with a
 * reason. Also checks the bundles: one ESM index.mjs per handler, with the pinned AWS SDK inside.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { AmberApp } from '../../infra/lib/amber-app.ts';
import { MULTI_ACCOUNT, testApp } from '../helpers/infra.ts';
import { HANDLER_ENV } from '../../functions/aws/handlers/contracts.ts';

/** Every acknowledgement in the construct tree: where, which finding, why. */
function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  const out: Array<{ path: string; id: string; reason: string }> = [];
  for (const c of root.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) out.push({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason });
    }
  }
  return out;
}

/** Violations cdk-nag's AwsSolutions pack reports on the tree, as "rule at path". */
function violations(amber: AmberApp): string[] {
  const report = new AwsSolutionsChecks(amber.app).validateScope(amber.app);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`));
}

describe('cdk-nag AwsSolutions', () => {
  let amber: AmberApp;
  let outdir: string;

  beforeAll(async () => {
    // GIVEN the app as `cdk synth` builds it: bundled functions, cdk-nag registered
    amber = await testApp({ bundle: true, nag: true });
    // WHEN it is synthesized (validation plugins run here; a violation makes synth fail)
    outdir = amber.app.synth().directory;
  }, 600_000);

  it('reports no unacknowledged error or warning in either stack', () => {
    expect(violations(amber)).toEqual([]);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ conclusion?: string; violations?: unknown[] }> };
    for (const plugin of report.pluginReports) expect(plugin.violations ?? []).toEqual([]);
  });

  it('also passes in multi-account mode with an organisation trail', async () => {
    const multi = await testApp({ context: { ...MULTI_ACCOUNT, 'amber:organizationId': 'o-a1b2c3d4e5', 'amber:trailPrefix': 'org', 'amber:trailKmsKeyArn': 'arn:aws:kms:eu-west-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab', 'amber:securityHubFindings': true } });
    expect(violations(multi)).toEqual([]);
  });

  it('acknowledges findings only by exact id, beside a resource, each with a reason', () => {
    const acks = acknowledgements(amber.app);
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(a.id, a.path).toMatch(/^(AwsSolutions-[A-Z]+\d+(\[.+\])?|CloudFormation-Validate::F\d+)$/);
      expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(40);
      // Never on a stack or the app: beside the resource it concerns.
      expect(a.path.split('/').length, a.path).toBeGreaterThan(1);
    }
    // Wildcard findings are acknowledged one resource at a time, never the whole rule.
    expect(acks.filter((a) => a.id === 'AwsSolutions-IAM5')).toEqual([]);
  });

  it('bundles each handler of the contract into one ESM index.mjs, the AWS SDK included, with the scripts the SSM captures read, and DuckDB beside derive-object', () => {
    const manifest = JSON.parse(readFileSync(join(outdir, 'AmberEvidence.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string; packaging?: string } }> };
    const dirs = Object.values(manifest.files).filter((f) => f.source.packaging === 'zip').map((f) => join(outdir, f.source.path));
    expect(dirs).toHaveLength(Object.keys(HANDLER_ENV).length);
    // The triage scripts and memory templates sit where the bundled code looks for them (new URL(..., import.meta.url)).
    const withFiles = (names: string[]) => dirs.filter((d) => names.every((n) => existsSync(join(d, n))));
    expect(withFiles(['linux.sh', 'windows.ps1'])).toHaveLength(1);
    expect(withFiles(['triage/avml.sh.tmpl', 'triage/winpmem.ps1.tmpl'])).toHaveLength(1);
    // derive-object writes Parquet with DuckDB: its native bindings sit beside the bundle, not in it.
    const withDuckDb = dirs.filter((dir) => existsSync(join(dir, 'node_modules', '@duckdb', 'node-api', 'package.json')));
    expect(withDuckDb).toHaveLength(1);
    expect(readdirSync(join(withDuckDb[0]!, 'node_modules', '@duckdb')).sort()).toEqual(['node-api', 'node-bindings', 'node-bindings-linux-x64']);
    expect(readFileSync(join(withDuckDb[0]!, 'index.mjs'), 'utf8')).toMatch(/["']@duckdb\/node-api["']/);
    for (const dir of dirs) {
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      // The plugin build (scripts/build/lambdas.ts) replaces NodejsFunction's output: either way an ESM bundle that gives CommonJS code a require().
      expect(code, dir).toMatch(/^import \{ createRequire as __amber\w+ \} from 'node:module'/);
      expect(code, dir).not.toMatch(/from\s*["']@aws-sdk\//);
    }
  });
});
