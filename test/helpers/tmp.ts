/** Temporary folders for tests, removed after each test file. */
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];
afterAll(async () => {
  for (const dir of made) {
    await makeWritable(dir);
    await rm(dir, { recursive: true, force: true });
  }
});

/** A fresh temporary folder, deleted when the test file ends. */
export async function tempDir(prefix = 'amber-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Evidence files are read-only; tests that tamper (and cleanup) need them writable again. */
export async function makeWritable(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return;
  await chmod(path, info.isDirectory() ? 0o755 : 0o644);
  if (info.isDirectory()) for (const name of await readdir(path)) await makeWritable(join(path, name));
}
