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
import { readAzureConfig } from './config.ts';
import { openEvidenceStore } from './evidence-store.ts';
import type { PreservationDeps } from './handlers/preservation.ts';

export { lazyCredential };

/** Builds the dependencies of the preservation functions from the app settings. */
export function preservationRuntime(env: NodeJS.ProcessEnv = process.env): () => Promise<PreservationDeps> {
  const config = readAzureConfig(env);
  const credential = lazyCredential();
  const provider = new ManagedDiskSnapshotProvider({ credential, snapshotResourceGroup: config.snapshotResourceGroup, ...(config.armEndpoint ? { endpoint: config.armEndpoint } : {}) });
  const store = once<ObjectStore>(() => openEvidenceStore(config.locker));
  const actor = actorOf(config);
  const http = new AzureHttp({ tokens: credentialTokens(credential, 'the function app\'s managed identity') });
  const logs = { http, settings: { ...config.logs, ...(config.armEndpoint ? { armUrl: config.armEndpoint } : {}) } };
  // Opened on the first invocation (keys/get), with the same managed identity; a failure is retried on the next.
  const signer = config.signingKey ? lazyKeyVaultSigner({ keyId: config.signingKey, credential }) : undefined;
  return once(async () => ({
      logs,
      ...(signer ? { signer: await signer() } : {}),
      provider,
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
