/**
 * Recognition against every public corpus in ../shared/data (read in place, never copied): files that are not
 * logs of a source (Elastic pipeline tests' expected outputs, rule files, READMEs) must not be claimed, and no file
 * may be claimed by two sources. Skipped, saying so in the suite name, when the corpora are absent.
 */
import { existsSync, openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recogniseSource, RECOGNITION_BYTES } from '../../../shared/sources/recognise.ts';
import { detectSource, LOG_SOURCES } from '../../../shared/sources/registry.ts';
import { headText } from '../../../shared/sources/recognise.ts';

const DATA = resolve(fileURLToPath(new URL('../../../', import.meta.url)), '../shared/data');
const HAVE = existsSync(DATA);

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

function head(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(RECOGNITION_BYTES);
    return buffer.subarray(0, readSync(fd, buffer, 0, RECOGNITION_BYTES, 0));
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!HAVE)(HAVE ? 'Recognition on the public corpora (../shared/data)' : 'Recognition on the public corpora: SKIPPED, ../shared/data is absent', () => {
  it('claims no Elastic expected-output document, and never one file for two sources', () => {
    const expected = [...files(join(DATA, 'elastic-integrations-tests'))].filter((p) => /-expected[^/]*\.json$/.test(p));
    expect(expected.length).toBeGreaterThan(0);
    for (const path of expected) expect([path, recogniseSource(head(path), path)]).toEqual([path, undefined]);
    for (const path of files(DATA)) {
      const claims = LOG_SOURCES.filter((s) => s.sniff(headText(head(path)), path)).map((s) => s.id);
      expect([path, claims.length <= 1]).toEqual([path, true]);
      expect(detectSource(headText(head(path)), path).reason ?? '').not.toMatch(/ambiguous/);
    }
  });
});
