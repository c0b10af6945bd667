/**
 * What every Azure Resource Manager adapter shares: resource ids (parsed, and Amber's short VM reference),
 * the raw response of a call (preserved byte for byte, never a deserialised copy), and ARM errors turned
 * into CloudCallError naming the call, the subscription and the resource.
 */
import { InvalidInputError } from '../../../shared/errors.ts';
import { CloudCallError } from '../../../shared/preservation/errors.ts';

/** A parsed ARM resource id: `/subscriptions/<s>/resourceGroups/<g>/providers/<ns>/<type>/<name>`. */
export interface ArmId {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly provider: string;
  readonly type: string;
  readonly name: string;
}

const ARM_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/([^/]+)\/([^/]+)\/([^/]+)$/i;
export const SUBSCRIPTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Azure locations are lowercase letters and digits (`westeurope`, `eastus2`). */
export const LOCATION = /^[a-z][a-z0-9]{2,39}$/;
/** Resource group names: letters, digits, `.`, `_`, `-` (Amber refuses the `(` `)` Azure also allows). */
const RESOURCE_GROUP = /^[A-Za-z0-9._-]{1,90}$/;
/** VM names: letters, digits, `.`, `_`, `-`. */
const VM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Parses a top-level ARM resource id; undefined when it is not one. */
export function parseArmId(id: string): ArmId | undefined {
  const m = ARM_ID.exec(id);
  if (!m) return undefined;
  return { subscriptionId: m[1]!, resourceGroup: m[2]!, provider: m[3]!, type: m[4]!, name: m[5]! };
}

/**
 * Amber's reference to a VM in requests, tags and case paths: `<resource group>:<vm name>` (the subscription is
 * the request's account, the location its region). ARM ids hold `/`, which request ids, tags and keys cannot.
 */
export function vmRef(resourceGroup: string, vmName: string): string {
  return `${resourceGroup}:${vmName}`;
}

/** The resource group and name of a VM reference, or an error naming it. */
export function parseVmRef(ref: string): { resourceGroup: string; vmName: string } {
  const i = ref.indexOf(':');
  const resourceGroup = i < 0 ? '' : ref.slice(0, i);
  const vmName = i < 0 ? '' : ref.slice(i + 1);
  if (!RESOURCE_GROUP.test(resourceGroup) || !VM_NAME.test(vmName)) {
    throw new InvalidInputError(`not an Azure VM reference: ${JSON.stringify(ref)}`, {
      hint: 'give <resource group>:<vm name> (e.g. rg-web:vm-web-1), or the VM\'s full resource id /subscriptions/.../virtualMachines/<name>',
    });
  }
  return { resourceGroup, vmName };
}

/** A VM given as a full resource id or as `rg:name`, as the subscription and Amber's reference. */
export function vmFromInput(input: string): { subscriptionId?: string; ref: string } {
  if (input.startsWith('/')) {
    const id = parseArmId(input);
    if (!id || id.provider.toLowerCase() !== 'microsoft.compute' || id.type.toLowerCase() !== 'virtualmachines') {
      throw new InvalidInputError(`not a virtual machine resource id: ${JSON.stringify(input)}`, {
        hint: 'a VM id looks like /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Compute/virtualMachines/<name>',
      });
    }
    const ref = vmRef(id.resourceGroup, id.name);
    parseVmRef(ref);
    return { subscriptionId: id.subscriptionId, ref };
  }
  parseVmRef(input);
  return { ref: input };
}

/** The raw response of an ARM call (arm-rest.ts): the final one, for long-running operations. */
export interface RawResponse {
  readonly status: number;
  readonly bodyAsText?: string | null;
  readonly request: { readonly method: string; readonly url: string };
}

/** The evidence origin of an ARM call: `api:azure-arm:<METHOD>:<url with its exact query>`. */
export function armOrigin(raw: RawResponse | undefined, fallback: string): string {
  return raw ? `api:azure-arm:${raw.request.method}:${raw.request.url}` : fallback;
}

/** HTTP status and ARM error code of a thrown ARM error (ArmRequestError, or any error with `statusCode` and `code`). */
export function armErrorInfo(err: unknown): { status?: number; code?: string; message: string } {
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown };
  return {
    ...(typeof e?.statusCode === 'number' ? { status: e.statusCode } : {}),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    message: typeof e?.message === 'string' ? e.message : String(err),
  };
}

/** True when ARM said the resource does not exist. */
export function isNotFound(err: unknown): boolean {
  const info = armErrorInfo(err);
  return info.status === 404 || info.code === 'ResourceNotFound' || info.code === 'NotFound';
}

/** An ARM failure as CloudCallError: the call, where, ARM's code and message, whether a retry may help. */
export function toCloudCallError(err: unknown, call: string, where: string): CloudCallError {
  const info = armErrorInfo(err);
  const retryable = info.status === 429 || (info.status !== undefined && info.status >= 500);
  let hint = 'run the step again; ARM errors are listed at https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/common-deployment-errors';
  if (info.status === 401 || info.status === 403 || info.code === 'AuthorizationFailed') {
    hint = `the function's managed identity may not call ${call} on ${where}: check the Amber collector role assignment (infra/azure)`;
  } else if (info.status === 429) {
    hint = `Azure kept throttling ${call} after Amber's retries: the request is safe to send again (names and tags make it idempotent)`;
  }
  return new CloudCallError(`${call} failed on ${where}: ${info.code ? `${info.code}: ` : ''}${info.message}`, call, retryable, { cause: err, hint });
}
