/**
 * The Google Cloud Terraform modules (infra/gcp), parsed with the strict offline HCL parser (@cdktf/hcl2json;
 * terraform itself is not installable here) and asserted property by property, as CDK assertions do for AWS.
 */
import { createRequire } from 'node:module';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { GCP_AUDIT_COLUMNS } from '../../shared/sources/gcp-audit/index.ts';
import { BIGQUERY_SOURCES, bigquerySchema, schemaText } from '../../scripts/build/bigquery-schemas.ts';
import { ACCOUNT_COLUMNS } from '../../shared/sources/derive-rows.ts';

// Loaded untyped: the package's declarations pull in lib "dom", which changes Uint8Array typing for the whole project.
const { parse } = createRequire(import.meta.url)('@cdktf/hcl2json') as { parse(fileName: string, text: string): Promise<unknown> };
const ROOT = join(import.meta.dirname, '../../infra/gcp/modules');
type Block = Record<string, unknown>;
type Resources = Record<string, Record<string, Block[]>>;

/** Every resource of a module, by type and name. */
async function moduleResources(name: string): Promise<{ resources: Resources; files: string[] }> {
  const dir = join(ROOT, name);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.tf')).sort();
  const resources: Resources = {};
  for (const file of files) {
    const parsed = (await parse(file, await readFile(join(dir, file), 'utf8'))) as { resource?: Resources };
    for (const [type, byName] of Object.entries(parsed.resource ?? {})) Object.assign((resources[type] ??= {}), byName);
  }
  return { resources, files };
}

const one = (r: Resources, type: string, name: string): Block => {
  const block = r[type]?.[name]?.[0];
  if (!block) throw new Error(`no ${type}.${name}`);
  return block;
};
const nested = (block: Block, key: string): Block => ((block[key] as Block[] | undefined)?.[0] ?? {}) as Block;
const allIamRoles = (r: Resources): string[] =>
  Object.entries(r).filter(([type]) => /_iam_(member|binding|policy)$/.test(type)).flatMap(([, byName]) => Object.values(byName).map((b) => String(b[0]?.role)));

const evidence = await moduleResources('evidence');
const member = await moduleResources('member');

