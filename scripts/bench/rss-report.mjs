// Preloaded into a benchmarked child (node --import) when /usr/bin/time is absent: writes the child's own peak
// resident set size (process.resourceUsage().maxRSS, in KB) to the file named by AMBER_BENCH_RSS_FILE at exit.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  if (process.env.AMBER_BENCH_RSS_FILE) writeFileSync(process.env.AMBER_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS));
});
