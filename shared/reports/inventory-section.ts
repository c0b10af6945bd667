/**
 * The report's inventory section: how many resources of each type the case's inventory holds, and every exposure
 * finding (the catalogue's inventory-* detections) with the answer and record it cites.
 */
import type { Finding } from '../detections/run.ts';
import type { QueryEngine } from '../ports/query-engine.ts';
import { escapeHtml as h } from '../text/escape.ts';

/** Rows per account and type (the `api:page` rows that only record the questions asked are left out). */
export interface InventoryCount {
  readonly account: string;
  readonly type: string;
  readonly rows: number;
}

/** What the section shows; absent when the case holds no inventory. */
export interface InventorySummary {
  readonly counts: readonly InventoryCount[];
  readonly findings: readonly Finding[];
}

/** Counts per account and type, in a total order; undefined when the case has no inventory table. */
export async function inventorySummary(engine: QueryEngine, sources: Readonly<Record<string, string>>, findings: readonly Finding[]): Promise<InventorySummary | undefined> {
  const table = sources.inventory;
  if (!table) return undefined;
  const counts = await engine.query<InventoryCount>(
    `SELECT account, type, CAST(count(*) AS INTEGER) AS rows FROM ${table} WHERE type <> 'api:page' GROUP BY account, type ORDER BY account, type`,
  );
  return { counts: counts.map((c) => ({ ...c, rows: Number(c.rows) })), findings: findings.filter((f) => f.detection.startsWith('inventory-')) };
}

/** The HTML section (escaped throughout: names and tags come from the cloud). */
export function inventorySection(s: InventorySummary | undefined): string {
  if (!s) return '';
  const counts = s.counts.map((c) => `<tr><td><code>${h(c.account)}</code></td><td>${h(c.type)}</td><td class="num">${c.rows}</td></tr>`).join('\n');
  const findings = s.findings
    .map((f) => `<li><strong>${h(f.severity)}</strong> ${h(f.title)}: ${h(f.detail ?? '')}<br><code>${h(f.evidence_key)}</code> record ${f.evidence_record ?? '-'}, sha256 <code class="hash">${h(f.evidence_sha256 ?? '')}</code></li>`)
    .join('\n');
  return `<section id="inventory">
  <h2>Inventory and exposure</h2>
  <table><thead><tr><th>Account</th><th>Type</th><th>Rows</th></tr></thead><tbody>
  ${counts}
  </tbody></table>
  <h3>Exposure findings (${s.findings.length})</h3>
  ${s.findings.length === 0 ? '<p>No inventory detection matched.</p>' : `<ul>${findings}</ul>`}
</section>`;
}

/** One thing the inventory says about an identity, with the answer and record that say it. */
export interface IdentityFact {
  /** The identity as the activity names it: an IAM user's or role's ARN, another cloud's principal (e-mail lower-cased). */
  readonly identity: string;
  readonly fact: string;
  readonly evidence_key: string;
  readonly evidence_record: number;
}

/**
 * What the inventory says about each identity, for the per-identity view: for IAM users their MFA devices (or
 * that ListMFADevices answered none), access keys with status and age, when each key was last used, and attached
 * policies (administrator ones marked); for IAM roles who may assume them and their attached policies; for
 * other clouds' identity rows (users, service principals, service accounts), the row itself.
 */
