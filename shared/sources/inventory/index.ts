/**
 * The `inventory` table: the estate as `amber inventory` found it, one row per resource (and per rule, grant,
 * permission or policy that decides its exposure), read from the preserved API answers. Rows are state, not
 * events: the table's time is `observed_at` (when the inventory was taken). On the timeline a row stands at its
 * creation time when the answer gives one (`Created <type>`), so a resource made before the logs' window still
 * appears there, and otherwise at the inventory's time (`Observed <type>`): every row a finding cites is on it.
 */
import type { LogSource, SourceColumn } from '../log-source.ts';
import { parseInventory, sniffInventory } from './parse.ts';

export { parseInventory, parseAnswer, policyOpenness, requestFromKey, sniffInventory, type InventoryRequest, type InventoryRow } from './parse.ts';
export { azureRequestFromKey, parseAzureAnswer, PRIVILEGED_ROLES, type AzureInventoryRequest } from './azure.ts';

/** The table's columns (Amber's evidence_key / evidence_record are added by the loader). */
export const INVENTORY_COLUMNS: readonly SourceColumn[] = [
  { name: 'cloud', type: 'VARCHAR' },
  { name: 'account', type: 'VARCHAR' },
  { name: 'region', type: 'VARCHAR' },
  { name: 'service', type: 'VARCHAR' },
  { name: 'operation', type: 'VARCHAR' },
  { name: 'type', type: 'VARCHAR' },
  { name: 'id', type: 'VARCHAR' },
  { name: 'name', type: 'VARCHAR' },
  { name: 'tags', type: 'VARCHAR' },
  { name: 'created_at', type: 'VARCHAR' },
  { name: 'observed_at', type: 'VARCHAR' },
  { name: 'attributes', type: 'VARCHAR' },
];

/** Every row on the timeline, at its creation time when known: what existed before the logs begin is otherwise invisible there. */
export const INVENTORY_TIMELINE_SQL = `
SELECT
  CAST(coalesce(created_at, observed_at) AS VARCHAR) AS time,
  CAST(cloud AS VARCHAR) AS cloud,
  CAST('inventory' AS VARCHAR) AS source,
  CAST(account AS VARCHAR) AS account,
  CAST(region AS VARCHAR) AS region,
  CAST(NULL AS VARCHAR) AS actor,
  CAST(CASE WHEN created_at IS NULL THEN 'Observed ' ELSE 'Created ' END || type AS VARCHAR) AS action,
  CAST(service AS VARCHAR) AS service,
  CAST(coalesce(name, id) AS VARCHAR) AS target,
  CAST(NULL AS VARCHAR) AS source_ip,
  CAST(NULL AS VARCHAR) AS user_agent,
  CAST('success' AS VARCHAR) AS outcome,
  CAST(NULL AS VARCHAR) AS error_code,
  CAST(evidence_key AS VARCHAR) AS evidence_key,
  CAST(evidence_record AS INTEGER) AS evidence_record
FROM inventory`;

/** The inventory source. */
export const INVENTORY_SOURCE: LogSource = {
  id: 'inventory',
  title: 'Cloud inventory (preserved API answers)',
  cloud: 'aws',
  table: 'inventory',
  timeColumn: 'observed_at',
  columns: INVENTORY_COLUMNS,
  sniff: (head, key) => sniffInventory(head, key),
  parse: (text, key) => parseInventory(text, key),
  timelineSql: INVENTORY_TIMELINE_SQL,
};
