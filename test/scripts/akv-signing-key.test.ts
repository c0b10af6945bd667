/**
 * `--signing-key akv:...` on the command line: a malformed Key Vault key identifier is a usage error (exit 2)
 * naming the form to use, before any sign-in or write. (Signing itself is tested at the HTTP layer in
 * test/functions/azure/key-vault-signer.test.ts.)
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

describe('amber collect --signing-key akv:', () => {
  it.each(['akv:', 'akv:kv-amber/keys/amber-signing', 'akv:https://kv-amber.vault.azure.net/secrets/amber-signing'])('refuses %s with exit 2 and writes nothing', async (spec) => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'logs'));
    await writeFile(join(cwd, 'logs', 'a.jsonl'), '{"eventName":"GetObject"}\n');

    const run = await runCli(['collect', '--case', 'C', '--from', 'logs', '--signing-key', spec], { cwd });

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('is not a Key Vault key identifier');
    expect(run.stderr).toContain('https://<vault>.vault.azure.net/keys/<name>');
    expect(await readdir(cwd)).toEqual(['logs']);
  });
});