export async function identityFacts(engine: QueryEngine, table: string): Promise<IdentityFact[]> {
  const rows = await engine.query<IdentityFact & { evidence_record: number | bigint }>(
    `WITH inv AS (SELECT * FROM ${table}),
     users AS (SELECT account, id AS name, json_extract_scalar(attributes, '$.arn') AS arn FROM inv WHERE type = 'iam:user' AND json_extract_scalar(attributes, '$.arn') IS NOT NULL),
     roles AS (SELECT account, id AS name, json_extract_scalar(attributes, '$.arn') AS arn FROM inv WHERE type = 'iam:role' AND json_extract_scalar(attributes, '$.arn') IS NOT NULL),
     facts AS (
       SELECT json_extract_scalar(attributes, '$.arn') AS identity,
         'IAM user, created ' || coalesce(created_at, 'at an unknown time') || coalesce(', console password last used ' || json_extract_scalar(attributes, '$.passwordLastUsed'), '') AS fact,
         evidence_key, evidence_record
       FROM inv WHERE type = 'iam:user' AND json_extract_scalar(attributes, '$.arn') IS NOT NULL
       UNION ALL
       SELECT u.arn, 'no MFA device (ListMFADevices answered none)', i.evidence_key, i.evidence_record
       FROM inv i JOIN users u ON u.account = i.account AND u.name = i.name
       WHERE i.type = 'api:page' AND i.operation = 'ListMFADevices' AND json_extract_scalar(i.attributes, '$.error') IS NULL AND json_extract_scalar(i.attributes, '$.rows') = '0'
       UNION ALL
       SELECT u.arn, 'MFA device ' || i.id || coalesce(', enabled ' || i.created_at, ''), i.evidence_key, i.evidence_record
       FROM inv i JOIN users u ON u.account = i.account AND u.name = json_extract_scalar(i.attributes, '$.userName')
       WHERE i.type = 'iam:mfa-device'
       UNION ALL
       SELECT u.arn, 'access key ' || i.id || ' ' || coalesce(json_extract_scalar(i.attributes, '$.status'), 'of unknown status') || ', created ' || coalesce(i.created_at, '?') || coalesce(' (' || json_extract_scalar(i.attributes, '$.ageDays') || ' days old)', ''), i.evidence_key, i.evidence_record
       FROM inv i JOIN users u ON u.account = i.account AND u.name = json_extract_scalar(i.attributes, '$.userName')
       WHERE i.type = 'iam:access-key'
       UNION ALL
       SELECT u.arn, 'access key ' || i.id || CASE WHEN json_extract_scalar(i.attributes, '$.lastUsed') IS NULL THEN ' never used' ELSE ' last used ' || json_extract_scalar(i.attributes, '$.lastUsed') || coalesce(' (' || json_extract_scalar(i.attributes, '$.service') || ', ' || json_extract_scalar(i.attributes, '$.region') || ')', '') END, i.evidence_key, i.evidence_record
       FROM inv i JOIN users u ON u.account = i.account AND u.name = json_extract_scalar(i.attributes, '$.userName')
       WHERE i.type = 'iam:access-key-last-used'
       UNION ALL
       SELECT coalesce(u.arn, r.arn), CASE WHEN json_extract_scalar(i.attributes, '$.admin') = 'true' THEN 'ADMIN policy attached: ' ELSE 'policy attached: ' END || coalesce(i.name, i.id) || ' (' || i.id || ')', i.evidence_key, i.evidence_record
       FROM inv i
       LEFT JOIN users u ON json_extract_scalar(i.attributes, '$.principalType') = 'user' AND u.account = i.account AND u.name = json_extract_scalar(i.attributes, '$.principal')
       LEFT JOIN roles r ON json_extract_scalar(i.attributes, '$.principalType') = 'role' AND r.account = i.account AND r.name = json_extract_scalar(i.attributes, '$.principal')
       WHERE i.type = 'iam:attached-policy' AND coalesce(u.arn, r.arn) IS NOT NULL
       UNION ALL
       SELECT json_extract_scalar(attributes, '$.arn'),
         'IAM role' || CASE WHEN json_extract_scalar(attributes, '$.trustsAnyone') = 'true' THEN ' that ANYONE may assume (trust policy principal *)' ELSE '' END
           || CASE WHEN json_extract_scalar(attributes, '$.trustedAccounts[0]') IS NOT NULL
                THEN ', trusted accounts ' || replace(replace(replace(replace(CAST(json_extract(attributes, '$.trustedAccounts') AS VARCHAR), '[', ''), ']', ''), '"', ''), ',', ', ') ELSE '' END,
         evidence_key, evidence_record
       FROM inv WHERE type = 'iam:role' AND json_extract_scalar(attributes, '$.arn') IS NOT NULL
       UNION ALL
       SELECT CASE WHEN strpos(coalesce(name, id), '@') > 0 THEN lower(coalesce(name, id)) ELSE coalesce(name, id) END,
         type || ' ' || substr(attributes, 1, 200), evidence_key, evidence_record
       FROM inv WHERE cloud <> 'aws' AND regexp_like(type, '(user|service-principal|service-account|principal)$')
     )
     SELECT identity, fact, evidence_key, evidence_record FROM facts WHERE identity IS NOT NULL ORDER BY identity, evidence_key, evidence_record, fact`,
  );
  return rows.map((r) => ({ ...r, evidence_record: Number(r.evidence_record) }));
}

/** The inventory identities an activity actor may be: itself, and for an assumed-role session its role's ARN. */
export function inventoryIdentitiesOf(actor: string): string[] {
  const role = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(actor);
  return role ? [actor, `arn:${role[1]}:iam::${role[2]}:role/${role[3]}`] : [actor];
}
