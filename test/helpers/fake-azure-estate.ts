/**
 * A small synthetic Azure estate loaded into FakeAzure, in the documented Resource Graph (objectArray rows), ARM and
 * Microsoft Graph shapes. What it holds, and what the exposure detections should find there:
 * - vm-web: NIC with public IP 20.61.0.10 behind nsg-web, whose rule allow-ssh admits * on 22 (open);
 *   vm-jump: public IP behind nsg-jump, where deny-internet (100) shadows allow-rdp (200) (closed);
 *   vm-db: no public IP, subnet snet-data with nsg-data (5432 from 10.0.0.0/8 only).
 * - disks: disk-web-os AllowAll/Enabled (exportable), disk-db DenyAll; snapshot snap-exfil with an export URL
 *   granted (ActiveSAS).
 * - storage: stpublicsite allows public blob access, stprivate does not; a key vault and a function app.
 * - role assignments at subscription scope: Owner to service principal ci-deployer, Contributor to guest
 *   vendor_ext#EXT#, Owner to member alice (not reported), Reader to a service principal (not reported).
 * - no Activity Log diagnostic setting.
 * - Entra: alice (MFA), bob (no MFA), carol (disabled, no MFA), the guest (no MFA); app payroll-sync with a
 *   two-year secret; service principal ci-deployer with a secret to 2099.
 */
import type { FakeAzure } from './fake-azure.ts';

export const ESTATE_SUBSCRIPTION = 'aaaaaaaa-1111-4222-8333-444444444444';
export const ESTATE_TENANT = '11111111-2222-4333-8444-555555555555';

type Rec = Record<string, unknown>;

const rid = (sub: string, type: string, name: string): string => `/subscriptions/${sub}/resourceGroups/rg-prod/providers/${type}/${name}`;

function resource(sub: string, type: string, name: string, properties: Rec, extra: Rec = {}): Rec {
  return { id: rid(sub, type, name), name, type: type.toLowerCase(), location: 'westeurope', resourceGroup: 'rg-prod', subscriptionId: sub, tenantId: ESTATE_TENANT, tags: { env: 'prod' }, properties, ...extra };
}

function rule(name: string, priority: number, access: string, protocol: string, source: string, port: string): Rec {
  return { name, properties: { priority, access, protocol, direction: 'Inbound', sourceAddressPrefix: source, sourcePortRange: '*', destinationAddressPrefix: '*', destinationPortRange: port } };
}

