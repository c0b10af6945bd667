/**
 * Isolation of bad records: a record of an unexpected shape is reported with its object and position, and the rest
 * of the case is still analysed. The fuzz part builds records from the public corpora in ../shared/data (read in
 * place, never copied; skipped with a message when absent) and from the project's own synthetic fixtures for the
 * sources no corpus covers, swaps fields for other JSON types, and loads them the way `amber detect` does.
 * Deterministic (a seeded generator) and bounded (a few dozen records per source).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { LogSource } from '../../../shared/sources/log-source.ts';
import { LOG_SOURCES } from '../../../shared/sources/registry.ts';
import { caseWith } from '../../helpers/case.ts';
import { createRng as random } from '../../helpers/cloudtrail-synth.ts';

const ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const DATA = join(ROOT, '../shared/data');
const FIXTURES = join(ROOT, 'test/fixtures');
const HAVE_DATA = existsSync(DATA);

const rec = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  eventVersion: '1.09',
  eventTime: '2026-11-20T01:00:00Z',
  eventSource: 'iam.amazonaws.com',
  eventName: name,
  awsRegion: 'us-east-1',
  sourceIPAddress: '198.51.100.9',
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/u', accountId: '111122223333' },
  eventID: `id-${name}`,
  ...extra,
});
const DAY = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20';

type Loaded = Awaited<ReturnType<typeof caseWith>>;

/** evidence_record values loaded for each evidence key of a table. */
async function loadedIndexes(loaded: Loaded, table: string): Promise<Map<string, Set<number>>> {
  const rows = await loaded.engine.query<{ k: string; r: number }>(`SELECT evidence_key AS k, evidence_record AS r FROM ${table}`);
  const byKey = new Map<string, Set<number>>();
  for (const { k, r } of rows) byKey.set(k, (byKey.get(k) ?? new Set()).add(Number(r)));
  return byKey;
}

const keyEnding = (loaded: Loaded, suffix: string): string => [...loaded.ledger.items().values()].find((i) => !i.derivedFrom && i.key.endsWith(suffix))!.key;

