/**
 * The demo incident beyond CloudTrail: the same day (2026-11-20, UTC) in VPC Flow Logs, Microsoft Entra ID,
 * Microsoft 365 and Google Cloud, for alice@corp.example, whose identity the timeline correlates.
 *
 *  02:40  the web instance (10.0.1.25), whose role credentials were stolen, starts calling 203.0.113.66:443
 *         every five minutes, with near-constant sizes, for the rest of the day: a beacon
 *  03:00  the same instance sends 1.6 GB to 198.51.100.23 in half an hour (the bucket exfiltration's egress)
 *
 *  01:20  alice signs in to Entra ID from London with MFA (her usual pattern); works in mail until 02:10
 *  02:00  alice's account signs in from Sydney, single factor, high risk: impossible travel from London
 *  02:04  from Sydney, a mail rule forwards alice's mail to an outside address, while alice keeps working
 *         from London (one identity active from two places at once)
 *  02:20  from Sydney, alice's Google identity grants roles/owner on the production project to an outsider
 *  04:30  on the factory's MQTT broker, an unknown client connects from the attacker's address over
 *         plaintext port 1883 and subscribes to every topic (`#`), among the fleet's TLS sensors
 *
 * Geolocation needs real public addresses (documentation ranges have no location): 81.2.69.160 and 1.1.1.1
 * are widely used in geolocation examples and sit in London and Sydney in the DB-IP database. Nothing here
 * says anything about their real owners.
 */
import { gzipSync } from 'node:zlib';
import type { IncidentFile } from './incident.ts';

const DAY = '2026-11-20';
const TENANT = '7f6e5d4c-3b2a-4190-8877-665544332211';
const LONDON = '81.2.69.160';
const SYDNEY = '1.1.1.1';
const ALICE = 'alice@corp.example';
const text = (s: string): Buffer => Buffer.from(s, 'utf8');

