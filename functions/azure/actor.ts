/** The actor recorded in the ledger by the Azure functions, and a memoiser for what they open once. */
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

