/** The actor recorded in the ledger by the Azure functions, a memoiser for what they open once, and their lazily made credential. */
import type { TokenCredential } from '@azure/core-auth';
import pkg from '../../package.json' with { type: 'json' };
import type { Actor } from '../../shared/evidence/model.ts';
import type { AzureConfig } from './config.ts';

/** `amber/<version>`, recorded in every ledger entry. */
export const TOOL = `amber/${pkg.version}`;

/** The actor of the ledger: the function app's managed identity. */
export function actorOf(config: AzureConfig): Actor {
  return { principal: `azure-mi:${config.principal}`, tool: TOOL };
}

/** Memoises an async factory (the store opens once per instance, on first use). */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= make().catch((error: unknown) => {
      p = undefined;
      throw error;
    });
    return p;
  };
}

/**
 * DefaultAzureCredential, made (and @azure/identity with MSAL loaded) when the first token is asked for: a
 * large module set a cold start would otherwise evaluate before the function could answer anything.
 */
export function lazyCredential(make: () => Promise<TokenCredential> = async () => new (await import('@azure/identity')).DefaultAzureCredential()): TokenCredential {
  const credential = once(make);
  return { getToken: async (scopes, options) => (await credential()).getToken(scopes, options) };
}
