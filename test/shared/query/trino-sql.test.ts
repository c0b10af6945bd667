import { describe, expect, it } from 'vitest';
import { assertTrinoSql, trinoSyntaxErrors } from '../../helpers/trino-sql.ts';

describe('Helper: assertTrinoSql', () => {
  it('accepts a typical Athena detection query', () => {
    // Prepare
    const sql = `SELECT eventtime AS event_time, useridentity.arn AS actor, sourceipaddress AS source_ip,
  eventname AS action, json_extract_scalar(requestparameters, '$.bucketName') AS target,
  CAST(count(*) OVER (PARTITION BY useridentity.arn) AS VARCHAR) AS detail, evidence_key, evidence_record
FROM cloudtrail
CROSS JOIN UNNEST(split(useragent, ' ')) WITH ORDINALITY AS t(part, n)
WHERE from_iso8601_timestamp(eventtime) > current_timestamp - INTERVAL '7' DAY
  AND regexp_like(eventname, '^(Put|Delete)')
  AND "timestamp" >= '2024/03/01'
ORDER BY 1 DESC
LIMIT 100`;

    // Act / Assess
    expect(() => assertTrinoSql(sql)).not.toThrow();
  });

  it.each([
    ['SELECT * EXCLUDE', 'SELECT * EXCLUDE (requestparameters) FROM cloudtrail'],
    ['a :: cast', 'SELECT useridentity.arn::VARCHAR FROM cloudtrail'],
    ['QUALIFY', 'SELECT eventname FROM cloudtrail QUALIFY row_number() OVER (ORDER BY eventtime) = 1'],
    ['a list literal', "SELECT ['a', 'b'] AS l"],
    ['a struct literal', "SELECT {'a': 1} AS s"],
  ])('rejects DuckDB-only syntax: %s', (_label, sql) => {
    // Act
    const errors = trinoSyntaxErrors(sql);

    // Assess
    expect(errors.length).toBeGreaterThan(0);
    expect(() => assertTrinoSql(sql)).toThrow(/not valid Trino/);
  });
});