describe('Bad records: one record of the wrong type is set aside, its file\'s other records load', () => {
  it('reports a CloudTrail record whose resources or userIdentity is a string by its index, and loads the rest of the file and the case', async () => {
    const file = {
      Records: [
        rec('A'),
        rec('B', { resources: 'arn:aws:s3:::bucket' }),
        rec('C', { userIdentity: 'root' }),
        rec('D', { requestParameters: 5 }),
        rec('E', { resources: [{ ARN: 'arn:aws:s3:::b', type: 'AWS::S3::Bucket' }, 'oops'] }),
        rec('F'),
      ],
    };
    const loaded = await caseWith({ [`${DAY}/mixed.json.gz`]: gzipSync(JSON.stringify(file)), [`${DAY}/other.json`]: JSON.stringify({ Records: [rec('G')] }) });
    const mixed = keyEnding(loaded, 'mixed.json.gz');
    const byKey = await loadedIndexes(loaded, 'cloudtrail');
    // requestParameters is a STRING column in Athena: a number is its text, not an error.
    expect([...byKey.get(mixed)!].sort()).toEqual([0, 3, 5]);
    expect(byKey.get(keyEnding(loaded, 'other.json'))).toEqual(new Set([0]));
    const problems = loaded.tables.problems.filter((p) => p.key === mixed);
    expect(problems.map((p) => p.record).sort()).toEqual([1, 2, 4]);
    expect(problems.find((p) => p.record === 1)!.reason).toMatch(/\.resources is a string, where the table declares an array/);
    expect(problems.find((p) => p.record === 2)!.reason).toMatch(/\.userIdentity is a string, where the table declares an object/);
    expect(problems.find((p) => p.record === 4)!.reason).toMatch(/\.resources\[1\] is a string/);
    expect(loaded.tables.coverage.sources['cloudtrail']).toEqual({ objects: 2, records: { loaded: 4, rejected: 3 } });
  });

  it('sets aside a row whose value does not fit its column type, and an object whose parser throws, and loads the rest', async () => {
    const numbers: LogSource = {
      id: 'numbers',
      title: 'numbers',
      cloud: 'aws',
      table: 'numbers',
      timeColumn: 'time',
      columns: [{ name: 'time', type: 'VARCHAR' }, { name: 'n', type: 'BIGINT' }],
      sniff: (head) => head.startsWith('n '),
      parse: (text) => {
        if (text.includes('explode')) throw new Error('parser bug');
        const lines = text.trim().split('\n');
        return { variant: 'v', rows: lines.map((l, index) => ({ index, row: { time: '2026-11-20T00:00:00Z', n: JSON.parse(l.slice(2)) as unknown } })), problems: [] };
      },
      timelineSql: 'SELECT 1 WHERE false',
    };
    const loaded = await caseWith({ 'a.txt': 'n 1\nn "x"\nn 3\n', 'b.txt': 'n explode\n' }, { logSources: [numbers] });
    const a = keyEnding(loaded, 'a.txt');
    expect((await loadedIndexes(loaded, 'numbers')).get(a)).toEqual(new Set([0, 2]));
    expect(loaded.tables.problems).toContainEqual({ key: a, record: 1, reason: expect.stringMatching(/column n is the string "x", where the table declares BIGINT/) });
    expect(loaded.tables.problems).toContainEqual({ key: keyEnding(loaded, 'b.txt'), reason: expect.stringMatching(/numbers parser failed on this object \(parser bug\)/) });
    expect(loaded.tables.coverage.objects).toMatchObject({ total: 2, analysed: 1, unparsable: 1 });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Fuzz

function nested(kind: '[' | '{', depth: number): unknown {
  let v: unknown = 'deep';
  for (let i = 0; i < depth; i += 1) v = kind === '[' ? [v] : { d: v };
  return v;
}

/** Another JSON type for a field: what a hostile or broken exporter could put there. */
function otherValue(rand: () => number): unknown {
  const choices: Array<() => unknown> = [
    () => 'not-what-you-expect',
    () => 42,
    () => -1.5e300,
    () => true,
    () => null,
    () => [1, 'two', { three: 3 }],
    () => ({ unexpected: { object: ['here'] } }),
    () => nested('[', 100),
    () => nested('{', 100),
    () => '',
  ];
  return choices[Math.floor(rand() * choices.length)]!();
}

/** Replaces one field (at any depth up to 3) of a JSON record with a value of another type. */
function mutate(record: unknown, rand: () => number): unknown {
  const copy = structuredClone(record) as Record<string, unknown>;
  let target: Record<string, unknown> = copy;
  for (let depth = 0; depth < 3; depth += 1) {
    const all = Object.keys(target);
    if (all.length === 0) break;
    // Half the time a field holding an object or an array: where a declared struct, array or map meets another type.
    const structured = all.filter((k) => target[k] !== null && typeof target[k] === 'object');
    const keys = structured.length > 0 && rand() < 0.5 ? structured : all;
    const key = keys[Math.floor(rand() * keys.length)]!;
    const value = target[key];
    if (depth < 2 && value !== null && typeof value === 'object' && !Array.isArray(value) && rand() < 0.5) {
      target = value as Record<string, unknown>;
      continue;
    }
    target[key] = otherValue(rand);
    return copy;
  }
  target['injected'] = otherValue(rand);
  return copy;
}

/** Replaces one whitespace-separated token of a text line. */
function mutateLine(line: string, rand: () => number): string {
  const tokens = line.split(' ');
  const i = Math.floor(rand() * tokens.length);
  const swaps = ['', '"', 'x'.repeat(300), '{"a":[1]}', '-1', '99999999999999999999999', 'true', 'null', '[[[[', '\\'];
  tokens[i] = swaps[Math.floor(rand() * swaps.length)]!;
  return tokens.join(' ');
}

type Layout = { kind: 'jsonl' } | { kind: 'array' } | { kind: 'container'; wrapper: Record<string, unknown>; key: string } | { kind: 'text'; header: number };

/** A file's records and how to write them back in the same layout. */
function recordsOf(text: string, textSource: boolean): { records: unknown[]; layout: Layout } | undefined {
  if (textSource) {
    const lines = text.split('\n').filter((l) => l !== '');
    return { records: lines, layout: { kind: 'text', header: 1 } };
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  try {
    return { records: lines.map((l) => JSON.parse(l) as unknown), layout: { kind: 'jsonl' } };
  } catch {
    // not JSON Lines
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (Array.isArray(doc)) return { records: doc, layout: { kind: 'array' } };
  if (doc && typeof doc === 'object') {
    const key = Object.keys(doc).find((k) => Array.isArray((doc as Record<string, unknown>)[k]));
    if (key) return { records: (doc as Record<string, unknown[]>)[key]!, layout: { kind: 'container', wrapper: doc as Record<string, unknown>, key } };
  }
  return undefined;
}

function write(records: readonly unknown[], layout: Layout): string {
  if (layout.kind === 'jsonl') return `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
  if (layout.kind === 'array') return JSON.stringify(records, null, 1);
  if (layout.kind === 'text') return `${records.join('\n')}\n`;
  return JSON.stringify({ ...layout.wrapper, [layout.key]: records });
}

const TEXT_SOURCES = new Set(['vpcflow', 's3access', 'mqtt']);

/** Where each source's records come from: the public corpora, else the project's synthetic fixtures. */
const SAMPLES: Record<string, readonly string[]> = {
  cloudtrail: [
    join(DATA, 'invictus-aws-dataset/CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json'),
    join(DATA, 'aws-cloudtrail-userguide-examples/cloudtrail_doc_events.jsonl'),
  ],
  vpcflow: [join(DATA, 'elastic-integrations-tests/aws_vpcflow/test-v5-all-fields.log')],
  s3access: [join(DATA, 'elastic-integrations-tests/aws_s3access/test-s3-server-access.log')],
  'azure-activity': [join(DATA, 'elastic-integrations-tests/azure_activitylogs/test-activitylogs-raw.log')],
  'entra-audit': [join(DATA, 'otrf-security-datasets/extracted/AADAuditEvents/AADAuditEvents.json')],
  'entra-signin': [join(DATA, 'elastic-integrations-tests/azure_signinlogs/test-signinlogs-raw.log')],
  'entra-risk': [join(ROOT, 'shared/detections/entra-risk-detection-open/fixtures/match.json')],
  'azure-state': [join(FIXTURES, 'azure/azure-state/graph/applications.json')],
  'gcp-audit': [join(DATA, 'elastic-integrations-tests/gcp_audit/test-iamcredentials-googleapis-com.log')],
  'm365-audit': [join(DATA, 'otrf-security-datasets/extracted/OfficeActivityEvents/OfficeActivityEvents.json')],
  'iot-core': [join(DATA, 'aws-iot-core-log-examples/aws_iot_core_cwl_examples.jsonl')],
  'iot-shadow': [join(FIXTURES, 'iot/iot-shadow/export-jsonl/shadows.jsonl')],
  'iot-api': [join(FIXTURES, 'iot/iot-api/camel-jsonl/api.jsonl'), join(FIXTURES, 'iot/iot-api/array/api.json')],
  mqtt: [join(FIXTURES, 'iot/mqtt/epoch/mosquitto.log')],
  // Capture lines that each give one row, so a record's index is its line's position, as the fuzz compares.
  inventory: [join(FIXTURES, 'aws/inventory/capture/answers.jsonl')],
};

const MAX_RECORDS = 30;
const TABLES: Record<string, string> = { cloudtrail: 'cloudtrail', ...Object.fromEntries(LOG_SOURCES.map((s) => [s.id, s.table])) };

describe.skipIf(!HAVE_DATA)(HAVE_DATA ? 'Fuzz: every parser, records from real corpora with fields of other JSON types' : 'Fuzz on real corpora: SKIPPED, ../shared/data is absent', () => {
  it('covers every registered source', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(['cloudtrail', ...LOG_SOURCES.map((s) => s.id)].sort());
  });

  it.each(Object.entries(SAMPLES))('%s: nothing throws, every mutated record either loads or is reported with its position, every untouched record loads', async (id, paths) => {
    for (const [n, path] of paths.entries()) {
      const parsed = recordsOf(readFileSync(path, 'utf8'), TEXT_SOURCES.has(id));
      expect(parsed, `${path} holds records`).toBeDefined();
      const { records, layout } = parsed!;
      const sample = records.slice(0, MAX_RECORDS);
      for (const seed of [1, 2, 3]) {
        const rand = random(seed * 7919 + n);
        // Record 0 and, for text, the first line stay as they are, so the file is still recognised as this source.
        const mutated = new Set(sample.map((_, i) => i).filter((i) => i > 0 && rand() < 0.4));
        const changed = sample.map((r, i) => (!mutated.has(i) ? r : typeof r === 'string' ? mutateLine(r, rand) : mutate(r, rand)));
        const suffix = path.endsWith('.log') ? '.log' : path.endsWith('.jsonl') ? '.jsonl' : '.json';
        const files = { [`base/f${suffix}`]: write(sample, layout), [`fuzz/f${suffix}`]: write(changed, layout) };
        const loaded = await caseWith(files, id === 'cloudtrail' ? {} : { source: id });
        const baseKey = keyEnding(loaded, `base/f${suffix}`);
        const fuzzKey = keyEnding(loaded, `fuzz/f${suffix}`);
        const byKey = await loadedIndexes(loaded, TABLES[id]!);
        const base = byKey.get(baseKey) ?? new Set<number>();
        const fuzz = byKey.get(fuzzKey) ?? new Set<number>();
        const reported = new Set(loaded.tables.problems.filter((p) => p.key === fuzzKey && p.record !== undefined).map((p) => p.record!));
        expect(base.size, `${path}: the untouched sample loads`).toBeGreaterThan(0);
        // Records are positions in the file (lines, or elements); the same position holds the same record in both copies.
        for (const index of base) {
          if (!mutated.has(index)) expect([seed, index, fuzz.has(index)], `${path}: untouched record ${index} loads`).toEqual([seed, index, true]);
          else expect([seed, index, fuzz.has(index) || reported.has(index)], `${path}: mutated record ${index} loads or is reported`).toEqual([seed, index, true]);
        }
        // A record set aside is never also loaded.
        for (const index of reported) expect([index, fuzz.has(index)]).toEqual([index, false]);
      }
    }
  });
});
