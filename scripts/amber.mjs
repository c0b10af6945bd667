#!/usr/bin/env node
// Entry point of the `amber` command (package.json "bin"): loads the TypeScript CLI through tsx's loader,
// resolved from this file's own node_modules so `npx amber` works from any folder.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./amber.ts');
process.exitCode = await main(process.argv.slice(2));
