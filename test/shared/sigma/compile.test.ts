/**
 * The Sigma compiler, one modifier and one condition form at a time, on a small synthetic CloudTrail table run on
 * DuckDB through the Athena compatibility layer; every compiled statement must also parse as Trino (Athena).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINDING_COLUMNS, windowedSql } from '../../../shared/detections/catalogue.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { loadCloudTrailTable } from '../../../shared/query/tables/cloudtrail.ts';
import { base64Offsets, compileRule, parseSigmaString, type SigmaRule } from '../../../shared/sigma/compile.ts';
import { SigmaUnsupportedError } from '../../../shared/sigma/errors.ts';
import { tempDir } from '../../helpers/tmp.ts';
import { assertTrinoSql } from '../../helpers/trino-sql.ts';

const encoded = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** Three synthetic records; each test names the record indexes it expects. */
const RECORDS = [
  {
    eventTime: '2026-03-01T10:00:00Z',
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    sourceIPAddress: '10.20.30.40',
    userAgent: 'Mozilla/5.0 TruffleHog',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', userName: 'alice' },
    requestParameters: { bucketName: 'Secret_Bucket%1', count: 7, name: 'plain', userName: 'Alice', command: 'ls' },
    responseElements: { ConsoleLogin: 'Success' },
  },
  {
    eventTime: '2026-03-01T11:00:00Z',
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: 'DeleteTrail',
    sourceIPAddress: '192.168.1.5',
    userAgent: 'aws-cli/2.0 powershell -enc SQBFAFgA',
    userIdentity: { type: 'Root', arn: 'arn:aws:iam::111122223333:root', userName: 'root' },
    requestParameters: { name: 'trail*star', count: 70, userName: 'bob', command: 'cmd /c whoami' },
    errorCode: 'AccessDenied',
  },
  {
    eventTime: '2026-03-01T12:00:00Z',
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: 'deletetrail',
    sourceIPAddress: '10.47.0.1',
    // 'whoami' two bytes into a longer text: only |base64offset finds it.
    userAgent: `aws-cli/2.0 ${encoded('xywhoami now')}`,
    userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/aws:ec2-instance/i-1' },
    requestParameters: { name: 'a_b', count: 'n/a', command: 'cmd -c whoami' },
  },
];
const KEY = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T1000Z_sigma.json';

const rule = (detection: Record<string, unknown>, logsource: Record<string, string> = { product: 'aws', service: 'cloudtrail' }): SigmaRule => ({
  id: '00000000-0000-4000-8000-000000000001',
  title: "Synthetic rule with a quote ' in its title",
  status: 'test',
  level: 'high',
  description: '',
  tags: [],
  falsepositives: [],
  logsource,
  detection,
});

