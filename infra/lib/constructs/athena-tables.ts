/**
 * Athena over CloudTrail: a Glue database with two documented-shape CloudTrail tables under partition projection,
 * each behind a view so detection SQL reads `cloudtrail` unchanged, an Athena workgroup that enforces an
 * encrypted result location and a bytes-scanned cutoff, and named queries generated from the detection catalogue.
 *
 * Projection design:
 * - `cloudtrail` (view over `cloudtrail_files`): the live trail bucket, `AWSLogs/[<org-id>/]<account>/CloudTrail/
 *   <region>/<yyyy>/<MM>/<dd>/` — account and region as enums, day as a date range to NOW. The scheduled
 *   detections query it; their window predicate on `timestamp` prunes every other day.
 * - `evidence_cloudtrail` (view over `evidence_cloudtrail_files`): preserved CloudTrail in the evidence bucket,
 *   `cases/<case>/<source key>` — the same three partitions plus `case_name`, an *injected* partition: case
 *   names are unbounded and unknown at deploy time (an enum would need a redeploy per case), and a query about
 *   evidence is always about a case, so Athena requires `case_name = '...'` (or IN) and reads only that case.
 *   `storage.location.template` places `${case_name}` in front of the trail's own layout.
 * - Every other registered source (VPC flow logs, S3 access logs, Azure, Entra ID, Microsoft 365, GCP, IoT, MQTT,
 *   inventory): one table named like the source's table over the Parquet derive-object writes as each object is
 *   preserved, `cases/<case>/_amber/derived/parquet/<table>/<yyyy>/<MM>/<dd>/` (see ../athena-sources.ts), and
 *   `cloudtrail_derived` over CloudTrail's, whose rows carry the exact evidence_record the raw table cannot give.
 *   Partitions: the injected `case_name`, and `day` projected as a date (yyyy/MM/dd) so a windowed run reads only
 *   its days. Their detections are scheduled too, per case (see shared/detections/scheduled-run.ts).
 */
