/**
 * What every Azure function builds once per instance, at module scope: the settings, the managed identity's
 * credential, the evidence store, the managed-disk snapshot provider and the actor recorded in the ledger.
 */
import { DefaultAzureCredential } from '@azure/identity';
import pkg from '../../package.json' with { type: 'json' };
import type { Actor } from '../../shared/evidence/model.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import { ManagedDiskSnapshotProvider } from './adapters/managed-disk-snapshot-provider.ts';
import { parseVmRef } from './adapters/arm.ts';
import { readAzureConfig, type AzureConfig } from './config.ts';
import { openEvidenceStore } from './evidence-store.ts';
import type { PreservationDeps } from './handlers/preservation.ts';
import type { DetectCasesOptions } from './detect-cases.ts';
import { bundledCatalogue } from '../aws/bundled-catalogue.ts';

/** `amber/<version>`, recorded in every ledger entry. */
export const TOOL = `amber/${pkg.version}`;

/** The actor of the ledger: the function app's managed identity. */
export function actorOf(config: AzureConfig): Actor {
  return { principal: `azure-mi:${config.principal}`, tool: TOOL };
}

/** Memoises an async factory (the store opens once per instance, on first use). */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= make().catch((error: unknown) => {
      p = undefined;
      throw error;
    });
    return p;
  };
}

/** Builds the dependencies of every Azure function from the app settings. */
export function azureRuntime(env: NodeJS.ProcessEnv = process.env): { preservation: () => Promise<PreservationDeps>; detections: () => Promise<DetectCasesOptions> } {
  const config = readAzureConfig(env);
  const credential = new DefaultAzureCredential();
  const provider = new ManagedDiskSnapshotProvider({ credential, snapshotResourceGroup: config.snapshotResourceGroup, ...(config.armEndpoint ? { endpoint: config.armEndpoint } : {}) });
  const store = once<ObjectStore>(() => openEvidenceStore(config.locker));
  const actor = actorOf(config);
  return {
    preservation: once(async () => ({
      provider,
      store: await store(),
      actor,
      retainUntil: () => new Date(Date.now() + config.retentionDays * 86_400_000),
      triggers: {
        defenderMinSeverity: config.defenderMinSeverity,
        defaultWindowHours: config.defaultWindowHours,
        locate: (subscriptionId, vm) => provider.locationOf(subscriptionId, parseVmRef(vm)),
      },
    })),
    detections: once(async () => ({ store: await store(), catalogue: bundledCatalogue(), actor, window: config.detectionWindow })),
  };
}
