import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { avmlScript, memoryReport } from '../../../../shared/preservation/memory.ts';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/**
 * Runs the real AVML script with sh, with `aws` and the tool replaced by small local stand-ins on PATH: `aws s3 cp
 * SRC DST` copies between a folder playing the buckets and the instance (`-` reads stdin), and the "avml" binary
 * writes a synthetic image to the file it is given.
 */
describe('memory script: avml.sh.tmpl', () => {
  let dir: string;
  const image = 'synthetic memory image '.repeat(1000);
  const tool = `#!/bin/sh\nprintf '%s' '${image}' > "$1"\n`;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'amber-avml-'));
    execFileSync('mkdir', ['-p', `${dir}/bin`, `${dir}/s3/tools/avml`, `${dir}/s3/evidence`]);
    writeFileSync(`${dir}/s3/tools/avml/avml`, tool);
    writeFileSync(
      `${dir}/bin/aws`,
      `#!/bin/sh\n# aws s3 cp SRC DST [flags]\nroot='${dir}/s3'\nsrc="$3"; dst="$4"\ncase "$src" in s3://*) src="$root/\${src#s3://}";; esac\ncase "$dst" in s3://*) dst="$root/\${dst#s3://}"; mkdir -p "$(dirname "$dst")";; esac\nif [ "$src" = - ]; then cat > "$dst"; else cp "$src" "$dst"; fi\n`,
    );
    chmodSync(`${dir}/bin/aws`, 0o755);
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (script: string): { stdout: string; status: number } => {
    try {
      return { stdout: execFileSync('sh', ['-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH ?? ''}` } }), status: 0 };
    } catch (error) {
      const e = error as { stdout: string; status: number };
      return { stdout: e.stdout, status: e.status };
    }
  };

  it('streams the image to the evidence bucket and reports its SHA-256 when the tool matches its pin', async () => {
    const script = await avmlScript({ bucket: 'tools', key: 'avml/avml', sha256: sha(tool) }, 's3://evidence/staging/i-1/memory.lime');
    const { stdout, status } = run(script);
    expect(status).toBe(0);
    const uploaded = readFileSync(`${dir}/s3/evidence/staging/i-1/memory.lime`);
    expect(uploaded.toString('utf8')).toBe(image);
    expect(memoryReport(stdout)).toMatchObject({ 'tool-sha256': sha(tool), 'image-sha256': sha(uploaded) });
  });

  it('refuses to run a tool whose SHA-256 is not the pinned one, and streams nothing', async () => {
    const pinned = sha('the binary that was vetted');
    const script = await avmlScript({ bucket: 'tools', key: 'avml/avml', sha256: pinned }, 's3://evidence/staging/i-1/memory.lime');
    const { stdout, status } = run(script);
    expect(status).toBe(11);
    expect(memoryReport(stdout)).toMatchObject({ error: 'tool-hash-mismatch', expected: pinned, 'tool-sha256': sha(tool) });
    expect(() => readFileSync(`${dir}/s3/evidence/staging/i-1/memory.lime`)).toThrow();
  });
});
