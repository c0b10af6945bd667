/**
 * The flow log fields AWS documents, for VPC Flow Logs (versions 2 to 8) and Transit Gateway Flow Logs, with
 * the column each becomes in the `vpc_flow_logs` table and its type there. Column names are the Athena ones:
 * the field name with `-` turned into `_` (`log-status` -> `log_status`, `end` stays `end` and is quoted).
 * Types follow the Athena DDL in the AWS documentation (ports, version, tcp-flags and traffic-path int;
 * protocol, packets, bytes, start, end bigint; everything else string).
 *
 * A VPC flow log has a default format (the version 2 fields) or a custom one (any fields, any order); files
 * delivered to S3 start with a header line naming the fields, CloudWatch Logs events carry no header. A
 * record's `version` is the highest version among the fields of its format.
 */

export type FlowColumnType = 'VARCHAR' | 'INTEGER' | 'BIGINT';

export interface FlowField {
  /** Field name as AWS writes it in a format and in the S3 header line (`log-status`). */
  readonly name: string;
  /** Column in the table (`log_status`). */
  readonly column: string;
  readonly type: FlowColumnType;
  /** Flow log version that introduced the field (VPC), when AWS documents one. */
  readonly version?: number;
}

const field = (name: string, type: FlowColumnType = 'VARCHAR', version?: number): FlowField => ({
  name,
  column: name.replace(/-/g, '_'),
  type,
  ...(version === undefined ? {} : { version }),
});

/** VPC Flow Logs fields in the order of the AWS "Available fields" table (which is also the default order). */
export const VPC_FIELDS: readonly FlowField[] = [
  field('version', 'INTEGER', 2),
  field('account-id', 'VARCHAR', 2),
  field('interface-id', 'VARCHAR', 2),
  field('srcaddr', 'VARCHAR', 2),
  field('dstaddr', 'VARCHAR', 2),
  field('srcport', 'INTEGER', 2),
  field('dstport', 'INTEGER', 2),
  field('protocol', 'BIGINT', 2),
  field('packets', 'BIGINT', 2),
  field('bytes', 'BIGINT', 2),
  field('start', 'BIGINT', 2),
  field('end', 'BIGINT', 2),
  field('action', 'VARCHAR', 2),
  field('log-status', 'VARCHAR', 2),
  field('vpc-id', 'VARCHAR', 3),
  field('subnet-id', 'VARCHAR', 3),
  field('instance-id', 'VARCHAR', 3),
  field('tcp-flags', 'INTEGER', 3),
  field('type', 'VARCHAR', 3),
  field('pkt-srcaddr', 'VARCHAR', 3),
  field('pkt-dstaddr', 'VARCHAR', 3),
  field('region', 'VARCHAR', 4),
  field('az-id', 'VARCHAR', 4),
  field('sublocation-type', 'VARCHAR', 4),
  field('sublocation-id', 'VARCHAR', 4),
  field('pkt-src-aws-service', 'VARCHAR', 5),
  field('pkt-dst-aws-service', 'VARCHAR', 5),
  field('flow-direction', 'VARCHAR', 5),
  field('traffic-path', 'INTEGER', 5),
  field('ecs-cluster-arn', 'VARCHAR', 7),
  field('ecs-cluster-name', 'VARCHAR', 7),
  field('ecs-container-instance-arn', 'VARCHAR', 7),
  field('ecs-container-instance-id', 'VARCHAR', 7),
  field('ecs-container-id', 'VARCHAR', 7),
  field('ecs-second-container-id', 'VARCHAR', 7),
  field('ecs-service-name', 'VARCHAR', 7),
  field('ecs-task-definition-arn', 'VARCHAR', 7),
  field('ecs-task-arn', 'VARCHAR', 7),
  field('ecs-task-id', 'VARCHAR', 7),
  field('reject-reason', 'VARCHAR', 8),
];

/**
 * Fields newer than version 8, accepted by name from a header line. Their version numbers are not confirmed
 * against the AWS documentation here, so they take part in no default (headerless) format.
 */
export const NEWER_VPC_FIELDS: readonly FlowField[] = [field('resource-id'), field('encryption-status')];

/**
 * Transit Gateway Flow Logs fields, in the documented order. A transit gateway flow log created without a
 * format records all of them, in this order (its "default" for headerless lines).
 */
