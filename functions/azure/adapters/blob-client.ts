/**
 * What the Azure Blob adapters share: `azblob://account/container/prefix` URIs, the BlobServiceClient built
 * from the environment (a connection string, else Entra ID through DefaultAzureCredential), and the mapping
 * of storage errors to Amber errors that name the blob and say how to fix it.
 */
import { BlobServiceClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { InvalidInputError, StoreError } from '../../../shared/errors.ts';

/** A parsed `azblob://account/container[/prefix]`. */
export interface BlobLocation {
  readonly account: string;
  readonly container: string;
  /** Blob name prefix as written ('' for the whole container). */
  readonly prefix: string;
}

const URI_HINT = 'write it as azblob://account/container[/prefix], e.g. azblob://evidencestore/amber-locker';
const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;
const CONTAINER_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;

/** Parses `azblob://account/container[/prefix]`; throws InvalidInputError naming the URI when it is malformed. */
export function parseAzblobUri(uri: string): BlobLocation {
  if (!uri.startsWith('azblob://')) {
    throw new InvalidInputError(`not an Azure Blob URI: '${uri}' (it must start with azblob://)`, { hint: URI_HINT });
  }
  const parts = uri.slice('azblob://'.length).split('/');
  const account = parts[0] ?? '';
  const container = parts[1] ?? '';
  const prefix = parts.slice(2).join('/');
  if (!ACCOUNT_NAME.test(account)) {
    throw new InvalidInputError(`'${account}' in '${uri}' is not a valid storage account name`, {
      hint: `storage account names are 3-24 lowercase letters and digits; ${URI_HINT}`,
    });
  }
  if (!CONTAINER_NAME.test(container)) {
    throw new InvalidInputError(`'${container}' in '${uri}' is not a valid blob container name`, {
      hint: `container names are 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit; ${URI_HINT}`,
    });
  }
  if (prefix.startsWith('/')) {
    throw new InvalidInputError(`the prefix in '${uri}' starts with '/', which no blob Amber can preserve does`, {
      hint: `drop the extra slash: azblob://${account}/${container}/${prefix.replace(/^\/+/, '')}`,
    });
  }
  return { account, container, prefix };
}

/** The environment the Azure Blob adapters read (passed in: the core never reads process.env). */
export interface BlobEnv {
  /** A storage connection string (Azurite's devstoreaccount1 in tests); wins over Entra ID when set. */
  readonly AZURE_STORAGE_CONNECTION_STRING?: string;
  /** Blob endpoint for Entra ID sign-in; `{account}` is replaced by the account name. */
  readonly AMBER_AZURE_BLOB_URL?: string;
  readonly [name: string]: string | undefined;
}

const PIPELINE: StoragePipelineOptions = { retryOptions: { maxTries: 4 } };

/**
 * The BlobServiceClient for `account`: AZURE_STORAGE_CONNECTION_STRING when set (its account must be the
 * one named), otherwise DefaultAzureCredential (az login, managed identity, workload identity, environment)
 * against AMBER_AZURE_BLOB_URL or https://{account}.blob.core.windows.net. @azure/identity is loaded only here.
 */
export async function blobServiceFromEnv(account: string, env: BlobEnv): Promise<BlobServiceClient> {
  const connection = env.AZURE_STORAGE_CONNECTION_STRING?.trim();
  if (connection) {
    const named = /(?:^|;)\s*AccountName=([^;]+)/i.exec(connection)?.[1]?.trim();
    if (named !== undefined && named !== account) {
      throw new InvalidInputError(`AZURE_STORAGE_CONNECTION_STRING is for the storage account '${named}', but the URI names '${account}'`, {
        hint: `use azblob://${named}/... or unset AZURE_STORAGE_CONNECTION_STRING to sign in with Entra ID (az login) to ${account}`,
      });
    }
    try {
      return BlobServiceClient.fromConnectionString(connection, PIPELINE);
    } catch (cause) {
      throw new InvalidInputError('AZURE_STORAGE_CONNECTION_STRING cannot be used: it is not a storage connection string', {
        hint: 'copy it from the storage account (az storage account show-connection-string), or unset it to sign in with Entra ID',
        cause,
      });
    }
  }
  const url = (env.AMBER_AZURE_BLOB_URL?.trim() || 'https://{account}.blob.core.windows.net').replaceAll('{account}', account);
  if (!/^https?:\/\/[^/]+/.test(url)) {
    throw new InvalidInputError(`AMBER_AZURE_BLOB_URL '${url}' is not an http(s) URL`, { hint: 'set it to the blob endpoint, e.g. https://{account}.blob.core.windows.net' });
  }
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new BlobServiceClient(url, new DefaultAzureCredential(), PIPELINE);
}

/** Status and service error code of a storage SDK error (RestError), whatever its shape. */
export function blobErrorInfo(err: unknown): { status: number | undefined; code: string; name: string } {
  const e = err as { statusCode?: unknown; code?: unknown; name?: unknown; details?: { errorCode?: unknown } } | undefined;
  const status = typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  const code = typeof e?.details?.errorCode === 'string' ? e.details.errorCode : typeof e?.code === 'string' ? e.code : '';
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  return { status, code, name };
}

/** True for 404 on a blob (not on its container). */
export function isBlobNotFound(err: unknown): boolean {
  const { status, code } = blobErrorInfo(err);
  return status === 404 && code !== 'ContainerNotFound';
}

/** How to fix a storage failure, for the message of the error naming `target`. */
export function blobHint(err: unknown, target: string): string {
  const { status, code, name } = blobErrorInfo(err);
  const container = /^azblob:\/\/[^/]+\/[^/?]+/.exec(target)?.[0] ?? target;
  if (code === 'ContainerNotFound') {
    return `the container of ${container} does not exist; create it with version-level immutability (infra/azure), or check the account and container names`;
  }
  if (code === 'AuthenticationFailed' || name === 'CredentialUnavailableError' || name === 'AuthenticationRequiredError') {
    return 'Azure could not authenticate the request: check the account key in AZURE_STORAGE_CONNECTION_STRING, or sign in for Entra ID (az login, a managed identity)';
  }
  if (status === 403) {
    return `the identity is not allowed on ${container}: grant it "Storage Blob Data Contributor" on the container to collect into it, "Storage Blob Data Reader" to verify or read (${code || 'HTTP 403'})`;
  }
  if (code === 'BlockCountExceedsLimit') {
    return 'an append blob takes at most 50,000 appends; start a new case for further work and reference this one in a note';
  }
  const network = (err as { code?: unknown })?.code;
  if (network === 'ECONNREFUSED' || network === 'ENOTFOUND' || network === 'ETIMEDOUT' || name === 'AbortError') {
    return 'the blob endpoint did not answer: check the account name, AMBER_AZURE_BLOB_URL or the connection string\'s BlobEndpoint, and the network';
  }
  return 'run again; if it persists, check the storage account in the Azure portal (its activity log names the failed request)';
}

/** A StoreError for a failed blob operation, naming the blob and the fix. */
export function toBlobStoreError(err: unknown, action: string, target: string): StoreError {
  const { status, code, name } = blobErrorInfo(err);
  const reason = code || name;
  return new StoreError(`cannot ${action} ${target}: ${reason}${status === undefined ? '' : ` (HTTP ${status})`}`, {
    hint: blobHint(err, target),
    cause: err,
  });
}