function signIn(n: number, time: string, user: string, ip: string, risk: 'none' | 'high', mfa: boolean): Record<string, unknown> {
  const id = `5e0a0000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  return {
    time: `${DAY}T${time}.0000000Z`,
    resourceId: `/tenants/${TENANT}/providers/Microsoft.aadiam`,
    operationName: 'Sign-in activity',
    operationVersion: '1.0',
    category: 'SignInLogs',
    tenantId: TENANT,
    resultType: '0',
    resultSignature: 'None',
    durationMs: 0,
    callerIpAddress: ip,
    correlationId: id,
    identity: user,
    Level: 4,
    location: ip === SYDNEY ? 'AU' : 'GB',
    properties: {
      id,
      createdDateTime: `${DAY}T${time}.0000000Z`,
      userDisplayName: user.split('@')[0],
      userPrincipalName: user,
      userId: `0a0a0a0a-0000-4000-8000-${String(user.length).padStart(12, '0')}`,
      appId: '4765445b-32c6-49b0-83e6-1d93765276ca',
      appDisplayName: 'OfficeHome',
      ipAddress: ip,
      clientAppUsed: 'Browser',
      correlationId: id,
      conditionalAccessStatus: 'notApplied',
      isInteractive: true,
      authenticationRequirement: mfa ? 'multiFactorAuthentication' : 'singleFactorAuthentication',
      riskDetail: 'none',
      riskLevelAggregated: risk,
      riskLevelDuringSignIn: risk,
      riskState: risk === 'none' ? 'none' : 'atRisk',
      riskEventTypes_v2: risk === 'none' ? [] : ['unfamiliarFeatures'],
      resourceDisplayName: 'Office 365 Exchange Online',
      status: { errorCode: 0 },
      userAgent: ip === SYDNEY ? 'Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0' : 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 Safari/605.1.15',
      location: ip === SYDNEY ? { city: 'Sydney', countryOrRegion: 'AU' } : { city: 'London', countryOrRegion: 'GB' },
    },
  };
}

function mail(n: number, time: string, operation: string, ip: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    CreationTime: `${DAY}T${time}`,
    Id: `aa00${String(n).padStart(4, '0')}-0000-4000-8000-000000000000`,
    Operation: operation,
    OrganizationId: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
    RecordType: operation === 'MailItemsAccessed' ? 50 : 1,
    ResultStatus: 'Succeeded',
    UserKey: '1003200000000001',
    UserType: 0,
    Version: 1,
    Workload: 'Exchange',
    ClientIP: ip,
    UserId: ALICE,
    ...extra,
  };
}

const FLOW_HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status flow-direction';

/** VPC flow log records of the web instance's interface, one gzipped delivery file per hour. */
function flowLogs(): IncidentFile[] {
  let seed = 20261120;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const day = Date.parse(`${DAY}T00:00:00Z`) / 1000;
  const lines: Array<[number, string]> = [];
  const flow = (t: number, src: string, dst: string, sport: number, dport: number, packets: number, bytes: number, dir: string): void => {
    lines.push([t, `5 111122223333 eni-0a1b2c3d4e5f60718 ${src} ${dst} ${sport} ${dport} 6 ${packets} ${bytes} ${t} ${t + 30} ACCEPT OK ${dir}`]);
  };
  // Benign: the web tier talks to its database all day, and to an update mirror now and then.
  for (let t = day; t < day + 86_400; t += 600) {
    flow(t + Math.floor(rand() * 300), '10.0.1.25', '10.0.2.40', 40000 + Math.floor(rand() * 20000), 5432, 20 + Math.floor(rand() * 80), 4000 + Math.floor(rand() * 60000), 'egress');
  }
  for (let h = 0; h < 24; h += 6) flow(day + h * 3600 + 1200, '10.0.1.25', '192.0.2.80', 45000 + h, 443, 900, 1_200_000, 'egress');
  // The beacon: every 300 s (+-3 s), about 480 bytes, from 02:40 to the end of the day.
  for (let t = day + 2 * 3600 + 40 * 60; t < day + 86_400; t += 300) {
    flow(t + Math.floor(rand() * 7) - 3, '10.0.1.25', '203.0.113.66', 50000 + Math.floor(rand() * 10000), 443, 4, 476 + Math.floor(rand() * 9), 'egress');
  }
  // The exfiltration: four 400 MiB transfers between 03:00 and 03:30.
  for (let i = 0; i < 4; i++) flow(day + 3 * 3600 + i * 600, '10.0.1.25', '198.51.100.23', 51000 + i, 443, 299_594, 419_430_400, 'egress');
  lines.sort((a, b) => a[0] - b[0]);
  const files: IncidentFile[] = [];
  for (let h = 0; h < 24; h++) {
    const hour = lines.filter(([t]) => t >= day + h * 3600 && t < day + (h + 1) * 3600).map(([, l]) => l);
    if (hour.length === 0) continue;
    const hh = String(h).padStart(2, '0');
    files.push({
      path: `AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/20/111122223333_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261120T${hh}55Z_${(h * 7919 + 31).toString(16).padStart(8, '0')}.log.gz`,
      bytes: gzipSync(`${FLOW_HEADER}\n${hour.join('\n')}\n`),
      records: hour.length,
    });
  }
  return files;
}

/** Mosquitto's log for the day: twelve sensors on TLS all day, and the intruder at 04:30. */
function mqttLog(): IncidentFile {
  const day = Date.parse(`${DAY}T00:00:00Z`) / 1000;
  const lines: Array<[number, string]> = [
    [day, 'mosquitto version 2.0.18 starting'],
    [day, 'Opening ipv4 listen socket on port 1883.'],
    [day, 'Opening ipv4 listen socket on port 8883.'],
  ];
  for (let i = 1; i <= 12; i++) {
    const id = `sensor-${String(i).padStart(2, '0')}`;
    const ip = `10.0.5.${10 + i}`;
    for (let h = 0; h < 24; h += 4) {
      const t = day + h * 3600 + i * 37;
      lines.push(
        [t, `New connection from ${ip}:${40000 + i * 10 + h} on port 8883.`],
        [t, `New client connected from ${ip}:${40000 + i * 10 + h} as ${id} (p2, c1, k60, u'fleet').`],
        [t + 1, `Received PUBLISH from ${id} (d0, q1, r0, m1, 'factory/line1/${id}/telemetry', ... (48 bytes))`],
        [t + 3000, `Client ${id} disconnected.`],
      );
    }
  }
  const t = day + 4 * 3600 + 30 * 60;
  lines.push(
    [t, 'New connection from 203.0.113.66:51234 on port 1883.'],
    [t, "New client connected from 203.0.113.66:51234 as mosq-Zk3pQ9 (p2, c1, k60, u'guest')."],
    [t + 2, 'Received SUBSCRIBE from mosq-Zk3pQ9'],
    [t + 2, '\t# (QoS 0)'],
    [t + 2, 'mosq-Zk3pQ9 0 #'],
    [t + 900, 'Client mosq-Zk3pQ9 disconnected.'],
  );
  lines.sort((a, b) => a[0] - b[0]);
  const body = `${lines.map(([ts, l]) => `${ts}: ${l}`).join('\n')}\n`;
  return { path: `iot/mosquitto/${DAY}.log`, bytes: text(body), records: lines.length };
}

/** VPC flow logs, Entra ID sign-ins, Microsoft 365 audit records and GCP audit entries of the demo, as exported. */
export function generateMultiCloud(): IncidentFile[] {
  const signIns = [
    signIn(1, '01:20:00', ALICE, LONDON, 'none', true),
    signIn(2, '01:45:00', 'bob@corp.example', LONDON, 'none', true),
    signIn(3, '02:00:00', ALICE, SYDNEY, 'high', false),
  ];
  const mailbox = [
    ...['02:01:00', '02:06:00', '02:09:00'].map((t, i) => mail(10 + i, t, 'MailItemsAccessed', LONDON, { LogonType: 0, MailAccessType: 'Bind' })),
    mail(20, '02:03:00', 'MailItemsAccessed', SYDNEY, { LogonType: 0, MailAccessType: 'Bind' }),
    mail(21, '02:04:00', 'New-InboxRule', SYDNEY, {
      ObjectId: 'alice\\sync',
      Parameters: [
        { Name: 'Mailbox', Value: 'alice' },
        { Name: 'Name', Value: 'sync' },
        { Name: 'ForwardTo', Value: 'archive-7@mailbox.evil.example' },
        { Name: 'StopProcessingRules', Value: 'True' },
      ],
    }),
  ];
  const gcp = [
    {
      protoPayload: {
        '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
        status: {},
        authenticationInfo: { principalEmail: ALICE },
        requestMetadata: { callerIp: SYDNEY, callerSuppliedUserAgent: 'google-cloud-sdk gcloud/470.0.0 command/gcloud.projects.add-iam-policy-binding' },
        serviceName: 'cloudresourcemanager.googleapis.com',
        methodName: 'SetIamPolicy',
        resourceName: 'projects/corp-prod',
        request: { '@type': 'type.googleapis.com/google.iam.v1.SetIamPolicyRequest', resource: 'projects/corp-prod', policy: { bindings: [{ role: 'roles/owner', members: ['user:backup-ops@evil.example', `user:${ALICE}`] }] } },
        serviceData: { '@type': 'type.googleapis.com/google.iam.v1.logging.AuditData', policyDelta: { bindingDeltas: [{ action: 'ADD', role: 'roles/owner', member: 'user:backup-ops@evil.example' }] } },
      },
      insertId: 'demo0001',
      resource: { type: 'project', labels: { project_id: 'corp-prod' } },
      timestamp: `${DAY}T02:20:00.000000Z`,
      severity: 'NOTICE',
      logName: 'projects/corp-prod/logs/cloudaudit.googleapis.com%2Factivity',
      receiveTimestamp: `${DAY}T02:20:01.000000Z`,
    },
  ];
  return [
    ...flowLogs(),
    { path: `azure/entra/SignInLogs/${DAY}.json`, bytes: text(JSON.stringify({ records: signIns }, null, 1)), records: signIns.length },
    { path: `m365/audit/Audit.Exchange/${DAY}.json`, bytes: text(JSON.stringify(mailbox, null, 1)), records: mailbox.length },
    { path: `gcp/cloudaudit/activity/${DAY}.jsonl`, bytes: text(`${gcp.map((e) => JSON.stringify(e)).join('\n')}\n`), records: gcp.length },
    mqttLog(),
  ];
}
