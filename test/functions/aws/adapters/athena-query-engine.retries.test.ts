/**
 * Throttling and 5xx retries come from the SDK's retry middleware, which aws-sdk-client-mock bypasses: these
 * tests run the real Athena client (JSON protocol, signing, retry strategy) against a fake HTTP handler.
 */
import { describe, expect, it } from 'vitest';
import { AthenaQueryEngine } from '../../../../functions/aws/adapters/athena-query-engine.ts';
import { QueryError } from '../../../../shared/query/errors.ts';
import { FakeS3Http, TEST_CREDENTIALS, type FakeHttpAnswer, type SeenRequest } from '../../../helpers/s3.ts';

const json = (status: number, body: unknown, type?: string): FakeHttpAnswer => ({
  status,
  headers: { 'content-type': 'application/x-amz-json-1.1', ...(type ? { 'x-amzn-errortype': type } : {}) },
  body: JSON.stringify(body),
});

/** Athena by X-Amz-Target: StartQueryExecution answers `starts` in turn, the rest succeed at once. */
function athena(starts: FakeHttpAnswer[]): FakeS3Http {
  let i = 0;
  return new FakeS3Http((r: SeenRequest) => {
    const target = r.headers['x-amz-target'] ?? '';
    if (target.endsWith('StartQueryExecution')) return starts[Math.min(i++, starts.length - 1)]!;
    if (target.endsWith('GetQueryExecution')) return json(200, { QueryExecution: { QueryExecutionId: 'q-1', StatementType: 'DML', Status: { State: 'SUCCEEDED' } } });
    return json(200, { ResultSet: { ResultSetMetadata: { ColumnInfo: [{ Name: 'n', Type: 'integer' }] }, Rows: [{ Data: [{ VarCharValue: 'n' }] }, { Data: [{ VarCharValue: '1' }] }] } });
  });
}

function engine(http: FakeS3Http, maxAttempts: number): AthenaQueryEngine {
  return new AthenaQueryEngine({ workgroup: 'amber', database: 'amber', clientConfig: { region: 'eu-west-1', credentials: TEST_CREDENTIALS, requestHandler: http, maxAttempts, retryBaseDelayMs: 1 }, sleep: async () => undefined });
}

const starts = (http: FakeS3Http): number => http.seen.filter((r) => r.headers['x-amz-target']?.endsWith('StartQueryExecution')).length;

describe('Class: AthenaQueryEngine', () => {
  describe('Method: query (retries)', () => {
    it('retries a ThrottlingException on StartQueryExecution', async () => {
      // Prepare
      const http = athena([json(400, { __type: 'ThrottlingException', message: 'Rate exceeded' }, 'ThrottlingException'), json(200, { QueryExecutionId: 'q-1' })]);

      // Act
      const rows = await engine(http, 3).query('SELECT 1 AS n');

      // Assess
      expect(rows).toEqual([{ n: 1 }]);
      expect(starts(http)).toBe(2);
    });

    it('retries a 5xx', async () => {
      // Prepare
      const http = athena([json(500, { __type: 'InternalServerException', message: 'boom' }, 'InternalServerException'), json(200, { QueryExecutionId: 'q-1' })]);

      // Act / Assess
      expect(await engine(http, 3).query('SELECT 1 AS n')).toEqual([{ n: 1 }]);
      expect(starts(http)).toBe(2);
    });

    it('throws QueryError with the attempts when throttling outlives the retries', async () => {
      // Prepare
      const http = athena([json(400, { __type: 'TooManyRequestsException', message: 'slow down' }, 'TooManyRequestsException')]);

      // Act
      const querying = engine(http, 3).query('SELECT 1 AS n');

      // Assess
      await expect(querying).rejects.toThrow(QueryError);
      await expect(querying).rejects.toThrow(/cannot start an Athena query in workgroup amber: TooManyRequestsException/);
      expect(starts(http)).toBe(3);
    });
  });
});