export const TGW_FIELDS: readonly FlowField[] = [
  field('version', 'INTEGER'),
  field('resource-type'),
  field('account-id'),
  field('tgw-id'),
  field('tgw-attachment-id'),
  field('tgw-src-vpc-account-id'),
  field('tgw-dst-vpc-account-id'),
  field('tgw-src-vpc-id'),
  field('tgw-dst-vpc-id'),
  field('tgw-src-subnet-id'),
  field('tgw-dst-subnet-id'),
  field('tgw-src-eni'),
  field('tgw-dst-eni'),
  field('tgw-src-az-id'),
  field('tgw-dst-az-id'),
  field('tgw-pair-attachment-id'),
  field('srcaddr'),
  field('dstaddr'),
  field('srcport', 'INTEGER'),
  field('dstport', 'INTEGER'),
  field('protocol', 'BIGINT'),
  field('packets', 'BIGINT'),
  field('bytes', 'BIGINT'),
  field('start', 'BIGINT'),
  field('end', 'BIGINT'),
  field('log-status'),
  field('type'),
  field('packets-lost-no-route', 'BIGINT'),
  field('packets-lost-blackhole', 'BIGINT'),
  field('packets-lost-mtu-exceeded', 'BIGINT'),
  field('packets-lost-ttl-expired', 'BIGINT'),
  field('tcp-flags', 'INTEGER'),
  field('region'),
  field('flow-direction'),
  field('pkt-src-aws-service'),
  field('pkt-dst-aws-service'),
];

/** Every field Amber knows by name, VPC first: the table's columns in order (shared names once). */
export const ALL_FIELDS: readonly FlowField[] = (() => {
  const seen = new Map<string, FlowField>();
  for (const f of [...VPC_FIELDS, ...TGW_FIELDS, ...NEWER_VPC_FIELDS]) if (!seen.has(f.name)) seen.set(f.name, f);
  return [...seen.values()];
})();

export const FIELD_BY_NAME: ReadonlyMap<string, FlowField> = new Map(ALL_FIELDS.map((f) => [f.name, f]));

/** A record layout: the fields of each record, in order, and what the layout is called in reports. */
export interface FlowFormat {
  /** `v2`..`v8` for a version's default field set, `transit-gateway`, or `custom` (from a header). */
  readonly name: string;
  readonly fields: readonly FlowField[];
}

/** The VPC fields of versions up to `version`, in the documented order. */
function vpcFieldsUpTo(version: number): FlowField[] {
  return VPC_FIELDS.filter((f) => (f.version ?? Infinity) <= version);
}

/**
 * The layouts a headerless line can be read with, keyed by its number of fields: each VPC version's full field
 * set (14, 21, 25, 29, 39 and 40 fields; version 6 added no VPC field) and Transit Gateway's (36). The counts
 * are distinct, so a line's field count picks its layout; the `version` value a line carries is not trusted
 * for this, because records in the wild do not always carry the highest version of their fields.
 */
export const DEFAULT_FORMATS: ReadonlyMap<number, FlowFormat> = (() => {
  const byCount = new Map<number, FlowFormat>();
  for (const v of [2, 3, 4, 5, 7, 8]) {
    const fields = vpcFieldsUpTo(v);
    byCount.set(fields.length, { name: `v${v}`, fields });
  }
  byCount.set(TGW_FIELDS.length, { name: 'transit-gateway', fields: TGW_FIELDS });
  return byCount;
})();

/** The default format (the version 2 fields), what a flow log created without a format writes. */
export const V2_DEFAULT: FlowFormat = DEFAULT_FORMATS.get(14)!;

/** The columns of the `vpc_flow_logs` table: every known field, then `time`. */
export const VPC_FLOW_COLUMNS: readonly { readonly name: string; readonly type: string }[] = [
  ...ALL_FIELDS.map((f) => ({ name: f.column, type: f.type })),
  { name: 'time', type: 'VARCHAR' },
];

/** Names of a layout (for headers written by tests and reports). */
export function formatHeader(format: FlowFormat): string {
  return format.fields.map((f) => f.name).join(' ');
}

/** The layout a list of field names describes: a known default when it is exactly one, else `custom`. */
export function formatFromNames(names: readonly string[]): { format: FlowFormat; unknown: string[] } {
  const unknown = names.filter((n) => !FIELD_BY_NAME.has(n));
  // An unknown name keeps its position (its values are skipped) so the fields after it stay aligned.
  const fields = names.map((n) => FIELD_BY_NAME.get(n) ?? { name: n, column: '', type: 'VARCHAR' as const });
  const same = DEFAULT_FORMATS.get(names.length);
  const isDefault = unknown.length === 0 && same !== undefined && same.fields.every((f, i) => f.name === names[i]);
  return { format: { name: isDefault ? same.name : 'custom', fields }, unknown };
}
