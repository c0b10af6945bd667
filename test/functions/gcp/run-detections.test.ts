/**
 * The scheduled detection function as Cloud Scheduler calls it (HTTP on the Functions Framework's test server,
 * 127.0.0.1), its BigQuery SQL run offline on DuckDB through the BigQuery compatibility layer over a detection's own
 * match fixture, and the findings written write-once to the local locker.
 */
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDetectionsHandler } from '../../../functions/gcp/handlers/run-detections.ts';
import { createLogger } from '../../../functions/gcp/runtime.ts';
import { loadCatalogue } from '../../../shared/detections/catalogue.ts';
import { LocalObjectStore } from '../../../shared/evidence/local-object-store.ts';
import { hashStream } from '../../../shared/evidence/hashing.ts';
import type { QueryEngine, QueryParam } from '../../../shared/ports/query-engine.ts';
import { bigqueryCompatStatements, bigqueryToDuckDb } from '../../../shared/query/bigquery-compat.ts';
import { DuckDbQueryEngine } from '../../../shared/query/duckdb-engine.ts';
import { loadFixtures, readFixture } from '../../shared/detections/helpers.ts';
import { tempDir } from '../../helpers/tmp.ts';

const catalogue = await loadCatalogue();
const detection = catalogue.find((d) => d.id === 'gcp-iam-powerful-role-granted')!;
let duck: DuckDbQueryEngine;
let store: LocalObjectStore;
let url: string;
const sent: string[] = [];

/** BigQuery answered by DuckDB: the SQL the function sends, rewritten by the compatibility layer. */
const offlineBigQuery = (): QueryEngine => ({
  query: (sql: string, params?: readonly QueryParam[]) => {
    sent.push(sql);
    return duck.query(bigqueryToDuckDb(sql), params);
  },
  close: async () => {},
});

const call = async (body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

describe('Function: runDetections', () => {
  beforeAll(async () => {
    duck = await DuckDbQueryEngine.create({ threads: 2 });
    for (const statement of bigqueryCompatStatements()) await duck.exec(statement);
    const match = await readFixture(detection, 'match', await tempDir('amber-gcp-detect-'));
    await loadFixtures(duck, detection.table, [match]);
    // The external table's hive partition columns, as the derive function lays the rows out.
    await duck.exec(`ALTER TABLE ${detection.table} ADD COLUMN "case" VARCHAR; ALTER TABLE ${detection.table} ADD COLUMN account VARCHAR; ALTER TABLE ${detection.table} ADD COLUMN day VARCHAR`);
    await duck.exec(`UPDATE ${detection.table} SET "case" = 'C-1', account = coalesce(project_id, 'unknown'), day = substr(time, 1, 10)`);
    store = await LocalObjectStore.open(await tempDir('amber-gcp-findings-'));
    ff.http('testRunDetections', runDetectionsHandler({ engine: offlineBigQuery(), store, catalogue, dataset: 'amber-evidence.amber_evidence', actor: { principal: 'serviceAccount:detect@x', tool: 'amber/test' }, logger: createLogger('runDetections', () => {}) }));
    const server = getTestServer('testRunDetections');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  });

  afterAll(async () => {
    await duck?.close();
  });

  it('writes the BigQuery findings of the window once, the same for a retried call', async () => {
    // Prepare
    const body = { detections: [detection.id], window: 'P2D', scheduledTime: '2026-03-16T00:00:00Z' };

    // Act
    const first = await call(body);
    const second = await call(body);

    // Assess
    expect(first.status).toBe(200);
    expect(first.json.findings).toBe(detection.expectedMatches);
    expect(second.json).toEqual(first.json);
    const stored = await hashStream(await store.get(String(first.json.findingsKey)));
    expect(stored.sha256).toBe(first.json.findingsSha256);
  });

  it('limits every table to the partitions of its window, which the external tables require', async () => {
    // Prepare
    sent.length = 0;
    const days = await duck.query<{ day: string }>(`SELECT DISTINCT day FROM ${detection.table} ORDER BY day`);
    const last = days[days.length - 1]!.day;

    // Act
    const res = await call({ detections: [detection.id], window: 'PT1H', scheduledTime: `${last}T23:30:00Z` });

    // Assess
    expect(res.status).toBe(200);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toContain(`(SELECT * FROM \`amber-evidence.amber_evidence.${detection.table}\` WHERE day BETWEEN '${last}' AND '${last}')`);
  });

  it('refuses by name a detection that has no BigQuery SQL', async () => {
    // Prepare
    const athenaOnly = catalogue.find((d) => d.bigquerySql === undefined)!;

    // Act
    const res = await call({ detections: [athenaOnly.id], window: 'PT1H' });

    // Assess
    expect(res.status).toBe(400);
    expect(String(res.json.error)).toBe(`no BigQuery SQL for detection ${athenaOnly.id}`);
  });
});
