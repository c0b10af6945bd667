/**
 * Recognition of gzip objects whose text compresses well. Recognition reads the first RECOGNITION_BYTES
 * compressed bytes and inflates at most four times that; a flow log (or any repetitive log) packs far more text
 * into those bytes. Such an object was reported as "not a format Amber parses yet" and left out of the analysis:
 * its head must be read from a shorter compressed prefix instead.
 */
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inflateHead } from '../../../shared/sources/cloudtrail/bytes.ts';
import { headText, recogniseSource, RECOGNITION_BYTES } from '../../../shared/sources/recognise.ts';

/** A default-format (version 2) flow log of `n` records: a header, then records that differ little from each other. */
function flowLog(n: number): string {
  const lines = ['version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'];
  for (let i = 0; i < n; i++) {
    lines.push(`2 123456789012 eni-0123456789abcdef0 10.1.${i % 7}.${i % 200} 10.2.0.${i % 31} ${40000 + (i % 900)} 443 6 ${i % 50} ${i % 9000} ${1700000000 + i} ${1700000060 + i} ${i % 10 ? 'ACCEPT' : 'REJECT'} OK`);
  }
  return `${lines.join('\n')}\n`;
}

describe('recognising gzip objects that inflate far beyond the recognition window', () => {
  const gz = gzipSync(flowLog(60_000), { level: 9 });
  const head = gz.subarray(0, RECOGNITION_BYTES);

  it('the object really is one whose first compressed window inflates past the limit', () => {
    // Guards the premise: if this stopped holding, the test below would prove nothing.
    expect(gz.length).toBeGreaterThan(RECOGNITION_BYTES);
    const whole = gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    expect(whole.length).toBeGreaterThan(RECOGNITION_BYTES * 4);
  });

  it('recognises it as a flow log from its head', () => {
    expect(recogniseSource(head, 'logs/eni-flow.log.gz')).toBe('vpcflow');
  });

  it('reads a head that starts at the first byte and stays within the inflate limit', () => {
    const text = headText(head);
    expect(text.startsWith('version account-id interface-id')).toBe(true);
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThanOrEqual(RECOGNITION_BYTES * 4);
  });

  it('still bounds a gzip bomb: a head of zeros inflates to at most the limit', () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const out = inflateHead(bomb, bomb.length, 1024 * 1024);
    expect(out.length).toBeGreaterThan(0);
    expect(out.length).toBeLessThanOrEqual(1024 * 1024);
    expect(out.every((b) => b === 0)).toBe(true);
  });
});
