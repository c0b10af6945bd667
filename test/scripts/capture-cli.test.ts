import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

describe('amber capture: usage', () => {
  it('refuses a folder locker, saying SSM needs an s3:// one', async () => {
    const cwd = await tempDir();
    const run = await runCli(['capture', '--case', 'INC-1', '--instance', 'i-0123456789abcdef0', '--locker', 'evidence'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('amber capture needs an s3:// locker, got "evidence"');
    expect(run.stderr).toContain('--locker s3://evidence-bucket');
  });

  it('refuses --memory without a pinned AVML', async () => {
    const cwd = await tempDir();
    const run = await runCli(['capture', '--case', 'INC-1', '--instance', 'i-0123456789abcdef0', '--memory', '--locker', 's3://evidence-bucket'], { cwd });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--memory on Linux needs --avml s3://tools-bucket/path/avml and --avml-sha256 HEX');
  });

  it('refuses --memory on Windows without a pinned WinPmem, and a pin that is not a SHA-256', async () => {
    const cwd = await tempDir();
    const base = ['capture', '--case', 'INC-1', '--instance', 'i-0123456789abcdef0', '--platform', 'windows', '--memory', '--locker', 's3://evidence-bucket'];
    const missing = await runCli(base, { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--memory on Windows needs --winpmem s3://tools-bucket/path/winpmem.exe and --winpmem-sha256 HEX');
    const unpinned = await runCli([...base, '--winpmem', 's3://amber-tools/winpmem.exe', '--winpmem-sha256', 'latest'], { cwd });
    expect(unpinned.code).not.toBe(0);
    expect(unpinned.stderr).toContain('WinPmem: sha256 "latest" is not 64 lowercase hex digits');
  });

  it('refuses something that is not an instance id before any call', async () => {
    const cwd = await tempDir();
    const run = await runCli(['capture', '--case', 'INC-1', '--instance', 'web-1', '--locker', 's3://evidence-bucket'], { cwd });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('"web-1" is not an instance id');
  });
});
