/** Whether the CLI bundle (dist/cli) is current, and its entry file when it is; see bundle-state.mjs. */
export function bundleState(root: string): { current: true; entry: string } | { current: false; reason: string };
