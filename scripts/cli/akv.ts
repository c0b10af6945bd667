/**
 * `--signing-key akv:https://<vault>.vault.azure.net/keys/<name>[/<version>]` for the CLI: an Azure Key Vault EC
 * P-256 key signs seals and checkpoints (ES256), as the Azure functions do. Signs in with DefaultAzureCredential
 * (az login, environment, workload or managed identity). Loaded only when such a key is named.
 */
import type { TokenCredential } from '@azure/core-auth';
import { KeyVaultSigner } from '../../functions/azure/adapters/key-vault-signer.ts';

/** Opens the Key Vault key `keyId` with `credential` (default: DefaultAzureCredential). */
export async function openKeyVaultSigner(keyId: string, credential?: TokenCredential): Promise<KeyVaultSigner> {
  const signIn = credential ?? new (await import('@azure/identity')).DefaultAzureCredential();
  return KeyVaultSigner.open({ keyId, credential: signIn });
}
