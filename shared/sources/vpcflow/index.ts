/**
 * VPC Flow Logs (versions 2 to 8, default and custom formats) and Transit Gateway Flow Logs as the
 * `vpc_flow_logs` table: the Athena column names, one row per flow record (NODATA and SKIPDATA included), and
 * `time`, the record's `start` as ISO-8601 UTC text. Transit Gateway records share the table (their own fields
 * are the `tgw_*`, `resource_type` and `packets_lost_*` columns; they have no `action`), so one query sees all
 * flow records of a case.
 */
import type { LogSource } from '../log-source.ts';
import { VPC_FLOW_COLUMNS } from './fields.ts';
import { parseVpcFlowLogs, sniffVpcFlow } from './parse.ts';

export { parseVpcFlowLogs, sniffVpcFlow, looksLikeFlowRecord, isHeader } from './parse.ts';
export { VPC_FIELDS, TGW_FIELDS, NEWER_VPC_FIELDS, ALL_FIELDS, DEFAULT_FORMATS, V2_DEFAULT, VPC_FLOW_COLUMNS, formatHeader, type FlowField, type FlowFormat } from './fields.ts';
export { vpcFlowLogsAthenaDdl, vpcFlowLogsViewSql, type VpcFlowLogsAthenaDdlOptions, type VpcFlowLogsFilesTable } from './athena.ts';

/**
 * The timeline reading of a flow record: the source address acts, the action is ACCEPT/REJECT (or the log
 * status of a NODATA/SKIPDATA record), the target is the destination address and port. A REJECT, or a
 * SKIPDATA window (records the flow log service had to drop), is a failure. Account and region come from the
 * record, else from the S3 delivery key.
 */
export const VPC_FLOW_TIMELINE_SQL = `
SELECT
  CAST(time AS VARCHAR) AS time,
  CAST('aws' AS VARCHAR) AS cloud,
  CAST('vpcflow' AS VARCHAR) AS source,
  CAST(coalesce(account_id, regexp_extract(evidence_key, 'AWSLogs/([0-9]{12})/vpcflowlogs/', 1)) AS VARCHAR) AS account,
  CAST(coalesce(region, regexp_extract(evidence_key, '/vpcflowlogs/([a-z0-9-]+)/[0-9]{4}/', 1)) AS VARCHAR) AS region,
  CAST(coalesce(srcaddr, interface_id, tgw_attachment_id) AS VARCHAR) AS actor,
  CAST(coalesce(action, log_status) AS VARCHAR) AS action,
  CAST(CASE WHEN tgw_id IS NOT NULL OR resource_type IS NOT NULL THEN 'transitgateway' ELSE 'vpc' END AS VARCHAR) AS service,
  CAST(coalesce(dstaddr || ':' || CAST(dstport AS VARCHAR), dstaddr, interface_id, tgw_attachment_id) AS VARCHAR) AS target,
  CAST(srcaddr AS VARCHAR) AS source_ip,
  CAST(NULL AS VARCHAR) AS user_agent,
  CAST(CASE WHEN action = 'REJECT' OR log_status = 'SKIPDATA' THEN 'failure' ELSE 'success' END AS VARCHAR) AS outcome,
  CAST(CASE WHEN action = 'REJECT' THEN coalesce(reject_reason, 'REJECT') WHEN log_status = 'SKIPDATA' THEN 'SKIPDATA' END AS VARCHAR) AS error_code,
  CAST(evidence_key AS VARCHAR) AS evidence_key,
  CAST(evidence_record AS INTEGER) AS evidence_record
FROM vpc_flow_logs`;

/** The VPC / Transit Gateway flow log source. */
export const VPC_FLOW_SOURCE: LogSource = {
  id: 'vpcflow',
  title: 'VPC and Transit Gateway Flow Logs',
  cloud: 'aws',
  table: 'vpc_flow_logs',
  timeColumn: 'time',
  columns: VPC_FLOW_COLUMNS,
  sniff: (head) => sniffVpcFlow(head),
  parse: (text, key) => parseVpcFlowLogs(text, key),
  timelineSql: VPC_FLOW_TIMELINE_SQL,
};
