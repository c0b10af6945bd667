/**
 * Every log source Amber parses besides CloudTrail (which has its own path: DuckDB reads delivery files in
 * place). Adding a source = implementing LogSource in shared/sources/<id>/ and listing it here.
 */
import { InvalidInputError } from '../errors.ts';
import type { LogSource } from './log-source.ts';
import { S3_ACCESS_SOURCE } from './s3access/index.ts';
import { VPC_FLOW_SOURCE } from './vpcflow/index.ts';
import { azureActivitySource } from './azure-activity/index.ts';
import { entraAuditSource } from './entra-audit/index.ts';
import { entraSignInSource } from './entra-signin/index.ts';
import { entraRiskSource } from './entra-risk/index.ts';
import { azureStateSource } from './azure-state/index.ts';
import { gcpAuditSource } from './gcp-audit/index.ts';
import { m365AuditSource } from './m365-audit/index.ts';
import { iotApiSource } from './iot-api/index.ts';
import { iotCoreSource } from './iot-core/index.ts';
import { iotShadowSource } from './iot-shadow/index.ts';
import { mqttSource } from './mqtt/index.ts';
import { INVENTORY_SOURCE } from './inventory/index.ts';

/** The registered sources, in no particular order (detection must be unambiguous). */
export const LOG_SOURCES: readonly LogSource[] = [
  VPC_FLOW_SOURCE,
  S3_ACCESS_SOURCE,
  azureActivitySource,
  entraSignInSource,
  entraAuditSource,
  entraRiskSource,
  azureStateSource,
  m365AuditSource,
  gcpAuditSource,
  iotCoreSource,
  iotShadowSource,
  iotApiSource,
  mqttSource,
  INVENTORY_SOURCE,
];

/** The source with this id, or InvalidInputError listing the valid ids. */
export function sourceById(id: string, sources: readonly LogSource[] = LOG_SOURCES): LogSource {
  const found = sources.find((s) => s.id === id);
  if (!found) {
    throw new InvalidInputError(`unknown source ${JSON.stringify(id)}`, { hint: `use one of: cloudtrail, ${sources.map((s) => s.id).join(', ')}` });
  }
  return found;
}

/** Recognises a file by its first bytes (gunzipped) and key: the one source that claims it, or why none does. */
export function detectSource(head: string, key: string, sources: readonly LogSource[] = LOG_SOURCES): { source?: LogSource; reason?: string } {
  const claims = sources.filter((s) => s.sniff(head, key));
  if (claims.length === 1) return { source: claims[0]! };
  if (claims.length > 1) return { reason: `ambiguous: looks like ${claims.map((s) => s.id).join(' and ')}; collect it with --source to say which` };
  return { reason: 'not a format Amber parses yet' };
}
