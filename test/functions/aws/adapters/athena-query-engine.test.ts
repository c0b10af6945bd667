import { afterEach, describe, expect, it } from 'vitest';
import { AthenaClient } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { AthenaQueryEngine, athenaValue, sqlLiteral } from '../../../../functions/aws/adapters/athena-query-engine.ts';
import { QueryError } from '../../../../shared/query/errors.ts';
import { FakeAthena } from '../../../helpers/fake-athena.ts';

const athenaMock = mockClient(AthenaClient);
afterEach(() => athenaMock.reset());

function engine(options: { timeoutMs?: number } = {}): { engine: AthenaQueryEngine; slept: number[] } {
  const slept: number[] = [];
  let now = 0;
  const e = new AthenaQueryEngine({
    workgroup: 'amber',
    database: 'amber',
    client: new AthenaClient({ region: 'eu-west-1' }),
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    now: () => now,
    ...options,
  });
  return { engine: e, slept };
}

describe('Class: AthenaQueryEngine', () => {
  describe('Method: query', () => {
    it('runs in the workgroup and database, waits through QUEUED and RUNNING with a growing delay, and returns plain rows', async () => {
      // Prepare
      const fake = new FakeAthena().script({ match: /FROM cloudtrail/, columns: [{ name: 'actor', type: 'varchar' }, { name: 'n', type: 'bigint' }], rows: [['alice', '3'], [null, '1']] }).install(athenaMock);
      const { engine: e, slept } = engine();

      // Act
      const rows = await e.query('SELECT actor, count(*) AS n FROM cloudtrail GROUP BY 1');

      // Assess
      expect(rows).toEqual([{ actor: 'alice', n: 3 }, { actor: null, n: 1 }]);
      expect(fake.queries[0]!.input).toMatchObject({ WorkGroup: 'amber', QueryExecutionContext: { Database: 'amber', Catalog: 'AwsDataCatalog' } });
      expect(slept).toEqual([250, 375]);
    });

    it('passes positional parameters as SQL literals', async () => {
      // Prepare
      const fake = new FakeAthena().install(athenaMock);

      // Act
      await engine().engine.query('SELECT * FROM t WHERE a = ? AND b = ? AND c = ? AND d = ?', ["O'Brien", 42, true, null]);

      // Assess
      expect(fake.queries[0]!.input.ExecutionParameters).toEqual(["'O''Brien'", '42', 'true', 'NULL']);
    });

    it('reads every page, skipping the header row only on the first', async () => {
      // Prepare
      const rows = Array.from({ length: 2500 }, (_, i) => [String(i)]);
      const fake = new FakeAthena().script({ match: /big/, columns: [{ name: 'i', type: 'integer' }], rows }).install(athenaMock);

      // Act
      const out = await engine().engine.query<{ i: number }>('SELECT i FROM big');

      // Assess
      expect(out).toHaveLength(2500);
      expect(out[0]).toEqual({ i: 0 });
      expect(out[2499]).toEqual({ i: 2499 });
      expect(fake.calls.filter((c) => c === 'GetQueryResults')).toHaveLength(3);
    });

    it('keeps the first row of a statement that has no header row (DDL, SHOW)', async () => {
      // Prepare
      new FakeAthena().script({ match: /SHOW/, statementType: 'UTILITY', columns: [{ name: 'tab_name', type: 'string' }], rows: [['cloudtrail']] }).install(athenaMock);

      // Act / Assess
      expect(await engine().engine.query('SHOW TABLES')).toEqual([{ tab_name: 'cloudtrail' }]);
    });

    it('throws QueryError naming the query execution id and Athena\'s reason when the query fails', async () => {
      // Prepare
      new FakeAthena().script({ match: /nope/, states: ['QUEUED', 'FAILED'], reason: "TABLE_NOT_FOUND: line 1:15: Table 'amber.nope' does not exist" }).install(athenaMock);

      // Act
      const querying = engine().engine.query('SELECT * FROM nope');

      // Assess
      await expect(querying).rejects.toThrow(QueryError);
      await expect(querying).rejects.toThrow(/Athena query q-1 failed: TABLE_NOT_FOUND.*amber\.nope/);
      await expect(querying).rejects.toMatchObject({ sql: 'SELECT * FROM nope', hint: expect.stringContaining('fix the query') });
    });

    it('stops a query that outlives the timeout and fails naming it', async () => {
      // Prepare
      const fake = new FakeAthena().script({ match: /slow/, states: ['QUEUED', 'RUNNING'] }).install(athenaMock);

      // Act
      const querying = engine({ timeoutMs: 5_000 }).engine.query('SELECT * FROM slow');

      // Assess
      await expect(querying).rejects.toThrow(/Athena query q-1 was still RUNNING after 5 s and was stopped/);
      expect(fake.calls).toContain('StopQueryExecution');
    });

    it('reports a cancelled query', async () => {
      // Prepare
      new FakeAthena().script({ match: /x/, states: ['RUNNING', 'CANCELLED'] }).install(athenaMock);

      // Act / Assess
      await expect(engine().engine.query('SELECT x')).rejects.toThrow(/q-1 was cancelled/);
    });

    it('refuses queries once closed', async () => {
      // Prepare
      const { engine: e } = engine();
      await e.close();

      // Act / Assess
      await expect(e.query('SELECT 1')).rejects.toThrow(/closed/);
    });
  });

  describe('Function: athenaValue', () => {
    it.each([
      ['boolean', 'true', true],
      ['integer', '-7', -7],
      ['bigint', '9007199254740993', '9007199254740993'],
      ['double', '1.5', 1.5],
      ['decimal(10,2)', '12.30', 12.3],
      ['date', '2026-03-01', '2026-03-01'],
      ['timestamp', '2026-03-01 12:00:00.000', '2026-03-01T12:00:00.000Z'],
      ['timestamp(6)', '2026-03-01 12:00:00.123456', '2026-03-01T12:00:00.123456Z'],
      ['timestamp', '2026-03-01 12:00:00', '2026-03-01T12:00:00.000Z'],
      ['timestamp with time zone', '2026-03-01 12:00:00.000 UTC', '2026-03-01T12:00:00.000Z'],
      ['timestamp with time zone', '2026-03-01 12:00:00.000 +02:00', '2026-03-01T10:00:00.000Z'],
      ['timestamp with time zone', '2026-07-01 12:00:00.000 Europe/Paris', '2026-07-01T10:00:00.000Z'],
      ['timestamp with time zone', '2026-01-15 12:00:00.000 America/New_York', '2026-01-15T17:00:00.000Z'],
      ['varchar', 'plain', 'plain'],
      ['json', '{"a":1}', '{"a":1}'],
      ['array', '[a, b, c]', ['a', 'b', 'c']],
      ['array', '[]', []],
      ['map', '{k=v, k2=[x, y]}', { k: 'v', k2: ['x', 'y'] }],
      ['row', '{arn=arn:aws:iam::1:user/a, type=IAMUser}', { arn: 'arn:aws:iam::1:user/a', type: 'IAMUser' }],
    ])('converts %s %j', (type, text, expected) => {
      expect(athenaValue(type, text)).toEqual(expected);
    });

    it('turns NULL (no value) into null and varbinary hex into bytes', () => {
      expect(athenaValue('varchar', undefined)).toBeNull();
      expect(athenaValue('varbinary', '68 69')).toEqual(Uint8Array.from([0x68, 0x69]));
    });
  });

  describe('Function: sqlLiteral', () => {
    it('refuses a number Athena cannot take', () => {
      expect(() => sqlLiteral(Number.NaN)).toThrow(/cannot pass NaN as an Athena parameter/);
    });
  });
});