const DEFAULT_RULES = [rule('AllowVnetInBound', 65000, 'Allow', '*', 'VirtualNetwork', '*'), rule('AllowAzureLoadBalancerInBound', 65001, 'Allow', '*', 'AzureLoadBalancer', '*'), rule('DenyAllInBound', 65500, 'Deny', '*', '*', '*')];
const USER = (n: number): string => `0000000${n}-0000-4000-8000-00000000000${n}`;
const GUEST = '90000001-0000-4000-8000-000000000001';
const SP = 'a0000003-0000-4000-8000-000000000003';
const ROLE = { owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635', contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c', reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7' };

/** Adds `vms` extra plain VMs (each with a NIC, no public address) for volume; the named ones are always there. */
export function seedAzureEstate(fake: FakeAzure, sub = ESTATE_SUBSCRIPTION, extraVms = 0): void {
  const NSG = 'Microsoft.Network/networkSecurityGroups';
  const NIC = 'Microsoft.Network/networkInterfaces';
  const PIP = 'Microsoft.Network/publicIPAddresses';
  const VNET = 'Microsoft.Network/virtualNetworks';
  const VM = 'Microsoft.Compute/virtualMachines';
  const subnet = (name: string): string => `${rid(sub, VNET, 'vnet-prod')}/subnets/${name}`;
  const vm = (name: string): Rec => resource(sub, VM, name, {
    hardwareProfile: { vmSize: 'Standard_B2s' },
    storageProfile: { osDisk: { osType: 'Linux', managedDisk: { id: rid(sub, 'Microsoft.Compute/disks', `${name}-os`) } } },
    networkProfile: { networkInterfaces: [{ id: rid(sub, NIC, `nic-${name.slice(3)}`) }] },
    extended: { instanceView: { powerState: { code: 'PowerState/running' } } },
    timeCreated: '2025-05-01T08:00:00Z',
  });
  const nic = (name: string, vmName: string, nsg: string | null, pip: string | null, snet: string): Rec => resource(sub, NIC, name, {
    virtualMachine: { id: rid(sub, VM, vmName) },
    ...(nsg ? { networkSecurityGroup: { id: rid(sub, NSG, nsg) } } : {}),
    ipConfigurations: [{ name: 'ipconfig1', properties: { privateIPAddress: '10.0.1.4', subnet: { id: subnet(snet) }, ...(pip ? { publicIPAddress: { id: rid(sub, PIP, pip) } } : {}) } }],
  });
  const extra = Array.from({ length: extraVms }, (_, i) => `vm-bulk${String(i).padStart(5, '0')}`);
  const set = (table: string, type: string, rows: Rec[]): void => {
    fake.resourceGraph.set(`${table}/${type.toLowerCase()}`, [...(fake.resourceGraph.get(`${table}/${type.toLowerCase()}`) ?? []), ...rows]);
  };
  set('resourcecontainers', 'microsoft.resources/subscriptions', [{ id: `/subscriptions/${sub}`, name: 'Production', type: 'microsoft.resources/subscriptions', subscriptionId: sub, tenantId: ESTATE_TENANT, tags: {}, properties: { state: 'Enabled' } }]);
  set('resources', VM, [...['vm-web', 'vm-jump', 'vm-db'].map(vm), ...extra.map(vm)]);
  set('resources', NIC, [
    nic('nic-web', 'vm-web', 'nsg-web', 'pip-web', 'snet-app'),
    nic('nic-jump', 'vm-jump', 'nsg-jump', 'pip-jump', 'snet-app'),
    nic('nic-db', 'vm-db', null, null, 'snet-data'),
    ...extra.map((name) => nic(`nic-${name.slice(3)}`, name, null, null, 'snet-app')),
  ]);
  set('resources', PIP, [
    resource(sub, PIP, 'pip-web', { ipAddress: '20.61.0.10', publicIPAllocationMethod: 'Static', ipConfiguration: { id: `${rid(sub, NIC, 'nic-web')}/ipConfigurations/ipconfig1` } }, { sku: { name: 'Standard' } }),
    resource(sub, PIP, 'pip-jump', { ipAddress: '20.61.0.11', publicIPAllocationMethod: 'Static' }, { sku: { name: 'Standard' } }),
  ]);
  set('resources', NSG, [
    resource(sub, NSG, 'nsg-web', { securityRules: [rule('allow-ssh', 100, 'Allow', 'Tcp', '*', '22'), rule('allow-https', 110, 'Allow', 'Tcp', 'Internet', '443')], defaultSecurityRules: DEFAULT_RULES }),
    resource(sub, NSG, 'nsg-jump', { securityRules: [rule('deny-internet', 100, 'Deny', '*', 'Internet', '*'), rule('allow-rdp', 200, 'Allow', 'Tcp', '*', '3389')], defaultSecurityRules: DEFAULT_RULES }),
    resource(sub, NSG, 'nsg-data', { securityRules: [rule('allow-pg-vnet', 100, 'Allow', 'Tcp', '10.0.0.0/8', '5432')], defaultSecurityRules: DEFAULT_RULES }),
  ]);
  set('resources', VNET, [resource(sub, VNET, 'vnet-prod', { addressSpace: { addressPrefixes: ['10.0.0.0/16'] }, subnets: [{ id: subnet('snet-app'), name: 'snet-app', properties: { addressPrefix: '10.0.1.0/24' } }, { id: subnet('snet-data'), name: 'snet-data', properties: { addressPrefix: '10.0.2.0/24', networkSecurityGroup: { id: rid(sub, NSG, 'nsg-data') } } }] })]);
  const disk = (type: string, name: string, p: Rec): Rec => resource(sub, type, name, { diskSizeGB: 64, timeCreated: '2025-05-01T08:00:00Z', encryption: { type: 'EncryptionAtRestWithPlatformKey' }, ...p }, { sku: { name: 'Premium_LRS' } });
  set('resources', 'Microsoft.Compute/disks', [
    disk('Microsoft.Compute/disks', 'disk-web-os', { networkAccessPolicy: 'AllowAll', publicNetworkAccess: 'Enabled', diskState: 'Attached' }),
    disk('Microsoft.Compute/disks', 'disk-db', { networkAccessPolicy: 'DenyAll', publicNetworkAccess: 'Disabled', diskState: 'Attached' }),
  ]);
  set('resources', 'Microsoft.Compute/snapshots', [disk('Microsoft.Compute/snapshots', 'snap-exfil', { networkAccessPolicy: 'DenyAll', publicNetworkAccess: 'Disabled', diskState: 'ActiveSAS', creationData: { createOption: 'Copy', sourceResourceId: rid(sub, 'Microsoft.Compute/disks', 'disk-db') } })]);
  const SA = 'Microsoft.Storage/storageAccounts';
  set('resources', SA, [
    resource(sub, SA, 'stpublicsite', { allowBlobPublicAccess: true, publicNetworkAccess: 'Enabled', minimumTlsVersion: 'TLS1_0', allowSharedKeyAccess: true, creationTime: '2024-02-01T00:00:00Z' }, { kind: 'StorageV2', sku: { name: 'Standard_LRS' } }),
    resource(sub, SA, 'stprivate', { allowBlobPublicAccess: false, publicNetworkAccess: 'Disabled', minimumTlsVersion: 'TLS1_2', allowSharedKeyAccess: false }, { kind: 'StorageV2', sku: { name: 'Standard_ZRS' } }),
  ]);
  set('resources', 'Microsoft.KeyVault/vaults', [resource(sub, 'Microsoft.KeyVault/vaults', 'kv-prod', { enableRbacAuthorization: true, enableSoftDelete: true, publicNetworkAccess: 'Enabled', vaultUri: 'https://kv-prod.vault.azure.net/' })]);
  set('resources', 'Microsoft.Web/sites', [resource(sub, 'Microsoft.Web/sites', 'func-orders', { state: 'Running', defaultHostName: 'func-orders.azurewebsites.net', httpsOnly: true, publicNetworkAccess: 'Enabled' }, { kind: 'functionapp,linux' })]);
  const assignment = (n: string, role: string, principal: string, type: string): Rec => ({
    id: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleAssignments/${n}`, name: n, type: 'microsoft.authorization/roleassignments', subscriptionId: sub, tenantId: ESTATE_TENANT,
    properties: { roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${role}`, principalId: principal, principalType: type, scope: `/subscriptions/${sub}`, createdOn: '2026-02-01T12:00:00.0000000Z', createdBy: USER(1) },
  });
  set('authorizationresources', 'microsoft.authorization/roleassignments', [
    assignment('3d1c0a5e-0000-4000-8000-000000000001', ROLE.owner, SP, 'ServicePrincipal'),
    assignment('3d1c0a5e-0000-4000-8000-000000000002', ROLE.contributor, GUEST, 'User'),
    assignment('3d1c0a5e-0000-4000-8000-000000000003', ROLE.owner, USER(1), 'User'),
    assignment('3d1c0a5e-0000-4000-8000-000000000004', ROLE.reader, 'a0000004-0000-4000-8000-000000000004', 'ServicePrincipal'),
  ]);
  set('authorizationresources', 'microsoft.authorization/roledefinitions', [{ id: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${ROLE.owner}`, name: ROLE.owner, type: 'microsoft.authorization/roledefinitions', subscriptionId: sub, tenantId: ESTATE_TENANT, properties: { roleName: 'Owner', type: 'BuiltInRole' } }]);

  const user = (id: string, upn: string, userType = 'Member', accountEnabled = true): Rec => ({ id, displayName: upn.split('@')[0], userPrincipalName: upn, userType, accountEnabled, createdDateTime: '2024-01-01T00:00:00Z', signInActivity: { lastSignInDateTime: '2026-03-01T08:00:00Z', lastNonInteractiveSignInDateTime: null } });
  fake.graph.set('users', [user(USER(1), 'alice@contoso.example'), user(USER(2), 'bob@contoso.example'), user(USER(3), 'carol@contoso.example', 'Member', false), user(GUEST, 'vendor_ext#EXT#@contoso.example', 'Guest')]);
  const reg = (id: string, upn: string, mfa: boolean, userType = 'member'): Rec => ({ id, userPrincipalName: upn, userDisplayName: upn.split('@')[0], userType, isAdmin: false, isMfaRegistered: mfa, isMfaCapable: mfa, isSsprRegistered: false, isPasswordlessCapable: false, methodsRegistered: mfa ? ['microsoftAuthenticatorPush'] : [], lastUpdatedDateTime: '2026-03-13T00:00:00Z' });
  fake.graph.set('reports/authenticationMethods/userRegistrationDetails', [reg(USER(1), 'alice@contoso.example', true), reg(USER(2), 'bob@contoso.example', false), reg(USER(3), 'carol@contoso.example', false), reg(GUEST, 'vendor_ext#EXT#@contoso.example', false, 'guest')]);
  const secret = (keyId: string, start: string, end: string): Rec => ({ customKeyIdentifier: null, displayName: 'deploy', endDateTime: end, hint: 'x7Q', keyId, secretText: null, startDateTime: start });
  fake.graph.set('applications', [{ id: 'a0000001-0000-4000-8000-000000000001', appId: 'b0000001-0000-4000-8000-000000000001', displayName: 'payroll-sync', createdDateTime: '2024-12-01T00:00:00Z', signInAudience: 'AzureADMyOrg', passwordCredentials: [secret('c0000001-0000-4000-8000-000000000001', '2025-01-01T00:00:00Z', '2027-01-01T00:00:00Z')], keyCredentials: [] }]);
  fake.graph.set('servicePrincipals', [
    { id: SP, appId: 'b0000003-0000-4000-8000-000000000003', displayName: 'ci-deployer', servicePrincipalType: 'Application', accountEnabled: true, appOwnerOrganizationId: ESTATE_TENANT, passwordCredentials: [secret('c0000003-0000-4000-8000-000000000003', '2024-03-01T00:00:00Z', '2099-12-31T00:00:00Z')], keyCredentials: [] },
    { id: 'a0000004-0000-4000-8000-000000000004', appId: 'b0000004-0000-4000-8000-000000000004', displayName: 'reporting', servicePrincipalType: 'Application', accountEnabled: true, appOwnerOrganizationId: ESTATE_TENANT, passwordCredentials: [], keyCredentials: [] },
  ]);
}
