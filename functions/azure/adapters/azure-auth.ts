/**
 * Bearer tokens for the Azure, Microsoft Graph, Office 365 Management and IoT Hub APIs: a token given as is
 * (`AMBER_AZURE_TOKEN`, never refreshed), or a `TokenCredential` from @azure/identity (DefaultAzureCredential by
 * default: environment, workload identity, managed identity, Azure CLI...), asked again once when an API says
 * the token it was given has expired.
 */
import type { TokenCredential } from '@azure/core-auth';
import { InvalidInputError } from '../../../shared/errors.ts';

/** The `.default` scope of each API Amber reads. */
export const AZURE_SCOPES = {
  graph: 'https://graph.microsoft.com/.default',
  arm: 'https://management.azure.com/.default',
  m365: 'https://manage.office.com/.default',
  iothub: 'https://iothubs.azure.net/.default',
} as const;

export type AzureApi = keyof typeof AZURE_SCOPES;

/** Hands out bearer tokens per API; `refresh` asks for a new one instead of the one already held. */
export interface AzureTokens {
  token(api: AzureApi, refresh?: boolean): Promise<string>;
  /** Whether `refresh` can give a different token (a fixed token cannot). */
  readonly refreshable: boolean;
  /** Where tokens come from, for messages (`AMBER_AZURE_TOKEN`, `DefaultAzureCredential`). */
  readonly describe: string;
}

/** A fixed bearer token (`AMBER_AZURE_TOKEN`), used for every API as is. */
export function fixedToken(token: string): AzureTokens {
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new InvalidInputError('AMBER_AZURE_TOKEN holds characters a bearer token cannot (spaces, line breaks or non-ASCII)', {
      hint: 'set it to the access token alone, e.g. AMBER_AZURE_TOKEN=$(az account get-access-token --resource https://graph.microsoft.com --query accessToken -o tsv)',
    });
  }
  return { token: () => Promise.resolve(token), refreshable: false, describe: 'AMBER_AZURE_TOKEN' };
}

/** Tokens from a TokenCredential, cached per API until refreshed. */
export function credentialTokens(credential: TokenCredential, describe = 'DefaultAzureCredential'): AzureTokens {
  const held = new Map<AzureApi, string>();
  return {
    refreshable: true,
    describe,
    async token(api, refresh = false) {
      const cached = held.get(api);
      if (cached !== undefined && !refresh) return cached;
      const got = await credential.getToken(AZURE_SCOPES[api]);
      if (!got?.token) throw new Error(`${describe} gave no token for ${AZURE_SCOPES[api]}`);
      held.set(api, got.token);
      return got.token;
    },
  };
}

/** AMBER_AZURE_TOKEN when set, else DefaultAzureCredential (loaded only then: it is a large module). */
export async function azureTokensFromEnv(env: Readonly<Record<string, string | undefined>>): Promise<AzureTokens> {
  const fixed = env.AMBER_AZURE_TOKEN;
  if (fixed !== undefined && fixed !== '') return fixedToken(fixed.trim());
  const { DefaultAzureCredential } = await import('@azure/identity');
  return credentialTokens(new DefaultAzureCredential());
}