describe('Sigma compiler', () => {
  let engine: DuckDbQueryEngine;

  beforeAll(async () => {
    engine = await DuckDbQueryEngine.create({ threads: 2 });
    const path = join(await tempDir('amber-sigma-'), 'records.json');
    await writeFile(path, JSON.stringify({ Records: RECORDS }));
    await loadCloudTrailTable(engine, [{ path, key: KEY, shape: 'records' }]);
  });
  afterAll(async () => {
    await engine.close();
  });

  /** The record indexes a detection block matches, after checking its SQL parses as Trino. */
  const matches = async (detection: Record<string, unknown>): Promise<number[]> => {
    const { sql } = compileRule(rule(detection));
    assertTrinoSql(sql);
    const rows = await engine.query<Record<string, unknown>>(windowedSql(sql, 'cloudtrail', 'main.cloudtrail'));
    return rows.map((r) => Number(r.evidence_record));
  };
  const reasonOf = (detection: Record<string, unknown>, logsource?: Record<string, string>): string => {
    try {
      compileRule(rule(detection, logsource));
    } catch (error) {
      if (error instanceof SigmaUnsupportedError) return error.message;
      throw error;
    }
    throw new Error('the rule compiled');
  };

  describe('Method: compileRule (values)', () => {
    it('returns the finding columns, citing the preserved record, in a total order', async () => {
      const { sql } = compileRule(rule({ selection: { eventSource: 'cloudtrail.amazonaws.com' }, condition: 'selection' }));
      const rows = await engine.query<Record<string, unknown>>(sql);
      expect(rows.map((r) => Object.keys(r))).toEqual([[...FINDING_COLUMNS], [...FINDING_COLUMNS]]);
      expect(rows.map((r) => [r.evidence_key, r.evidence_record, r.action])).toEqual([
        [KEY, 1, 'cloudtrail.amazonaws.com:DeleteTrail'],
        [KEY, 2, 'cloudtrail.amazonaws.com:deletetrail'],
      ]);
      expect(rows[0]!.detail).toBe("sigma 00000000-0000-4000-8000-000000000001: Synthetic rule with a quote ' in its title");
    });

    it('matches plain values case-insensitively, and exactly with |cased', async () => {
      expect(await matches({ s: { eventName: 'DELETETRAIL' }, condition: 's' })).toEqual([1, 2]);
      expect(await matches({ s: { 'eventName|cased': 'DeleteTrail' }, condition: 's' })).toEqual([1]);
    });

    it('reads a list as any of its values, and |all as every one', async () => {
      expect(await matches({ s: { eventName: ['ConsoleLogin', 'DeleteTrail'] }, condition: 's' })).toEqual([0, 1, 2]);
      expect(await matches({ s: { 'userAgent|contains': ['aws-cli', 'powershell'] }, condition: 's' })).toEqual([1, 2]);
      expect(await matches({ s: { 'userAgent|contains|all': ['aws-cli', 'powershell'] }, condition: 's' })).toEqual([1]);
    });

    it('applies |contains, |startswith and |endswith', async () => {
      expect(await matches({ s: { 'userAgent|contains': 'trufflehog' }, condition: 's' })).toEqual([0]);
      expect(await matches({ s: { 'sourceIPAddress|startswith': '10.' }, condition: 's' })).toEqual([0, 2]);
      expect(await matches({ s: { 'userIdentity.arn|endswith': ':ROOT' }, condition: 's' })).toEqual([1]);
    });

    it('treats * and ? as wildcards, \\* as a literal star, and SQL LIKE characters in values as literals', async () => {
      expect(await matches({ s: { eventName: 'Delete*' }, condition: 's' })).toEqual([1, 2]);
      expect(await matches({ s: { eventName: '?onsoleLogin' }, condition: 's' })).toEqual([0]);
      expect(await matches({ s: { 'requestParameters.name': 'trail\\*star' }, condition: 's' })).toEqual([1]);
      expect(await matches({ s: { 'requestParameters.name': 'trail\\*s*' }, condition: 's' })).toEqual([1]);
      expect(await matches({ s: { 'requestParameters.name': 'a%b*' }, condition: 's' })).toEqual([]);
      expect(await matches({ s: { 'requestParameters.name': 'a_b*' }, condition: 's' })).toEqual([2]);
      expect(await matches({ s: { 'requestParameters.bucketName': 'secret?bucket%1' }, condition: 's' })).toEqual([0]);
      expect(parseSigmaString('a\\\\*b\\c')).toEqual(['a\\', { wildcard: '*' }, 'b\\c']);
    });

    it('matches |re case-sensitively, with |i for case-insensitive', async () => {
      expect(await matches({ s: { 'userIdentity.arn|re': ':assumed-role/aws:.+' }, condition: 's' })).toEqual([2]);
      expect(await matches({ s: { 'eventName|re': '^DELETETRAIL$' }, condition: 's' })).toEqual([]);
      expect(await matches({ s: { 'eventName|re|i': '^DELETETRAIL$' }, condition: 's' })).toEqual([1, 2]);
    });

    it('matches IPv4 ranges with |cidr, including ranges that end inside an octet', async () => {
      expect(await matches({ s: { 'sourceIPAddress|cidr': '10.0.0.0/8' }, condition: 's' })).toEqual([0, 2]);
      expect(await matches({ s: { 'sourceIPAddress|cidr': '10.32.0.0/11' }, condition: 's' })).toEqual([2]);
      expect(await matches({ s: { 'sourceIPAddress|cidr': ['192.168.0.0/16', '10.20.30.40/32'] }, condition: 's' })).toEqual([0, 1]);
    });

    it('finds base64-encoded text with |base64 and at any byte offset with |base64offset', async () => {
      expect(await matches({ s: { 'userAgent|base64offset|contains': 'whoami' }, condition: 's' })).toEqual([2]);
      expect(await matches({ s: { 'userAgent|base64|contains': 'whoami' }, condition: 's' })).toEqual([]);
      expect(await matches({ s: { 'userAgent|base64|contains': 'xywhoami now' }, condition: 's' })).toEqual([2]);
      // Each offset's text is a substring of the full encoding of the value placed at that offset.
      for (const [i, part] of base64Offsets('whoami').entries()) expect(encoded(`${' '.repeat(i)}whoami!`)).toContain(part);
    });

    it('matches every dash form of an option with |windash', async () => {
      expect(await matches({ s: { 'requestParameters.command|contains': 'cmd -c' }, condition: 's' })).toEqual([2]);
      expect(await matches({ s: { 'requestParameters.command|windash|contains': 'cmd -c' }, condition: 's' })).toEqual([1, 2]);
    });

    it('tests presence with |exists and absence with null', async () => {
      expect(await matches({ s: { 'errorCode|exists': true }, condition: 's' })).toEqual([1]);
      expect(await matches({ s: { 'errorCode|exists': false }, condition: 's' })).toEqual([0, 2]);
      expect(await matches({ s: { errorCode: null }, condition: 's' })).toEqual([0, 2]);
    });

    it('compares numbers with |gt, |gte, |lt, |lte, skipping values that are not numbers', async () => {
      expect(await matches({ s: { 'requestParameters.count|gt': 7 }, condition: 's' })).toEqual([1]);
      expect(await matches({ s: { 'requestParameters.count|gte': 7 }, condition: 's' })).toEqual([0, 1]);
      expect(await matches({ s: { 'requestParameters.count|lt': 70 }, condition: 's' })).toEqual([0]);
      expect(await matches({ s: { 'requestParameters.count|lte': 70 }, condition: 's' })).toEqual([0, 1]);
    });

    it('compares two fields with |fieldref', async () => {
      expect(await matches({ s: { 'userIdentity.userName|fieldref': 'requestParameters.userName' }, condition: 's' })).toEqual([0]);
    });

    it('searches keywords in every text column of the record', async () => {
      expect(await matches({ keywords: ['trufflehog'], condition: 'keywords' })).toEqual([0]);
      expect(await matches({ keywords: ['AccessDenied', 'assumed-role'], condition: 'keywords' })).toEqual([1, 2]);
    });

    it('keeps a value that looks like SQL a plain string', async () => {
      expect(await matches({ s: { eventName: "x' OR '1'='1" }, condition: 's' })).toEqual([]);
      expect(await matches({ s: { 'eventName|contains': "'; DROP TABLE cloudtrail; --" }, condition: 's' })).toEqual([]);
      expect(await matches({ s: { eventName: 'ConsoleLogin' }, condition: 's' })).toEqual([0]);
    });
  });

  describe('Method: compileRule (conditions)', () => {
    const detection = {
      sel_login: { eventName: 'ConsoleLogin' },
      sel_trail: { eventSource: 'cloudtrail.amazonaws.com' },
      filter_denied: { errorCode: 'AccessDenied' },
      filter_root: { 'userIdentity.type': 'Root' },
    };

    it('combines and / or / not with parentheses, keeping events that lack a filtered field', async () => {
      expect(await matches({ ...detection, condition: 'sel_trail and not filter_denied' })).toEqual([2]);
      expect(await matches({ ...detection, condition: 'not filter_denied' })).toEqual([0, 2]);
      expect(await matches({ ...detection, condition: '(sel_login or sel_trail) and not (filter_denied or filter_root)' })).toEqual([0, 2]);
      expect(await matches({ ...detection, condition: 'sel_login or sel_trail and filter_denied' })).toEqual([0, 1]);
    });

    it('expands 1 of / any of / all of patterns and them', async () => {
      expect(await matches({ ...detection, condition: '1 of sel_*' })).toEqual([0, 1, 2]);
      expect(await matches({ ...detection, condition: 'any of filter_*' })).toEqual([1]);
      expect(await matches({ ...detection, condition: 'all of filter_*' })).toEqual([1]);
      expect(await matches({ ...detection, condition: 'sel_trail and not 1 of filter_*' })).toEqual([2]);
      expect(await matches({ ...detection, condition: 'all of them' })).toEqual([]);
    });

    it('reads a list of maps as any of them, and a list of conditions as any of them', async () => {
      expect(await matches({ s: [{ eventName: 'ConsoleLogin' }, { errorCode: 'AccessDenied' }], condition: 's' })).toEqual([0, 1]);
      expect(await matches({ ...detection, condition: ['sel_login', 'filter_denied'] })).toEqual([0, 1]);
    });
  });

  describe('Method: compileRule (what it refuses, and why)', () => {
    it('names the field that has no column, and never puts it in SQL', () => {
      expect(reasonOf({ s: { 'eventName"; DROP TABLE x; --': 'a' }, condition: 's' })).toMatch(/field "eventName\\"; DROP TABLE x; --" has no column in cloudtrail/);
      expect(reasonOf({ s: { "requestParameters.a'b": 'a' }, condition: 's' })).toMatch(/path segment "a'b" is not a plain JSON key/);
    });

    it('names the logsource with no table, the unknown modifier, the placeholder and the missing identifier', () => {
      expect(reasonOf({ s: { a: 'b' }, condition: 's' }, { product: 'okta', service: 'okta' })).toMatch(/logsource okta\/okta has no Amber table/);
      expect(reasonOf({ s: { 'eventName|nosuch': 'a' }, condition: 's' })).toMatch(/modifier \|nosuch is not a Sigma 2 modifier/);
      expect(reasonOf({ s: { 'eventName|expand': '%names%' }, condition: 's' })).toMatch(/\|expand expands a placeholder/);
      expect(reasonOf({ s: { eventName: 'a' }, condition: 's and other' })).toMatch(/"other", which is not a search identifier/);
      expect(reasonOf({ s: { eventName: 'a' }, condition: 's | count() by x > 5' })).toMatch(/pipe aggregation/);
      expect(reasonOf({ s: { 'sourceIPAddress|cidr': '2001:db8::/32' }, condition: 's' })).toMatch(/IPv6 range/);
      expect(reasonOf({ s: { eventName: 'a' }, condition: '2 of s*' })).toMatch(/"2 of" is not a Sigma quantifier/);
    });
  });
});
