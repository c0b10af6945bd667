/**
 * What the preservation functions build once per instance, at module scope: the settings, the managed identity's
 * credential, the evidence store, the managed-disk snapshot provider and the actor recorded in the ledger.
 * (The detection timer builds its own, detection-runtime.ts, so its bundle carries no ARM client.)
 * Nothing here reaches Azure or loads @azure/identity at cold start: the credential is made on the first token
 * asked for (lazyCredential), the store opened on the first invocation.
 */
import { actorOf, lazyCredential, once } from './actor.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import { credentialTokens } from './adapters/azure-auth.ts';
import { lazyKeyVaultSigner } from './adapters/key-vault-signer.ts';
import { AzureHttp } from './adapters/azure-http.ts';
import { ManagedDiskSnapshotProvider } from './adapters/managed-disk-snapshot-provider.ts';
import { parseVmRef } from './adapters/arm.ts';
import { ArmRest } from './adapters/arm-rest.ts';
import { readAzureConfig, type AzureConfig } from './config.ts';
import { openEvidenceStore } from './evidence-store.ts';
import type { InventoryDeps } from './handlers/inventory.ts';
import type { PreservationDeps } from './handlers/preservation.ts';
import type { InventorySettings } from './preserve-inventory.ts';

export { lazyCredential };

/** Builds the dependencies of the preservation functions from the app settings. */
export function preservationRuntime(env: NodeJS.ProcessEnv = process.env): () => Promise<PreservationDeps> {
  const config = readAzureConfig(env);
  const credential = lazyCredential();
  const provider = new ManagedDiskSnapshotProvider({ credential, snapshotResourceGroup: config.snapshotResourceGroup, ...(config.armEndpoint ? { endpoint: config.armEndpoint } : {}) });
  // The VHD export of requests with exportVhd (beginGetAccess / endGetAccess on the evidence resource group's snapshots).
  const arm = new ArmRest({ credential, ...(config.armEndpoint ? { endpoint: config.armEndpoint } : {}) });
  const store = once<ObjectStore>(() => openEvidenceStore(config.locker));
  const actor = actorOf(config);
  const http = new AzureHttp({ tokens: credentialTokens(credential, 'the function app\'s managed identity') });
  const logs = { http, settings: { ...config.logs, ...(config.armEndpoint ? { armUrl: config.armEndpoint } : {}) } };
  const inventory = { http, onPreserve: config.inventory.onPreserve, settings: inventorySettings(config) };
  // Opened on the first invocation (keys/get), with the same managed identity; a failure is retried on the next.
  const signer = config.signingKey ? lazyKeyVaultSigner({ keyId: config.signingKey, credential }) : undefined;
  return once(async () => ({
      logs,
      inventory,
      ...(signer ? { signer: await signer() } : {}),
      provider,
      arm,
      store: await store(),
      actor,
      retainUntil: () => new Date(Date.now() + config.retentionDays * 86_400_000),
      triggers: {
        defenderMinSeverity: config.defenderMinSeverity,
        defaultWindowHours: config.defaultWindowHours,
        locate: (subscriptionId, vm) => provider.locationOf(subscriptionId, parseVmRef(vm)),
      },
    }));
}

/**
 * Where the inventory reads: the ARM endpoint, and Entra ID through Graph only when the app names a tenant
 * (AMBER_LOG_TENANT_ID, which also says the Graph application permissions were granted).
 */
export function inventorySettings(config: AzureConfig): InventorySettings {
  return {
    ...(config.armEndpoint ? { armUrl: config.armEndpoint } : {}),
    ...(config.logs.graphUrl ? { graphUrl: config.logs.graphUrl } : {}),
    ...(config.logs.tenant ? { tenant: config.logs.tenant } : { entra: false }),
  };
}

/** Builds the dependencies of the inventory function from the app settings (no snapshot provider). */
export function inventoryRuntime(env: NodeJS.ProcessEnv = process.env): () => Promise<InventoryDeps> {
  const config = readAzureConfig(env);
  const credential = lazyCredential();
  const store = once<ObjectStore>(() => openEvidenceStore(config.locker));
  const actor = actorOf(config);
  const http = new AzureHttp({ tokens: credentialTokens(credential, 'the function app\'s managed identity') });
  return once(async () => ({ store: await store(), actor, http, settings: inventorySettings(config), retainUntil: () => new Date(Date.now() + config.retentionDays * 86_400_000) }));
}
