/**
 * The BigQuery QueryEngine against jobs.insert / jobs.getQueryResults answered at the HTTP layer with the
 * documented bigquery/v2 shapes (Job, GetQueryResultsResponse with schema, rows of {f: [{v}]}, pageToken).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BigQueryQueryEngine } from '../../../functions/gcp/adapters/bigquery-query-engine.ts';
import { GoogleRest } from '../../../functions/gcp/adapters/google-rest.ts';
import { QueryError } from '../../../shared/query/errors.ts';
import nock from '../../helpers/nock.ts';

const rest = new GoogleRest({ token: async () => 'test-token', sleep: async () => {} });
const engine = (): BigQueryQueryEngine => new BigQueryQueryEngine({ project: 'amber-evidence', dataset: 'amber', location: 'EU', rest, now: () => 0 });
const schema = { fields: [
  { name: 'event_time', type: 'STRING', mode: 'NULLABLE' },
  { name: 'evidence_record', type: 'INTEGER', mode: 'NULLABLE' },
  { name: 'seen', type: 'TIMESTAMP', mode: 'NULLABLE' },
  { name: 'public', type: 'BOOLEAN', mode: 'NULLABLE' },
  { name: 'members', type: 'STRING', mode: 'REPEATED' },
  { name: 'who', type: 'RECORD', mode: 'NULLABLE', fields: [{ name: 'email', type: 'STRING' }] },
] };

describe('Class: BigQueryQueryEngine', () => {
  beforeAll(() => {
    nock.disableNetConnect();
  });

  afterEach(() => {
    nock.cleanAll();
  });

  it('inserts a Standard SQL job, waits through BigQuery, reads every page and converts values by type', async () => {
    // Prepare
    const inserted: Record<string, unknown>[] = [];
    const scope = nock('https://bigquery.googleapis.com');
    scope.post('/bigquery/v2/projects/amber-evidence/jobs').reply((async (req: Request) => {
      const body = JSON.parse(await req.text()) as Record<string, unknown>;
      inserted.push(body);
      return [200, { kind: 'bigquery#job', jobReference: body.jobReference, status: { state: 'RUNNING' } }];
    }) as never);
    scope.get(/\/bigquery\/v2\/projects\/amber-evidence\/queries\/amber_[0-9a-f]{32}/).reply(200, { kind: 'bigquery#getQueryResultsResponse', jobComplete: false, jobReference: { jobId: 'x' } });
    scope.get(/\/queries\/amber_[0-9a-f]{32}\?(?!.*pageToken)/).reply(200, {
      kind: 'bigquery#getQueryResultsResponse', jobComplete: true, schema, totalRows: '2', pageToken: 'p2',
      rows: [{ f: [{ v: '2026-03-14T10:00:00Z' }, { v: '3' }, { v: '1.773482400123456E9' }, { v: 'true' }, { v: [{ v: 'allUsers' }] }, { v: { f: [{ v: 'a@example.com' }] } }] }],
    });
    scope.get(/pageToken=p2/).reply(200, {
      kind: 'bigquery#getQueryResultsResponse', jobComplete: true, schema, totalRows: '2',
      rows: [{ f: [{ v: null }, { v: '9007199254740993' }, { v: null }, { v: 'false' }, { v: [] }, { v: null }] }],
    });

    // Act
    const rows = await engine().query('SELECT 1 FROM gcp_audit WHERE method_name = ?', ['SetIamPolicy']);

    // Assess
    const config = (inserted[0]?.configuration as { query: Record<string, unknown> }).query;
    expect(config).toMatchObject({ useLegacySql: false, defaultDataset: { projectId: 'amber-evidence', datasetId: 'amber' }, parameterMode: 'POSITIONAL', queryParameters: [{ parameterType: { type: 'STRING' }, parameterValue: { value: 'SetIamPolicy' } }] });
    expect(rows).toEqual([
      { event_time: '2026-03-14T10:00:00Z', evidence_record: 3, seen: '2026-03-14T10:00:00.123456Z', public: true, members: ['allUsers'], who: { email: 'a@example.com' } },
      { event_time: null, evidence_record: '9007199254740993', seen: null, public: false, members: [], who: null },
    ]);
  });

  it('throws QueryError with BigQuery\'s message when the job fails', async () => {
    // Prepare
    const scope = nock('https://bigquery.googleapis.com');
    scope.post('/bigquery/v2/projects/amber-evidence/jobs').reply(400, { error: { code: 400, status: 'INVALID_ARGUMENT', message: 'Unrecognized name: methodname at [1:30]', errors: [{ reason: 'invalidQuery', message: 'Unrecognized name: methodname at [1:30]' }] } });

    // Act
    const error = await engine().query('SELECT methodname FROM gcp_audit').catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(QueryError);
    expect((error as QueryError).message).toContain('Unrecognized name: methodname at [1:30]');
    expect((error as QueryError).sql).toBe('SELECT methodname FROM gcp_audit');
  });
});
