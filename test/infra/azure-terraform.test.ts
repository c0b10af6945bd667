/**
 * The Azure Terraform module (infra/azure), parsed file by file with @cdktf/hcl2json (a strict HCL parser; terraform
 * itself is not installable here), and each security property of the deployment asserted on the parsed blocks.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const DIR = resolve(import.meta.dirname, '../../infra/azure');
type Block = Record<string, unknown>;
interface Module {
  resource: Record<string, Record<string, Block[]>>;
  variable: Record<string, Block[]>;
  output: Record<string, Block[]>;
  files: string[];
}
let tf: Module;

// Loaded by name, untyped: the package's declarations pull the DOM library into the whole program's types.
const HCL2JSON = '@cdktf/hcl2json';
const { parse } = (await import(HCL2JSON)) as { parse: (file: string, text: string) => Promise<unknown> };

beforeAll(async () => {
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.tf')).sort();
  tf = { resource: {}, variable: {}, output: {}, files };
  for (const f of files) {
    const json = (await parse(f, await readFile(join(DIR, f), 'utf8'))) as { resource?: Module['resource']; variable?: Module['variable']; output?: Module['output'] };
    for (const [type, byName] of Object.entries(json.resource ?? {})) tf.resource[type] = { ...tf.resource[type], ...byName };
    Object.assign(tf.variable, json.variable ?? {});
    Object.assign(tf.output, json.output ?? {});
  }
});

const one = (type: string, name: string): Block => {
  const b = tf.resource[type]?.[name]?.[0];
  if (!b) throw new Error(`infra/azure has no ${type}.${name}`);
  return b;
};
const sub = (b: Block, key: string): Block => ((b[key] as Block[] | undefined) ?? [])[0] ?? {};

describe('infra/azure: the evidence storage account', () => {
  it('every .tf file parses', () => {
    expect(tf.files).toEqual(expect.arrayContaining(['main.tf', 'storage.tf', 'function.tf', 'roles.tf', 'eventgrid.tf', 'variables.tf', 'outputs.tf', 'versions.tf']));
  });

  it('keeps every blob version immutable with a locked time-based retention of retention_days, the ledger append blob appendable only', () => {
    const sa = one('azurerm_storage_account', 'evidence');
    const policy = sub(sa, 'immutability_policy');
    expect(policy).toMatchObject({ state: '${var.immutability_state}', period_since_creation_in_days: '${var.retention_days}', allow_protected_append_writes: true });
    const state = tf.variable.immutability_state![0]!;
    expect(state.default).toBe('Locked');
    // Disabled is refused by the variable's validation.
    expect(JSON.stringify(state.validation)).toContain('contains([\\"Unlocked\\", \\"Locked\\"]');
    expect(sub(sa, 'blob_properties')).toMatchObject({ versioning_enabled: true });
  });

  it('allows no shared key, no public blobs, nothing below TLS 1.2', () => {
    for (const name of ['evidence', 'functions']) {
      const sa = one('azurerm_storage_account', name);
      expect(sa, name).toMatchObject({ shared_access_key_enabled: false, allow_nested_items_to_be_public: false, min_tls_version: 'TLS1_2', https_traffic_only_enabled: true });
    }
    for (const [name, c] of Object.entries(tf.resource.azurerm_storage_container ?? {})) expect(c[0]!.container_access_type, name).toBe('private');
  });

  it('encrypts with a customer-managed key from a purge-protected Key Vault', () => {
    const sa = one('azurerm_storage_account', 'evidence');
    expect(sub(sa, 'customer_managed_key').key_vault_key_id).toBe('${azurerm_key_vault_key.evidence.versionless_id}');
    expect(one('azurerm_key_vault', 'amber')).toMatchObject({ purge_protection_enabled: true, enable_rbac_authorization: true });
    expect(one('azurerm_role_assignment', 'storage_cmk').scope).toBe('${azurerm_key_vault_key.evidence.resource_versionless_id}');
  });

  it('has the evidence and the ledger containers', () => {
    expect(one('azurerm_storage_container', 'evidence').storage_account_id).toBe('${azurerm_storage_account.evidence.id}');
    expect(one('azurerm_storage_container', 'ledger').storage_account_id).toBe('${azurerm_storage_account.evidence.id}');
  });
});

describe('infra/azure: the function app', () => {
  it('runs Node.js 22 on Flex Consumption with a system-assigned managed identity', () => {
    const fn = one('azurerm_function_app_flex_consumption', 'amber');
    expect(fn).toMatchObject({ runtime_name: 'node', runtime_version: '22', storage_authentication_type: 'SystemAssignedIdentity', https_only: true });
    expect(sub(fn, 'identity').type).toBe('SystemAssigned');
    expect(one('azurerm_service_plan', 'amber').sku_name).toBe('FC1');
  });

  it('sets every app setting the functions read (functions/azure/config.ts)', async () => {
    const { AZURE_SETTINGS } = await import('../../functions/azure/config.ts');
    const settings = one('azurerm_function_app_flex_consumption', 'amber').app_settings as Record<string, string>;
    for (const name of Object.keys(AZURE_SETTINGS)) expect(settings, name).toHaveProperty(name);
    expect(settings).toHaveProperty('AMBER_DETECTION_SCHEDULE');
  });

  it('sets the log preservation settings from variables: no tenant (Activity Log only) and a budget under the HTTP limit by default', async () => {
    const { OPTIONAL_AZURE_SETTINGS, readAzureConfig } = await import('../../functions/azure/config.ts');
    const settings = one('azurerm_function_app_flex_consumption', 'amber').app_settings as Record<string, string>;
    for (const name of ['AMBER_LOG_TENANT_ID', 'AMBER_LOG_BUDGET_SECONDS'] as const) expect(Object.keys(OPTIONAL_AZURE_SETTINGS)).toContain(name);
    expect(settings.AMBER_LOG_TENANT_ID).toBe('${var.log_tenant_id}');
    expect(settings.AMBER_LOG_BUDGET_SECONDS).toBe('${tostring(var.log_budget_seconds)}');
    expect(tf.variable.log_tenant_id![0]!.default).toBe('');
    const budget = tf.variable.log_budget_seconds![0]!.default as number;
    expect(budget).toBeLessThan(230);
    // The defaults, as the app reads them: no tenant, the budget in milliseconds.
    const base = { AMBER_LOCKER: '/tmp/x', AMBER_SNAPSHOT_RESOURCE_GROUP: 'rg', AMBER_RETENTION_DAYS: '1', AMBER_DEFENDER_MIN_SEVERITY: 'High', AMBER_DEFAULT_LOG_WINDOW_HOURS: '1', AMBER_DETECTION_WINDOW: 'PT1H', AMBER_PRINCIPAL: 'p' };
    expect(readAzureConfig({ ...base, AMBER_LOG_TENANT_ID: '', AMBER_LOG_BUDGET_SECONDS: String(budget) }).logs).toEqual({ budgetMs: budget * 1000 });
    expect(() => readAzureConfig({ ...base, AMBER_LOG_TENANT_ID: 'contoso', AMBER_LOG_BUDGET_SECONDS: '0' })).toThrow(/AMBER_LOG_TENANT_ID must be a tenant id.*AMBER_LOG_BUDGET_SECONDS must be a whole number/);
  });

  it('subscribes the preservation function to the Amber topic, which takes no access keys', () => {
    expect(one('azurerm_eventgrid_topic', 'amber').local_auth_enabled).toBe(false);
    const subn = one('azurerm_eventgrid_event_subscription', 'preservation');
    expect(sub(subn, 'azure_function_endpoint').function_id).toContain('/functions/preservation-event');
    expect(subn.included_event_types).toEqual(['Amber.PreservationRequested', 'Amber.DefenderAlert']);
  });
});

describe('infra/azure: role assignments of the function identity', () => {
  const assignments = (): [string, Block][] => Object.entries(tf.resource.azurerm_role_assignment ?? {}).map(([n, b]) => [n, b[0]!]);

  it('never grants Owner, Contributor or User Access Administrator', () => {
    for (const [name, a] of assignments()) {
      expect(['Owner', 'Contributor', 'User Access Administrator', 'Role Based Access Control Administrator'], name).not.toContain(a.role_definition_name);
    }
  });

  it('scopes Storage Blob Data Contributor to single containers, never the account or wider', () => {
    const data = assignments().filter(([, a]) => a.role_definition_name === 'Storage Blob Data Contributor');
    expect(data.map(([, a]) => a.scope).sort()).toEqual(['${azurerm_storage_container.evidence.id}', '${azurerm_storage_container.ledger.id}']);
  });

  it('grants the function no role on the whole evidence account, and no data role on its resource group', () => {
    for (const [name, a] of assignments()) {
      if (a.principal_id !== '${local.function_principal}') continue;
      expect(a.scope, name).not.toBe('${azurerm_storage_account.evidence.id}');
      if (a.scope === '${azurerm_resource_group.amber.id}') expect(a.role_definition_name, name).toBeUndefined();
    }
  });

  it('custom roles list exact actions: no wildcard, no delete, no role or lock management', () => {
    for (const [name, defs] of Object.entries(tf.resource.azurerm_role_definition ?? {})) {
      const permissions = sub(defs[0]!, 'permissions');
      const actions = [...((permissions.actions as string[] | undefined) ?? []), ...((permissions.data_actions as string[] | undefined) ?? [])];
      expect(actions.length, name).toBeGreaterThan(0);
      for (const action of actions) {
        expect(action, name).not.toContain('*');
        expect(action, name).not.toMatch(/\/delete$/i);
        // Reading who holds which role is allowed (the inventory); nothing else under Microsoft.Authorization.
        if (!/^Microsoft\.Authorization\/(roleAssignments|roleDefinitions)\/read$/.test(action)) expect(action, name).not.toMatch(/^Microsoft\.Authorization\//i);
      }
    }
  });

  it('reads VMs through the collector role, writes snapshots only into the evidence resource group, isolates only when enabled', () => {
    const collector = sub(one('azurerm_role_definition', 'collector'), 'permissions').actions as string[];
    expect(collector.every((a) => a.endsWith('/read') || a.endsWith('/action'))).toBe(true);
    expect(collector).toEqual(expect.arrayContaining(['Microsoft.Compute/virtualMachines/read', 'Microsoft.Compute/disks/read', 'Microsoft.Network/networkInterfaces/read']));
    const snapshots = one('azurerm_role_definition', 'snapshots');
    // The VHD export's read SAS (beginGetAccess) and its revocation (endGetAccess), on the evidence resource group's snapshots only.
    expect(sub(snapshots, 'permissions').actions).toEqual([
      'Microsoft.Compute/snapshots/read',
      'Microsoft.Compute/snapshots/write',
      'Microsoft.Compute/snapshots/beginGetAccess/action',
      'Microsoft.Compute/snapshots/endGetAccess/action',
    ]);
    expect(snapshots.assignable_scopes).toEqual(['${azurerm_resource_group.amber.id}']);
    expect(one('azurerm_role_assignment', 'snapshots').scope).toBe('${azurerm_resource_group.amber.id}');
    expect(one('azurerm_role_definition', 'isolation').count).toBe('${var.enable_isolation ? 1 : 0}');
    expect(tf.variable.enable_isolation![0]!.default).toBe(false);
  });

  it('reads the Activity Log through a custom role with the one read action, assigned per subscription of the collector scopes, never Reader', () => {
    const role = one('azurerm_role_definition', 'activity_log');
    expect(sub(role, 'permissions').actions).toEqual(['Microsoft.Insights/eventtypes/values/read']);
    expect(role.assignable_scopes).toBe('${local.activity_log_scopes}');
    const assignment = one('azurerm_role_assignment', 'activity_log');
    expect(assignment).toMatchObject({ for_each: '${toset(local.activity_log_scopes)}', role_definition_id: '${azurerm_role_definition.activity_log.role_definition_resource_id}', principal_id: '${local.function_principal}' });
    for (const [name, a] of assignments()) expect(a.role_definition_name, name).not.toBe('Reader');
  });

  it('inventories through a custom role of exact reads per subscription: the Resource Graph query, the types it asks about, role assignments and diagnostic settings, never Reader', async () => {
    const { RESOURCE_GRAPH_QUERIES } = await import('../../functions/azure/adapters/inventory-source.ts');
    const role = one('azurerm_role_definition', 'inventory');
    const actions = sub(role, 'permissions').actions as string[];
    expect(actions.every((a) => a.endsWith('/read'))).toBe(true);
    expect(actions).toContain('Microsoft.ResourceGraph/resources/read');
    expect(actions).toContain('Microsoft.Insights/diagnosticSettings/read');
    // Every type a Resource Graph query names has its read action (Resource Graph filters results by the caller's reads)
    const types = Object.values(RESOURCE_GRAPH_QUERIES).map((q) => /type =~ '([^']+)'/.exec(q)![1]!);
    for (const type of types) expect(actions.map((a) => a.toLowerCase()), type).toContain(`${type}/read`);
    expect(actions.some((a) => /listKeys|secrets|write|action$/i.test(a))).toBe(false);
    expect(role.assignable_scopes).toBe('${local.activity_log_scopes}');
    expect(one('azurerm_role_assignment', 'inventory')).toMatchObject({ for_each: '${toset(local.activity_log_scopes)}', role_definition_id: '${azurerm_role_definition.inventory.role_definition_resource_id}', principal_id: '${local.function_principal}' });
    const settings = one('azurerm_function_app_flex_consumption', 'amber').app_settings as Record<string, string>;
    expect(settings.AMBER_INVENTORY_ON_PRESERVE).toBe('${tostring(var.inventory_on_preserve)}');
    expect(tf.variable.inventory_on_preserve![0]!.default).toBe(true);
  });

  it('creates an EC P-256 signing key in the purge-protected vault, and lets the function only read and sign with that one key', () => {
    const key = one('azurerm_key_vault_key', 'signing');
    expect(key).toMatchObject({ key_vault_id: '${azurerm_key_vault.amber.id}', key_type: 'EC', curve: 'P-256', key_opts: ['sign', 'verify'] });
    expect(key.rotation_policy).toBeUndefined();
    expect(one('azurerm_key_vault', 'amber').purge_protection_enabled).toBe(true);
    const role = sub(one('azurerm_role_definition', 'signing'), 'permissions');
    expect(role.actions).toEqual([]);
    expect(role.data_actions).toEqual(['Microsoft.KeyVault/vaults/keys/read', 'Microsoft.KeyVault/vaults/keys/sign/action']);
    expect(one('azurerm_role_assignment', 'signing')).toMatchObject({ scope: '${azurerm_key_vault_key.signing.resource_versionless_id}', role_definition_id: '${azurerm_role_definition.signing.role_definition_resource_id}', principal_id: '${local.function_principal}' });
    // No Key Vault role of the function's reaches the vault as a whole or another key.
    for (const [name, a] of assignments()) {
      if (a.principal_id !== '${local.function_principal}') continue;
      expect(String(a.scope), name).not.toBe('${azurerm_key_vault.amber.id}');
      expect(String(a.scope), name).not.toContain('azurerm_key_vault_key.evidence');
      expect(String(a.role_definition_name ?? ''), name).not.toMatch(/Key Vault (Crypto Officer|Administrator|Crypto User)/);
    }
    const settings = one('azurerm_function_app_flex_consumption', 'amber').app_settings as Record<string, string>;
    expect(settings.AMBER_SIGNING_KEY).toBe('${azurerm_key_vault_key.signing.versionless_id}');
    expect(tf.output).toHaveProperty('signing_key_id');
  });

  it('turns the risk and state pulls on from variables, off by default, and lists the Graph permissions they need', async () => {
    const { readAzureConfig } = await import('../../functions/azure/config.ts');
    const settings = one('azurerm_function_app_flex_consumption', 'amber').app_settings as Record<string, string>;
    expect(settings.AMBER_LOG_ENTRA_RISK).toBe('${tostring(var.preserve_entra_risk)}');
    expect(settings.AMBER_LOG_AZURE_STATE).toBe('${tostring(var.preserve_azure_state)}');
    expect(tf.variable.preserve_entra_risk![0]!.default).toBe(false);
    expect(tf.variable.preserve_azure_state![0]!.default).toBe(false);
    expect(tf.variable.risk_state_graph_permissions![0]!.default).toEqual(['IdentityRiskEvent.Read.All', 'IdentityRiskyUser.Read.All', 'Policy.Read.All', 'MailboxSettings.Read']);
    const base = { AMBER_LOCKER: '/tmp/x', AMBER_SNAPSHOT_RESOURCE_GROUP: 'rg', AMBER_RETENTION_DAYS: '1', AMBER_DEFENDER_MIN_SEVERITY: 'High', AMBER_DEFAULT_LOG_WINDOW_HOURS: '1', AMBER_DETECTION_WINDOW: 'PT1H', AMBER_PRINCIPAL: 'p' };
    const tenant = '99999999-8888-4777-8666-555555555555';
    // Terraform's tostring(false) is "false": the app reads it as off.
    expect(readAzureConfig({ ...base, AMBER_LOG_TENANT_ID: '', AMBER_LOG_ENTRA_RISK: 'false', AMBER_LOG_AZURE_STATE: 'false' }).logs).not.toHaveProperty('risk');
    expect(readAzureConfig({ ...base, AMBER_LOG_TENANT_ID: tenant, AMBER_LOG_ENTRA_RISK: 'true', AMBER_LOG_AZURE_STATE: 'true' }).logs).toMatchObject({ risk: true, state: true });
    expect(() => readAzureConfig({ ...base, AMBER_LOG_ENTRA_RISK: 'true' })).toThrow(/AMBER_LOG_ENTRA_RISK is true but AMBER_LOG_TENANT_ID is not set/);
    expect(() => readAzureConfig({ ...base, AMBER_LOG_AZURE_STATE: 'yes' })).toThrow(/AMBER_LOG_AZURE_STATE must be true or false/);
  });

  it('the app reads AMBER_SIGNING_KEY as the Key Vault key that signs, and refuses a value that is not a key identifier at cold start', async () => {
    const { OPTIONAL_AZURE_SETTINGS, readAzureConfig } = await import('../../functions/azure/config.ts');
    expect(Object.keys(OPTIONAL_AZURE_SETTINGS)).toContain('AMBER_SIGNING_KEY');
    const base = { AMBER_LOCKER: '/tmp/x', AMBER_SNAPSHOT_RESOURCE_GROUP: 'rg', AMBER_RETENTION_DAYS: '1', AMBER_DEFENDER_MIN_SEVERITY: 'High', AMBER_DEFAULT_LOG_WINDOW_HOURS: '1', AMBER_DETECTION_WINDOW: 'PT1H', AMBER_PRINCIPAL: 'p' };
    expect(readAzureConfig({ ...base, AMBER_SIGNING_KEY: 'https://kv-amber-1.vault.azure.net/keys/amber-signing' }).signingKey).toBe('https://kv-amber-1.vault.azure.net/keys/amber-signing');
    expect(readAzureConfig(base).signingKey).toBeUndefined();
    expect(() => readAzureConfig({ ...base, AMBER_SIGNING_KEY: 'alias/amber-signing' })).toThrow(/AMBER_SIGNING_KEY must be a Key Vault key identifier/);
  });

  it('publishes the app registration\'s Graph and Management API permissions as variables and outputs', () => {
    expect(tf.variable.graph_application_permissions![0]!.default).toEqual(['AuditLog.Read.All', 'Directory.Read.All']);
    expect(tf.variable.management_api_application_permissions![0]!.default).toEqual(['ActivityFeed.Read']);
    expect(tf.output).toHaveProperty('graph_application_permissions');
    expect(tf.output).toHaveProperty('management_api_application_permissions');
  });
});