describe('Terraform: infra/gcp', () => {
  it('parses every .tf file of both modules', () => {
    // Assess
    expect(evidence.files).toEqual(expect.arrayContaining(['bucket.tf', 'bigquery.tf', 'functions.tf', 'iam.tf', 'kms.tf', 'pubsub.tf', 'scheduler.tf', 'workflows.tf']));
    expect(member.files).toContain('main.tf');
  });

  describe('Module: evidence', () => {
    it('keeps evidence in a bucket with Object Retention Lock (Amber locks each object), UBLA, public access prevention, versioning and CMEK', () => {
      // Prepare
      const bucket = one(evidence.resources, 'google_storage_bucket', 'evidence');

      // Assess
      expect(bucket.enable_object_retention).toBe(true);
      // A bucket retention policy would forbid every append to the custody ledger (the GCS locker refuses such a bucket).
      expect(bucket.retention_policy).toBeUndefined();
      expect(bucket.uniform_bucket_level_access).toBe(true);
      expect(bucket.public_access_prevention).toBe('enforced');
      expect(bucket.force_destroy).toBe(false);
      expect(nested(bucket, 'versioning')).toEqual({ enabled: true });
      expect(nested(bucket, 'encryption').default_kms_key_name).toBe('${google_kms_crypto_key.evidence.id}');
    });

    it('rotates the customer-managed key every 90 days and protects it from destruction', () => {
      // Prepare
      const key = one(evidence.resources, 'google_kms_crypto_key', 'evidence');

      // Assess
      expect(key.rotation_period).toBe('7776000s');
      expect(nested(key, 'lifecycle').prevent_destroy).toBe(true);
    });

    it('exposes a hive-partitioned external table per parsed source, each with exactly the columns the derive function writes', async () => {
      // Prepare
      const table = one(evidence.resources, 'google_bigquery_table', 'sources');
      const external = nested(table, 'external_data_configuration');
      const hive = nested(external, 'hive_partitioning_options');
      const files = (await readdir(join(ROOT, 'evidence/schemas'))).sort();

      // Assess
      expect(external.source_format).toBe('NEWLINE_DELIMITED_JSON');
      expect(external.ignore_unknown_values).toBe(false);
      expect(hive.mode).toBe('CUSTOM');
      expect(String(hive.source_uri_prefix)).toMatch(/\/derived\/\$\{each\.key\}\/\{case:STRING\}\/\{account:STRING\}\/\{day:STRING\}$/);
      expect(hive.require_partition_filter).toBe(true);
      // One table per schema file, one schema file per source Amber parses.
      expect(String(one(evidence.resources, 'google_bigquery_table', 'sources').for_each)).toBe('${local.tables}');
      expect(files).toEqual(BIGQUERY_SOURCES.map((s) => `${s.table}.json`).sort());
      for (const source of BIGQUERY_SOURCES) {
        expect(await readFile(join(ROOT, 'evidence/schemas', `${source.table}.json`), 'utf8'), `schemas/${source.table}.json is stale: npm run build:bigquery-schemas`).toBe(schemaText(source));
      }
      const audit = JSON.parse(await readFile(join(ROOT, 'evidence/schemas/gcp_audit.json'), 'utf8')) as { name: string; type: string }[];
      expect(audit.map((c) => c.name)).toEqual(['evidence_key', 'evidence_record', ...GCP_AUDIT_COLUMNS.map((c) => c.name)]);
      expect(audit.find((c) => c.name === 'status_code')?.type).toBe('INT64');
      // No source column is shadowed by a partition key: one named like a key (inventory's account) is left out of the
      // schema, and only where the partition carries that very column's value.
      for (const source of BIGQUERY_SOURCES) {
        for (const key of ['case', 'account', 'day']) {
          if (!source.columns.some((c) => c.name === key)) continue;
          expect(`${source.table}.${key}`).toBe(`${source.table}.account`);
          expect(ACCOUNT_COLUMNS[source.table], source.table).toEqual(['account']);
          expect(bigquerySchema(source).some((f) => f.name === key), source.table).toBe(false);
        }
      }
      expect(bigquerySchema(BIGQUERY_SOURCES.find((s) => s.id === 'inventory')!).map((f) => f.name)).not.toContain('account');
      expect(nested(one(evidence.resources, 'google_bigquery_dataset', 'amber'), 'default_encryption_configuration').kms_key_name).toBe('${google_kms_crypto_key.evidence.id}');
    });

    it('derives rows from every object finalized in the evidence bucket, as its own service account with the locker writer role only', () => {
      // Prepare
      const fn = one(evidence.resources, 'google_cloudfunctions2_function', 'derive');
      const trigger = nested(fn, 'event_trigger');
      const service = nested(fn, 'service_config');
      const grants = Object.entries(evidence.resources)
        .filter(([type]) => type.endsWith('_iam_member'))
        .flatMap(([type, byName]) => Object.values(byName).map((b) => ({ type, role: String(b[0]?.role), member: String(b[0]?.member) })))
        .filter((g) => g.member.includes('google_service_account.derive.'));

      // Assess
      expect(nested(fn, 'build_config')).toMatchObject({ runtime: 'nodejs22', entry_point: 'deriveObject' });
      expect(nested(nested(nested(fn, 'build_config'), 'source'), 'storage_source').object).toBe('${var.derive_source_object}');
      expect(trigger).toMatchObject({ event_type: 'google.cloud.storage.object.v1.finalized', retry_policy: 'RETRY_POLICY_RETRY', service_account_email: '${google_service_account.trigger.email}' });
      expect(trigger.event_filters).toEqual([{ attribute: 'bucket', value: '${google_storage_bucket.evidence.name}' }]);
      expect(service).toMatchObject({ ingress_settings: 'ALLOW_INTERNAL_ONLY', service_account_email: '${google_service_account.derive.email}' });
      expect(grants).toEqual([{ type: 'google_storage_bucket_iam_member', role: '${google_project_iam_custom_role.locker_writer.id}', member: 'serviceAccount:${google_service_account.derive.email}' }]);
      expect(one(evidence.resources, 'google_cloud_run_v2_service_iam_member', 'trigger_invokes_derive')).toMatchObject({ role: 'roles/run.invoker', member: 'serviceAccount:${google_service_account.trigger.email}' });
    });

    it('runs gen2 functions on Node.js 22 with internal ingress only and a service account per role', () => {
      // Prepare
      const fn = one(evidence.resources, 'google_cloudfunctions2_function', 'fn');
      const service = nested(fn, 'service_config');

      // Assess
      expect(nested(fn, 'build_config').runtime).toBe('nodejs22');
      expect(service.ingress_settings).toBe('ALLOW_INTERNAL_ONLY');
      expect(service.service_account_email).toBe('${google_service_account.fn[each.value.sa].email}');
      expect(Object.keys(evidence.resources.google_service_account ?? {}).sort()).toEqual(['derive', 'fn', 'scheduler', 'trigger', 'workflow']);
    });

    it('grants no primitive role and no service account key anywhere', () => {
      // Assess
      for (const r of [evidence.resources, member.resources]) {
        expect(allIamRoles(r).filter((role) => /^roles\/(owner|editor|viewer)$/.test(role))).toEqual([]);
        expect(r.google_service_account_key).toBeUndefined();
        expect(r.google_project_iam_binding).toBeUndefined();
        expect(r.google_project_iam_policy).toBeUndefined();
      }
    });

    it('gives each function service account only its own roles, on the narrowest resource', () => {
      // Prepare
      const iam = Object.entries(evidence.resources)
        .filter(([type]) => type.endsWith('_iam_member'))
        .flatMap(([type, byName]) => Object.entries(byName).map(([name, b]) => ({ type, name, role: String(b[0]?.role), member: String(b[0]?.member) })));
      const of = (sa: string): string[] => iam.filter((g) => g.member.includes(sa)).map((g) => `${g.type}:${g.role}`).sort();

      // Assess
      expect(of('fn["start"]')).toEqual(['google_project_iam_member:${google_project_iam_custom_role.workflow_starter.id}']);
      expect(one(evidence.resources, 'google_project_iam_custom_role', 'workflow_starter').permissions).toEqual(['workflows.executions.create', 'workflows.executions.list']);
      const locker = 'google_storage_bucket_iam_member:${google_project_iam_custom_role.locker_writer.id}';
      expect(of('fn["steps"]')).toEqual(['google_project_iam_member:${google_project_iam_custom_role.evidence_copier.id}', locker]);
      // Evidence copies: images made from member snapshots and read back, nothing that deletes or changes IAM.
      expect(one(evidence.resources, 'google_project_iam_custom_role', 'evidence_copier').permissions).toEqual(['compute.images.create', 'compute.images.get', 'compute.globalOperations.get']);
      expect(of('fn["detect"]')).toEqual(['google_bigquery_dataset_iam_member:roles/bigquery.dataViewer', 'google_project_iam_member:roles/bigquery.jobUser', locker]);
      // Exactly what the GCS locker calls (functions/gcp/adapters/gcs-object-store.ts), nothing that changes IAM or buckets.
      expect(one(evidence.resources, 'google_project_iam_custom_role', 'locker_writer').permissions).toEqual([
        'storage.buckets.get', 'storage.objects.create', 'storage.objects.delete', 'storage.objects.get', 'storage.objects.list', 'storage.objects.setRetention', 'storage.objects.update',
      ]);
      expect(of('google_service_account.scheduler')).toEqual(['google_cloud_run_v2_service_iam_member:roles/run.invoker']);
      expect(of('google_service_account.workflow')).toEqual(['google_cloud_run_v2_service_iam_member:roles/run.invoker']);
    });

    it('calls runDetections from Cloud Scheduler with an OIDC token for the function', () => {
      // Prepare
      const job = one(evidence.resources, 'google_cloud_scheduler_job', 'detections');
      const target = nested(job, 'http_target');

      // Assess
      expect(target.uri).toBe('${google_cloudfunctions2_function.fn["runDetections"].service_config[0].uri}');
      expect(nested(target, 'oidc_token')).toEqual({ service_account_email: '${google_service_account.scheduler.email}', audience: target.uri });
      expect(job.time_zone).toBe('Etc/UTC');
    });

    it('waits for snapshots in the workflow (sys.sleep), calling each step with OIDC', async () => {
      // Prepare
      const text = (await readFile(join(ROOT, 'evidence/workflows/instance.yaml'), 'utf8')).replace(/\$\{(\w+)_url\}/g, 'https://$1.example').replace(/\$\$\{/g, '${');
      const steps = (parseYaml(text) as { main: { steps: Record<string, { call?: string; args?: { auth?: { type?: string } } }>[] } }).main.steps;
      const calls = steps.map((s) => Object.values(s)[0]!).filter((s) => s.call === 'http.post');

      // Assess
      expect(calls).toHaveLength(6);
      expect(calls.every((c) => c.args?.auth?.type === 'OIDC')).toBe(true);
      expect(steps.some((s) => Object.values(s)[0]?.call === 'sys.sleep')).toBe(true);
    });

    it('takes the project\'s inventory first, with OIDC, and goes on to the snapshots when it fails', async () => {
      // Prepare
      const text = (await readFile(join(ROOT, 'evidence/workflows/instance.yaml'), 'utf8')).replace(/\$\{(\w+)_url\}/g, 'https://$1.example').replace(/\$\$\{/g, '${');
      type Step = { try?: { call?: string; args?: { url?: string; auth?: { type?: string }; body?: string } }; except?: { as?: string; steps?: unknown[] } };
      const steps = (parseYaml(text) as { main: { steps: Record<string, Step>[] } }).main.steps;
      const workflow = one(evidence.resources, 'google_workflows_workflow', 'instance');

      // Assess
      expect(Object.keys(steps[0]!)).toEqual(['inventory']);
      expect(steps[0]!.inventory!.try).toMatchObject({ call: 'http.post', args: { url: 'https://inventory.example', auth: { type: 'OIDC' }, body: '${task}' } });
      expect(steps[0]!.inventory!.except?.steps).toHaveLength(1);
      expect(Object.keys(steps[1]!)).toEqual(['capture']);
      expect(String(workflow.source_contents)).toContain('google_cloudfunctions2_function.fn["inventoryProject"].service_config[0].uri');
    });

    it('runs the inventory functions as the steps service account: invoked by the workflow and by the inventory topic\'s trigger only', async () => {
      // Prepare
      const parsed = (await parse('functions.tf', await readFile(join(ROOT, 'evidence/functions.tf'), 'utf8'))) as { locals: { functions: Record<string, unknown>; topics: Record<string, string> }[] };
      const { functions, topics } = parsed.locals[0]!;

      // Assess
      expect(functions.inventoryProject).toEqual({ sa: 'steps', trigger: null });
      expect(functions.inventoryRequested).toEqual({ sa: 'steps', trigger: 'inventory_requests' });
      expect(topics.inventory_requests).toBe('${google_pubsub_topic.inventory_requests.id}');
      expect(String(one(evidence.resources, 'google_cloud_run_v2_service_iam_member', 'workflow_invokes').for_each)).toContain('"inventoryProject"');
      expect(String(one(evidence.resources, 'google_cloud_run_v2_service_iam_member', 'trigger_invokes').for_each)).toContain('"inventoryRequested"');
      // The evidence project's own accounts get no Cloud Asset role: they read member projects only as the collector.
      expect(allIamRoles(evidence.resources).filter((r) => r.startsWith('roles/cloudasset.'))).toEqual([]);
    });

    it('copies the READY snapshots into the evidence project and waits on the copies before isolating', async () => {
      // Prepare
      const text = (await readFile(join(ROOT, 'evidence/workflows/instance.yaml'), 'utf8')).replace(/\$\{(\w+)_url\}/g, 'https://$1.example').replace(/\$\$\{/g, '${');
      type Step = { call?: string; next?: string; args?: { url?: string; body?: string; seconds?: number }; switch?: { condition: string; next?: string; raise?: string }[] };
      const steps = (parseYaml(text) as { main: { steps: Record<string, Step>[] } }).main.steps;
      const byName = Object.fromEntries(steps.map((s) => Object.entries(s)[0]!)) as Record<string, Step>;
      const order = steps.map((s) => Object.keys(s)[0]);
      const workflow = one(evidence.resources, 'google_workflows_workflow', 'instance');

      // Assess
      expect(byName.wait_or_go?.next).toBe('copy');
      expect(byName.copy?.args).toMatchObject({ url: 'https://copy.example', body: '${map.merge(task, {"snapshots": created.body.snapshots})}' });
      expect(byName.check_copies?.args).toMatchObject({ url: 'https://check.example', body: '${map.merge(task, {"snapshots": copied.body.snapshots})}' });
      expect(byName.copies_or_wait?.switch).toEqual([
        { condition: '${copies.body.status == "pending"}', next: 'sleep_copies' },
        { condition: '${copies.body.status == "error"}', raise: '${copies.body.failed}' },
      ]);
      expect(byName.copies_or_wait?.next).toBe('isolate');
      expect(byName.sleep_copies).toMatchObject({ call: 'sys.sleep', next: 'check_copies' });
      expect(order.indexOf('copy')).toBeLessThan(order.indexOf('isolate'));
      expect(String(workflow.source_contents)).toContain('google_cloudfunctions2_function.fn["copySnapshots"].service_config[0].uri');
    });
  });

  describe('Workflow: logs', () => {
    it('calls preserveLogs with OIDC again while it answers done: false, sleeping while the window settles', async () => {
      // Prepare
      const text = (await readFile(join(ROOT, 'evidence/workflows/logs.yaml'), 'utf8')).replace(/\$\{(\w+)_url\}/g, 'https://$1.example').replace(/\$\$\{/g, '${');
      type Step = { call?: string; args?: { url?: string; auth?: { type?: string } }; switch?: { condition: string; next: string }[]; next?: string; raise?: unknown };
      const steps = (parseYaml(text) as { main: { steps: Record<string, Step>[] } }).main.steps;
      const byName = Object.fromEntries(steps.map((s) => Object.entries(s)[0]!));
      const workflow = one(evidence.resources, 'google_workflows_workflow', 'logs');

      // Assess
      expect(String(workflow.source_contents)).toContain('google_cloudfunctions2_function.fn["preserveLogs"].service_config[0].uri');
      expect(byName.preserve).toMatchObject({ call: 'http.post', args: { url: 'https://preserve.example', auth: { type: 'OIDC' } } });
      expect(byName.more_or_done!.switch).toEqual([
        { condition: '${"waitSeconds" in preserved.body}', next: 'wait' },
        { condition: '${preserved.body.done}', next: 'done' },
      ]);
      expect(byName.more_or_done!.next).toBe('preserve');
      expect(byName.wait).toMatchObject({ call: 'sys.sleep', next: 'preserve' });
      expect(text).not.toContain('not built');
    });

    it('runs preserveLogs as the steps service account, invoked only by the workflow', async () => {
      // Prepare
      const parsed = (await parse('functions.tf', await readFile(join(ROOT, 'evidence/functions.tf'), 'utf8'))) as { locals: { functions: Record<string, unknown> }[] };
      const functions = parsed.locals[0]!.functions;
      const invokes = one(evidence.resources, 'google_cloud_run_v2_service_iam_member', 'workflow_invokes');

      // Assess
      expect(functions.preserveLogs).toEqual({ sa: 'steps', trigger: null });
      expect(String(invokes.for_each)).toContain('"preserveLogs"');
    });

    it('hands the start functions the log sink a Security Command Center finding preserves, none by default', async () => {
      // Prepare
      const parsed = (await parse('functions.tf', await readFile(join(ROOT, 'evidence/functions.tf'), 'utf8'))) as { locals: { env: { start: Record<string, string> } }[] };
      const vars = (await parse('variables.tf', await readFile(join(ROOT, 'evidence/variables.tf'), 'utf8'))) as { variable: Record<string, Block[]> };

      // Assess
      expect(parsed.locals[0]!.env.start.LOG_SINK).toBe('${var.scc_log_sink == null ? "" : var.scc_log_sink}');
      expect(vars.variable.scc_log_sink?.[0]?.default).toBeNull();
      expect(JSON.stringify(vars.variable.scc_log_sink?.[0]?.validation)).toContain('^gs://');
    });
  });

  describe('Module: member', () => {
    it('defines a role holding only read-only use of snapshots, bound to nobody at project level, under the id the steps name', async () => {
      // Prepare
      const reader = one(member.resources, 'google_project_iam_custom_role', 'snapshot_reader');
      const functions = (await parse('functions.tf', await readFile(join(ROOT, 'evidence/functions.tf'), 'utf8'))) as { locals: { env: { steps: Record<string, string> } }[] };
      const projectGrants = Object.values(member.resources.google_project_iam_member ?? {}).map((b) => String(b[0]?.role));

      // Assess
      expect(reader.permissions).toEqual(['compute.snapshots.useReadOnly']);
      expect(reader.role_id).toBe('${replace(var.name_prefix, "-", "_")}_snapshot_reader');
      expect(functions.locals[0]!.env.steps.SNAPSHOT_READER_ROLE).toBe('${replace(var.name_prefix, "-", "_")}_snapshot_reader');
      expect(functions.locals[0]!.env.steps.EVIDENCE_PROJECT).toBe('${var.project_id}');
      expect(projectGrants).not.toContain('${google_project_iam_custom_role.snapshot_reader.id}');
    });

    it('lets the collector read Cloud Audit Logs (Data Access included) on its own project only, and a named sink bucket only', () => {
      // Prepare
      const logs = one(member.resources, 'google_project_iam_member', 'collector_logs');
      const sink = one(member.resources, 'google_storage_bucket_iam_member', 'collector_sink');
      const logRoles = allIamRoles(member.resources).filter((r) => r.startsWith('roles/logging.'));

      // Assess
      expect(logs).toMatchObject({ project: '${var.project_id}', role: 'roles/logging.privateLogViewer', member: 'serviceAccount:${google_service_account.collector.email}' });
      expect(logRoles).toEqual(['roles/logging.privateLogViewer']);
      expect(sink).toMatchObject({ bucket: '${var.log_sink_bucket}', role: 'roles/storage.objectViewer', count: '${var.log_sink_bucket == null ? 0 : 1}' });
      // The evidence project's own functions get no Logging role: they read member logs only as the collector.
      expect(allIamRoles(evidence.resources).filter((r) => r.startsWith('roles/logging.'))).toEqual([]);
    });

    it('lets the collector list its own project\'s Cloud Asset Inventory with roles/cloudasset.viewer only', () => {
      // Prepare
      const assets = one(member.resources, 'google_project_iam_member', 'collector_assets');
      const collectorRoles = Object.entries(member.resources)
        .filter(([type]) => type.endsWith('_iam_member'))
        .flatMap(([, byName]) => Object.values(byName).map((b) => b[0]!))
        .filter((b) => b.member === 'serviceAccount:${google_service_account.collector.email}')
        .map((b) => String(b.role))
        .sort();

      // Assess
      expect(assets).toEqual({ project: '${var.project_id}', role: 'roles/cloudasset.viewer', member: 'serviceAccount:${google_service_account.collector.email}' });
      // Its only predefined roles: the asset viewer, the log reader and the sink reader (plus its own custom roles)
      expect(collectorRoles.filter((r) => r.startsWith('roles/'))).toEqual(['roles/cloudasset.viewer', 'roles/logging.privateLogViewer', 'roles/storage.objectViewer']);
      expect(allIamRoles(member.resources).filter((r) => r.startsWith('roles/cloudasset.'))).toEqual(['roles/cloudasset.viewer']);
      expect(one(member.resources, 'google_project_service', 'cloudasset')).toMatchObject({ service: 'cloudasset.googleapis.com', disable_on_destroy: false });
    });

    it('lets only the evidence steps impersonate a keyless collector with compute read and snapshot permissions', () => {
      // Prepare
      const role = one(member.resources, 'google_project_iam_custom_role', 'collector');
      const impersonation = one(member.resources, 'google_service_account_iam_member', 'impersonation');

      // Assess
      expect(impersonation).toMatchObject({ role: 'roles/iam.serviceAccountTokenCreator', member: 'serviceAccount:${var.evidence_step_service_account}', service_account_id: '${google_service_account.collector.name}' });
      expect(role.permissions as string[]).toContain('compute.snapshots.create');
      expect((role.permissions as string[]).every((p) => /^compute\.[a-zA-Z]+\.(get|getSerialPortOutput|list|create|createSnapshot|setLabels)$/.test(p) || /^compute\.snapshots\.(get|set)IamPolicy$/.test(p))).toBe(true);
      expect(one(member.resources, 'google_project_iam_custom_role', 'isolator').count).toBe('${var.allow_isolation ? 1 : 0}');
    });
  });
});
