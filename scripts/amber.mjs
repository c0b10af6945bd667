#!/usr/bin/env node
// Entry point of the `amber` command (package.json "bin"; `npx amber` works from any folder: every path
// here is relative to this file).
//
// It runs the JavaScript bundle dist/cli/<build>/amber.mjs (scripts/build/cli.ts; `npm ci` builds it through the
// `prepare` script) when the bundle is current: no TypeScript is compiled at start-up. When the bundle is
// missing or older than any source it was built from, it runs the TypeScript sources through tsx instead,
// which is slower to start but always runs the code as it is on disk. It does not rebuild instead: a
// rebuild would write into the installed package (perhaps read-only, perhaps raced by a second `amber`
// started at the same time) and needs esbuild, a devDependency; tsx is a dependency.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleState } from './bundle-state.mjs';

const state = bundleState(fileURLToPath(new URL('..', import.meta.url)));
if (state.current) {
  await import(pathToFileURL(state.entry).href);
} else {
  // On a terminal only: scripts and pipes get exactly the command's own output.
  if (process.stderr.isTTY) process.stderr.write(`amber: ${state.reason}; running the TypeScript sources (slower start). \`npm run build\` makes it fast again.\n`);
  const { register } = await import('tsx/esm/api');
  register();
  await import('./cli/bin.ts');
}
