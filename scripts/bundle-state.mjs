// Whether the CLI bundle (dist/cli, built by scripts/build/cli.ts) is current: plain JavaScript, because
// scripts/amber.mjs asks before anything can load TypeScript.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The bundle is current when it exists and none of the package files it was built from (listed in
 * dist/cli/current.json) was modified or removed since its build started. A new source file counts through
 * the file that imports it.
 * @param {string} root the package root
 * @returns {{ current: true, entry: string } | { current: false, reason: string }}
 */
export function bundleState(root) {
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(join(root, 'dist', 'cli', 'current.json'), 'utf8'));
  } catch {
    return { current: false, reason: 'the CLI bundle (dist/cli) is not built' };
  }
  for (const file of inputs.files) {
    const found = statSync(join(root, file), { throwIfNoEntry: false });
    if (!found) return { current: false, reason: `${file}, which the CLI bundle was built from, is gone` };
    if (found.mtimeMs > inputs.builtAt) return { current: false, reason: `${file} changed after the CLI bundle was built` };
  }
  const entry = join(root, 'dist', 'cli', inputs.dir, 'amber.mjs');
  if (!statSync(entry, { throwIfNoEntry: false })) return { current: false, reason: `the CLI bundle ${entry} is missing` };
  return { current: true, entry };
}
