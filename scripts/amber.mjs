#!/usr/bin/env node
// Entry point of the `amber` command (package.json "bin"): loads the TypeScript CLI through tsx's loader,
// resolved from this file's own node_modules so `npx amber` works from any folder.
import { register } from 'tsx/esm/api';

register();
// `amber timeline ... | head` closes the pipe early: that is the reader's choice, not a failure.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const { main } = await import('./amber.ts');
process.exitCode = await main(process.argv.slice(2));
