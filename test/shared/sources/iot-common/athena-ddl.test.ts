import { describe, expect, it } from 'vitest';
import { derivedLocation } from '../../../../shared/sources/iot-common/athena-ddl.ts';
import { athenaIotApiDdl, iotApiSource } from '../../../../shared/sources/iot-api/index.ts';
import { athenaIotCoreDdl, athenaIotCoreFirehoseDdl, iotCoreSource } from '../../../../shared/sources/iot-core/index.ts';
import { athenaIotShadowDdl, iotShadowSource } from '../../../../shared/sources/iot-shadow/index.ts';
import { athenaMqttDdl, mqttSource } from '../../../../shared/sources/mqtt/index.ts';
import { unportableFunctions } from '../../../../shared/query/athena-compat.ts';
import { assertTrinoSql } from '../../../helpers/trino-sql.ts';

describe('Function: athena<Source>Ddl (derived copies)', () => {
  it.each([
    [iotCoreSource, athenaIotCoreDdl],
    [iotShadowSource, athenaIotShadowDdl],
    [iotApiSource, athenaIotApiDdl],
    [mqttSource, athenaMqttDdl],
  ] as const)('declares %s over its derived NDJSON copies with the same columns and Hive types', (source, ddl) => {
    // Prepare
    const location = derivedLocation('evidence-bucket', 'C-1', source.id);

    // Act
    const table = ddl({ location });

    // Assess
    expect(location).toBe(`s3://evidence-bucket/cases/C-1/_amber/derived/${source.id}/`);
    expect(table).toMatch(new RegExp(`^CREATE EXTERNAL TABLE ${source.table} \\(\\n`));
    const declared = [...table.matchAll(/^ {2}`([a-z_]+)` ([A-Z]+),?$/gm)].map((m) => [m[1], m[2]]);
    const hive: Record<string, string> = { VARCHAR: 'STRING', BIGINT: 'BIGINT', INTEGER: 'INT', DOUBLE: 'DOUBLE', BOOLEAN: 'BOOLEAN' };
    expect(declared).toEqual([...source.columns.map((c) => [c.name, hive[c.type]]), ['evidence_key', 'STRING'], ['evidence_record', 'INT']]);
    expect(table).toContain("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'");
    expect(table).toContain(`LOCATION '${location}'`);
    expect(table).not.toContain('PARTITIONED BY');
  });

  it('lists every problem with the options in one error', () => {
    expect(() => athenaMqttDdl({ location: "https://x/y'", tableName: 'bad-name' })).toThrow(/s3:\/\/ URI without quotes[\s\S]*end with \/[\s\S]*not a valid table name: bad-name/);
  });
});

describe('Function: athenaIotCoreFirehoseDdl', () => {
  const options = { location: 's3://logs-bucket/iot/AWSIotLogsV2/', startHour: '2026/01/01/00' };

  it('projects Firehose\'s hourly prefix as a date partition', () => {
    // Act
    const { table } = athenaIotCoreFirehoseDdl(options);

    // Assess
    expect(table).toMatch(/^CREATE EXTERNAL TABLE iot_core_files \(/);
    expect(table).toContain('PARTITIONED BY (`dt` STRING)');
    expect(table).toContain("'projection.dt.type'='date'");
    expect(table).toContain("'projection.dt.format'='yyyy/MM/dd/HH'");
    expect(table).toContain("'projection.dt.range'='2026/01/01/00,NOW'");
    expect(table).toContain("'projection.dt.interval.unit'='HOURS'");
    expect(table).toContain("'storage.location.template'='s3://logs-bucket/iot/AWSIotLogsV2/${dt}/'");
  });

  it('gives, in a Trino view, the same column names as the embedded table', () => {
    // Act
    const { view } = athenaIotCoreFirehoseDdl(options);

    // Assess
    assertTrinoSql(view);
    const names = [...view.matchAll(/ AS ([a-z_]+)(?=,|\n)/g)].map((m) => m[1]);
    for (const c of iotCoreSource.columns) expect(view, c.name).toMatch(new RegExp(`(AS ${c.name}\\b|[ \\n]${c.name},)`));
    expect(names).toContain('evidence_key');
    expect(view).toContain('CAST(NULL AS INTEGER) AS evidence_record');
  });

  it('refuses a bad location or start hour, naming both', () => {
    expect(() => athenaIotCoreFirehoseDdl({ location: 's3://b/p', startHour: '2026-01-01' })).toThrow(/end with \/, got s3:\/\/b\/p[\s\S]*startHour must be yyyy\/MM\/dd\/HH, got 2026-01-01/);
  });
});

describe('Timeline SQL of the IoT sources', () => {
  it.each([iotCoreSource, iotShadowSource, iotApiSource, mqttSource])('$id: is Trino SQL within the portable functions, reading only its table', (source) => {
    // Act / Assess
    assertTrinoSql(source.timelineSql);
    expect(unportableFunctions(source.timelineSql)).toEqual([]);
    const tables = [...source.timelineSql.matchAll(/\bFROM\s+([a-z_]+)/gi)].map((m) => m[1]);
    expect(new Set(tables)).toEqual(new Set([source.table]));
  });
});
