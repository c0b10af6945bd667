/**
 * A fake of the EBS direct APIs as a real HTTP server on 127.0.0.1 (so the SDK's endpoint resolution, signing,
 * retries and deserializer all run; point a client at it with `endpoint: url` or AWS_ENDPOINT_URL_EBS).
 * Written behaviour, in the documented shapes:
 * - ListSnapshotBlocks `GET /snapshots/{id}/blocks?maxResults=&pageToken=` answers JSON
 *   `{"Blocks":[{"BlockIndex","BlockToken"}],"ExpiryTime" (epoch seconds),"VolumeSize" (GiB),"BlockSize","NextToken"}`,
 *   the written blocks in ascending index order, maxResults a page;
 * - GetSnapshotBlock `GET /snapshots/{id}/blocks/{index}?blockToken=` answers the block's bytes with the headers
 *   `x-amz-Data-Length`, `x-amz-Checksum` (base64 SHA-256 of the bytes) and `x-amz-Checksum-Algorithm: SHA256`;
 *   a wrong token answers ValidationException (400); an unknown snapshot ResourceNotFoundException (404);
 * - `corrupt(index)`: that block's bytes are sent altered, with the checksum of the true bytes;
 * - `throttle(n)`: the next n requests answer ThrottlingException (HTTP 400, as EBS does);
 * - `deny()`: every request answers AccessDeniedException (403).
 * Every request is counted in `requests` (by kind).
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const EBS_BLOCK = 524_288;

interface FakeSnapshot {
  readonly volumeGiB: number;
  readonly blocks: ReadonlyMap<number, Buffer>;
}

export class FakeEbs {
  readonly requests = { list: 0, get: 0, throttled: 0 };
  /** Block reads per index. */
  readonly reads = new Map<number, number>();
  private readonly snapshots = new Map<string, FakeSnapshot>();
  private readonly corrupted = new Set<number>();
  private throttles = 0;
  private denied = false;
  private server: Server | undefined;

  /** Adds a snapshot: `blocks` maps block index to its bytes (EBS_BLOCK long); the rest were never written. */
  addSnapshot(id: string, volumeGiB: number, blocks: ReadonlyMap<number, Buffer>): this {
    this.snapshots.set(id, { volumeGiB, blocks });
    return this;
  }

  corrupt(index: number): void {
    this.corrupted.add(index);
  }

  throttle(n: number): void {
    this.throttles = n;
  }

  deny(): void {
    this.denied = true;
  }

  /** Starts listening on 127.0.0.1; returns the endpoint URL. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const error = (status: number, type: string, message: string): void => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
        res.end(JSON.stringify({ message, Message: message }));
      };
      if (this.denied) return error(403, 'AccessDeniedException', 'User is not authorized to perform: ebs:ListSnapshotBlocks');
      if (this.throttles > 0) {
        this.throttles -= 1;
        this.requests.throttled += 1;
        return error(400, 'ThrottlingException', 'Rate exceeded');
      }
      const m = /^\/snapshots\/([^/]+)\/blocks(?:\/(\d+))?$/.exec(url.pathname);
      const snap = m ? this.snapshots.get(decodeURIComponent(m[1]!)) : undefined;
      if (!m || !snap) return error(404, 'ResourceNotFoundException', `The snapshot '${m?.[1] ?? ''}' does not exist.`);
      const id = decodeURIComponent(m[1]!);
      const indices = [...snap.blocks.keys()].sort((a, b) => a - b);
      if (m[2] === undefined) {
        this.requests.list += 1;
        const max = Number(url.searchParams.get('maxResults') ?? 10_000);
        const start = Number(url.searchParams.get('pageToken') ?? 0);
        const page = indices.slice(start, start + max);
        const body = {
          Blocks: page.map((index) => ({ BlockIndex: index, BlockToken: tokenOf(id, index) })),
          ExpiryTime: 1_900_000_000,
          VolumeSize: snap.volumeGiB,
          BlockSize: EBS_BLOCK,
          ...(start + max < indices.length ? { NextToken: String(start + max) } : {}),
        };
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(body));
      }
      this.requests.get += 1;
      const index = Number(m[2]);
      const bytes = snap.blocks.get(index);
      if (bytes === undefined || url.searchParams.get('blockToken') !== tokenOf(id, index)) {
        return error(400, 'ValidationException', 'The block token is not valid.');
      }
      this.reads.set(index, (this.reads.get(index) ?? 0) + 1);
      const checksum = createHash('sha256').update(bytes).digest('base64');
      const sent = Buffer.from(bytes);
      if (this.corrupted.has(index)) sent[100] = sent[100]! ^ 0x01;
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'x-amz-Data-Length': String(sent.length),
        'x-amz-Checksum': checksum,
        'x-amz-Checksum-Algorithm': 'SHA256',
      });
      res.end(sent);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function tokenOf(snapshot: string, index: number): string {
  return Buffer.from(`${snapshot}:${index}`).toString('base64url');
}

/** A block of EBS_BLOCK bytes: `seed` repeated, so each block's bytes differ. */
export function ebsBlock(seed: string): Buffer {
  return Buffer.alloc(EBS_BLOCK, seed);
}
