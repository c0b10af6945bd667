/** Usage lines of `amber accept` and `amber recover`, kept apart so the command table loads nothing heavy at start-up. */
export const ACCEPT_USAGE = 'amber accept --case C --reason "why these failures are acceptable" [--locker DIR|s3://bucket] [--json]';
export const RECOVER_USAGE = 'amber recover --case C [--locker DIR|s3://bucket] [--json]';