import { Duration, Fn, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import { Construct, type IConstruct } from 'constructs';
import { acknowledgeWildcardResources } from '../nag.ts';
import { windowedSql, type Detection } from '../../../shared/detections/catalogue.ts';
import { AWS_COMMERCIAL_REGIONS } from '../../../shared/query/tables/cloudtrail.ts';
import { cloudTrailRecordColumns, cloudTrailViewColumns, cloudTrailViewSql, prestoViewText, type GlueColumn } from '../athena-cloudtrail.ts';
import { SECURE_BUCKET_DEFAULTS } from '../defaults.ts';
import { PARQUET_STORAGE, sourceGlueTables, type SourceGlueTable } from '../athena-sources.ts';

export interface AthenaTablesProps {
  /** Detections whose SQL becomes named queries. */
  readonly detections: readonly Detection[];
  /** Bucket holding preserved evidence (`cases/<case>/...`). */
  readonly evidenceBucket: s3.IBucket;
  /** Key that encrypts query results. */
  readonly key: kms.IKey;
  /** Bucket receiving the results bucket's access logs. */
  readonly accessLogsBucket: s3.IBucket;
  /** The trail's bucket. */
  readonly trailBucket: string;
  /** The trail's key prefix (no slashes at the ends), empty for none. */
  readonly trailPrefix: string;
  /** Organisation id of an organisation trail. @default - an account trail */
  readonly organizationId?: string;
  /** Accounts projected into `account`. */
  readonly accounts: readonly string[];
  /** Regions projected into `region`. @default every commercial region */
  readonly regions?: readonly string[];
  /** First projected day, yyyy/MM/dd. */
  readonly projectionStartDate: string;
  /** Athena's per-query bytes-scanned cutoff. */
  readonly bytesScannedCutoff: number;
  /** @default 'amber' */
  readonly databaseName?: string;
  /** @default 'amber' */
  readonly workGroupName?: string;
}

/** The logical table the catalogue queries, and the views Athena exposes it as. */
const TRAIL_VIEW = 'cloudtrail';
const SOURCE_TABLES: readonly SourceGlueTable[] = sourceGlueTables();
/** Tables (detection.yml `table:`) this deployment defines in Athena: CloudTrail and every registered source's. */
export const ATHENA_TABLES: readonly string[] = [TRAIL_VIEW, ...SOURCE_TABLES.map((t) => t.name)];
/**
 * Tables whose detections run on a schedule: all of them. `cloudtrail` over the trail as delivered, and every table
 * (CloudTrail's derived Parquet included) over the cases that hold rows in the window (scheduled-run.ts).
 */
export const SCHEDULED_TABLES: readonly string[] = ATHENA_TABLES;
/** Why a detection is not scheduled, or undefined when it is. */
export function notScheduledReason(table: string): string | undefined {
  if (SCHEDULED_TABLES.includes(table)) return undefined;
  return 'no Athena table in this deployment (embedded engine only)';
}
/** The Glue table over CloudTrail's derived Parquet (the `cloudtrail` shape, with evidence_record). */
export const CLOUDTRAIL_DERIVED_TABLE = 'cloudtrail_derived';
/** The date partition of every derived Parquet table (`yyyy/MM/dd`, the rows' event day). */
export const DERIVED_DAY_COLUMN = 'day';
const EVIDENCE_VIEW = 'evidence_cloudtrail';
const CASE_COLUMN = 'case_name';

/** Glue database, CloudTrail tables and views, workgroup, results bucket and named queries. */
export class AthenaTables extends Construct {
  readonly databaseName: string;
  readonly workGroupName: string;
  readonly resultsBucket: s3.Bucket;
  readonly workGroup: athena.CfnWorkGroup;
  /** Names of the tables and views, in the database. */
  readonly tables: { readonly trail: string; readonly trailView: string; readonly evidence: string; readonly evidenceView: string };
  /** The S3 location of the trail the `cloudtrail` table reads (`s3://bucket/prefix/AWSLogs/[org/]`). */
  readonly trailLocation: string;
  readonly namedQueries: athena.CfnNamedQuery[] = [];
  /** The Glue tables of the other sources, by table name. */
  readonly sourceTables: ReadonlyMap<string, glue.CfnTable>;

  constructor(scope: Construct, id: string, props: AthenaTablesProps) {
    super(scope, id);
    // Access-log delivery through a bucket policy, not ACLs (buckets here have ACLs disabled), whatever the app's flags.
    this.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const stack = Stack.of(this);
    this.databaseName = props.databaseName ?? 'amber';
    this.workGroupName = props.workGroupName ?? 'amber';
    this.tables = { trail: 'cloudtrail_files', trailView: TRAIL_VIEW, evidence: 'evidence_cloudtrail_files', evidenceView: EVIDENCE_VIEW };

    const unknownTables = [...new Set(props.detections.map((d) => d.table))].filter((t) => !ATHENA_TABLES.includes(t));
    if (unknownTables.length > 0) {
      throw new Error(`AthenaTables: detections read table(s) ${unknownTables.join(', ')}, but the Athena deployment defines only ${ATHENA_TABLES.join(', ')}; add the table here first`);
    }

    this.resultsBucket = new s3.Bucket(this, 'Results', {
      ...SECURE_BUCKET_DEFAULTS,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [
        {
          id: 'expire-query-results',
          // Query results are working copies; findings are written to the evidence bucket.
          expiration: Duration.days(30),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });

    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: { name: this.databaseName, description: 'Amber: CloudTrail from the trail and from preserved evidence, and the other sources\' rows derived from preserved evidence' },
    });

    const prefix = props.trailPrefix ? `${props.trailPrefix}/` : '';
    const org = props.organizationId ? `${props.organizationId}/` : '';
    const layout = `${prefix}AWSLogs/${org}`;
    this.trailLocation = `s3://${props.trailBucket}/${layout}`;
    const regions = props.regions && props.regions.length > 0 ? props.regions : AWS_COMMERCIAL_REGIONS;
    const projection = {
      'projection.enabled': 'true',
      'projection.account.type': 'enum',
      'projection.account.values': Fn.join(',', [...props.accounts]),
      'projection.region.type': 'enum',
      'projection.region.values': regions.join(','),
      'projection.timestamp.type': 'date',
      'projection.timestamp.format': 'yyyy/MM/dd',
      'projection.timestamp.range': `${props.projectionStartDate},NOW`,
      'projection.timestamp.interval': '1',
      'projection.timestamp.interval.unit': 'DAYS',
    };
    const partitions: GlueColumn[] = [
      { name: 'account', type: 'string' },
      { name: 'region', type: 'string' },
      { name: 'timestamp', type: 'string' },
    ];
    const evidenceCases = `s3://${props.evidenceBucket.bucketName}/cases/`;

    const trailTable = this.externalTable('TrailTable', this.tables.trail, 'CloudTrail as the trail delivers it (scheduled detections)', this.trailLocation, partitions, {
      ...projection,
      'storage.location.template': `${this.trailLocation}\${account}/CloudTrail/\${region}/\${timestamp}`,
    });
    const evidenceTable = this.externalTable(
      'EvidenceTable',
      this.tables.evidence,
      'CloudTrail preserved in the evidence bucket under cases/<case>/ with its source key (query with case_name = ...)',
      evidenceCases,
      [{ name: CASE_COLUMN, type: 'string' }, ...partitions],
      {
        ...projection,
        [`projection.${CASE_COLUMN}.type`]: 'injected',
        'storage.location.template': `${evidenceCases}\${${CASE_COLUMN}}/${layout}\${account}/CloudTrail/\${region}/\${timestamp}`,
      },
    );
    for (const table of [trailTable, evidenceTable]) table.addResourceDependency(database);

    const trailView = this.view('TrailView', TRAIL_VIEW, this.tables.trail, [], 'The cloudtrail table the detection catalogue queries (trail)');
    const evidenceView = this.view('EvidenceView', EVIDENCE_VIEW, this.tables.evidence, [CASE_COLUMN], 'The cloudtrail table over preserved evidence; WHERE case_name = ... is required');
    trailView.addResourceDependency(trailTable);
    evidenceView.addResourceDependency(evidenceTable);

    const sourceTables = new Map<string, glue.CfnTable>();
    for (const t of SOURCE_TABLES) {
      const table = this.derivedTable(`SourceTable-${t.source.id}`, t.name, `${t.source.title}: Amber's derived rows of preserved evidence, Parquet, cases/<case>/${t.derivedFolder}<yyyy>/<MM>/<dd>/ (query with case_name = ...)`, t.derivedFolder, t.columns, evidenceCases, props.projectionStartDate);
      table.addResourceDependency(database);
      sourceTables.set(t.name, table);
    }
    // The embedded engine's cloudtrail columns, which the derived Parquet holds (account, region, timestamp are data).
    const cloudTrailColumns = cloudTrailViewColumns();
    const derivedTrail = this.derivedTable(
      'CloudTrailDerivedTable',
      CLOUDTRAIL_DERIVED_TABLE,
      'CloudTrail of preserved evidence as Amber derived it, Parquet, one row per record with its evidence_record (query with case_name = ...)',
      `_amber/derived/parquet/cloudtrail/`,
      cloudTrailColumns,
      evidenceCases,
      props.projectionStartDate,
    );
    derivedTrail.addResourceDependency(database);
    sourceTables.set(CLOUDTRAIL_DERIVED_TABLE, derivedTrail);
    this.sourceTables = sourceTables;

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'Amber detections: encrypted results, enforced settings, bytes-scanned cutoff',
      state: 'ENABLED',
      recursiveDeleteOption: false,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoff,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.key.keyArn },
          expectedBucketOwner: stack.account,
        },
      },
    });

    // The catalogue's SQL, unchanged, under a CTE named like its table (windowedSql); the `?` are Athena
    // execution parameters the console asks for: the days to scan, or the case.
    for (const d of props.detections) {
      const queries: athena.CfnNamedQuery[] = [];
      if (d.table === TRAIL_VIEW) {
        queries.push(
          new athena.CfnNamedQuery(this, `Query-${d.id}`, {
            name: `amber-${d.id}`,
            description: `${d.title} (${d.severity}) over the trail; parameters: first and last day, yyyy/MM/dd`.slice(0, 1024),
            database: this.databaseName,
            workGroup: this.workGroup.ref,
            queryString: windowedSql(d.sql, d.table, `(SELECT * FROM "${this.databaseName}"."${TRAIL_VIEW}" WHERE "timestamp" BETWEEN ? AND ?)`),
          }),
        );
      }
      // Over a case: the CloudTrail evidence view for `cloudtrail`, else the source's own table (same name).
      const caseTable = d.table === TRAIL_VIEW ? EVIDENCE_VIEW : d.table;
      const caseQuery = new athena.CfnNamedQuery(this, `CaseQuery-${d.id}`, {
        name: `amber-case-${d.id}`,
        description: `${d.title} (${d.severity}) over one case's preserved ${d.table === TRAIL_VIEW ? 'CloudTrail' : d.table}; parameter: the case name`.slice(0, 1024),
        database: this.databaseName,
        workGroup: this.workGroup.ref,
        queryString: windowedSql(d.sql, d.table, `(SELECT * FROM "${this.databaseName}"."${caseTable}" WHERE ${CASE_COLUMN} = ?)`),
      });
      queries.push(caseQuery);
      const sourceTable = sourceTables.get(d.table);
      for (const q of queries) {
        q.addResourceDependency(database);
        if (sourceTable) q.addResourceDependency(sourceTable);
        this.namedQueries.push(q);
      }
    }
  }

  /**
   * A table over derived Parquet in every case: `cases/${case_name}/<folder>${day}/`, the case injected, the day a
   * projected date from the first projected day to now.
   */
  private derivedTable(id: string, name: string, description: string, folder: string, columns: readonly GlueColumn[], evidenceCases: string, startDate: string): glue.CfnTable {
    for (const reserved of [CASE_COLUMN, DERIVED_DAY_COLUMN]) {
      if (columns.some((c) => c.name === reserved)) throw new Error(`AthenaTables: ${name} has a column ${reserved}, a partition's name; rename the column`);
    }
    return new glue.CfnTable(this, id, {
      catalogId: Stack.of(this).account,
      databaseName: this.databaseName,
      tableInput: {
        name,
        description: description.slice(0, 2048),
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          EXTERNAL: 'TRUE',
          classification: 'parquet',
          'projection.enabled': 'true',
          [`projection.${CASE_COLUMN}.type`]: 'injected',
          [`projection.${DERIVED_DAY_COLUMN}.type`]: 'date',
          [`projection.${DERIVED_DAY_COLUMN}.format`]: 'yyyy/MM/dd',
          [`projection.${DERIVED_DAY_COLUMN}.range`]: `${startDate},NOW`,
          [`projection.${DERIVED_DAY_COLUMN}.interval`]: '1',
          [`projection.${DERIVED_DAY_COLUMN}.interval.unit`]: 'DAYS',
          'storage.location.template': `${evidenceCases}\${${CASE_COLUMN}}/${folder}\${${DERIVED_DAY_COLUMN}}/`,
        },
        partitionKeys: [
          { name: CASE_COLUMN, type: 'string' },
          { name: DERIVED_DAY_COLUMN, type: 'string' },
        ],
        storageDescriptor: {
          columns: [...columns],
          location: evidenceCases,
          inputFormat: PARQUET_STORAGE.inputFormat,
          outputFormat: PARQUET_STORAGE.outputFormat,
          serdeInfo: { serializationLibrary: PARQUET_STORAGE.serde, parameters: { 'serialization.format': '1' } },
        },
      },
    });
  }

  private externalTable(id: string, name: string, description: string, location: string, partitionKeys: GlueColumn[], parameters: Record<string, string>): glue.CfnTable {
    const stack = Stack.of(this);
    return new glue.CfnTable(this, id, {
      catalogId: stack.account,
      databaseName: this.databaseName,
      tableInput: {
        name,
        description,
        tableType: 'EXTERNAL_TABLE',
        parameters: { EXTERNAL: 'TRUE', classification: 'cloudtrail', ...parameters },
        partitionKeys,
        storageDescriptor: {
          columns: cloudTrailRecordColumns(),
          location,
          inputFormat: 'com.amazon.emr.cloudtrail.CloudTrailInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hive.hcatalog.data.JsonSerDe' },
        },
      },
    });
  }

  private view(id: string, name: string, table: string, extraColumns: readonly string[], description: string): glue.CfnTable {
    const columns = cloudTrailViewColumns(extraColumns);
    return new glue.CfnTable(this, id, {
      catalogId: Stack.of(this).account,
      databaseName: this.databaseName,
      tableInput: {
        name,
        description,
        tableType: 'VIRTUAL_VIEW',
        parameters: { presto_view: 'true', comment: 'Presto View' },
        viewOriginalText: prestoViewText(cloudTrailViewSql(table, extraColumns), this.databaseName, columns),
        viewExpandedText: '/* Presto View */',
        storageDescriptor: { columns, serdeInfo: {} },
      },
    });
  }

  /** Glue and Athena permissions to run queries in this workgroup over these tables, with results in the results bucket. */
  grantQuery(grantee: iam.IGrantable & IConstruct, key: kms.IKey): void {
    const stack = Stack.of(this);
    const p = grantee.grantPrincipal;
    const statement = (actions: string[], resources: string[], conditions?: Record<string, Record<string, string>>): void => {
      p.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, ...(conditions ? { conditions } : {}) }));
    };
    statement(
      ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup'],
      [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workGroupName })],
    );
    statement(
      ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
      [
        stack.formatArn({ service: 'glue', resource: 'catalog' }),
        stack.formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName }),
        ...[...Object.values(this.tables), ...this.sourceTables.keys()].map((t) => stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${t}` })),
      ],
    );
    statement(['s3:GetBucketLocation', 's3:ListBucket'], [this.resultsBucket.bucketArn]);
    statement(['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], [this.resultsBucket.arnForObjects('results/*')]);
    acknowledgeWildcardResources(grantee, [this.resultsBucket.arnForObjects('results/*')], 'Athena names each result object after its query id; access is limited to the workgroup\'s result prefix in the results bucket.');
    statement(['kms:GenerateDataKey', 'kms:Decrypt'], [key.keyArn], { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } });
  }
}
