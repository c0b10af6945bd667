/**
 * What the detection timer builds once per instance: the settings, the evidence store, the bundled detection
 * catalogue (the same JSON module the Lambda carries) and the actor. No ARM client: the run only reads and writes
 * the evidence store. The catalogue and the store are loaded on the first run, not at cold start.
 */
import { lazyKeyVaultSigner } from './adapters/key-vault-signer.ts';
import { readAzureConfig } from './config.ts';
import type { DetectCasesOptions } from './detect-cases.ts';
import { openEvidenceStore } from './evidence-store.ts';
import { actorOf, lazyCredential, once } from './actor.ts';

/** Builds the timer's options from the app settings. */
export function detectionRuntime(env: NodeJS.ProcessEnv = process.env): () => Promise<DetectCasesOptions> {
  const config = readAzureConfig(env);
  // Findings written to a signed case are sealed: the timer signs with the same Key Vault key as the preservation functions.
  const signer = config.signingKey ? lazyKeyVaultSigner({ keyId: config.signingKey, credential: lazyCredential() }) : undefined;
  return once(async () => ({ store: await openEvidenceStore(config.locker), catalogue: (await import('../aws/bundled-catalogue.ts')).bundledCatalogue(), actor: actorOf(config), window: config.detectionWindow, ...(signer ? { signer } : {}) }));
}
