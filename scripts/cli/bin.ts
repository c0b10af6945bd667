/**
 * The `amber` process: what the bundle (dist/cli/amber.mjs) runs, and what scripts/amber.mjs runs through
 * tsx when the bundle is missing or older than the sources. Process-wide concerns only; the CLI is main().
 */
import { hideSdkNodeVersionWarning } from './warnings.ts';

// Before anything can load the AWS SDK (main() loads it lazily, for s3:// lockers and sources only).
hideSdkNodeVersionWarning();
// `amber timeline ... | head` closes the pipe early: that is the reader's choice, not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const { main } = await import('../amber.ts');
process.exitCode = await main(process.argv.slice(2));
