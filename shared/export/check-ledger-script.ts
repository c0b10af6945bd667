/**
 * `check-ledger.sh` (beside this file), shipped in every export bundle: checks the custody ledger's hash chain,
 * its checkpoints and the sealed manifests with POSIX sh and standard tools only (coreutils sha256sum, cut, tail,
 * wc, sort, mktemp; sed, awk, grep, find, xargs), in a fixed number of processes for the chain however long it
 * is, so someone without Amber can run it. It relies on how Amber writes these files: one JSON entry per line,
 * each line ended by a line feed (LF), starting `{"seq":N,"prev":"<64 hex>","at":..,"action":..`; checkpoints as
 * one line `{"case":..,"seq":N,"sha256":"..","prev":{"seq":N,"sha256":".."}|null}`; a `sealed` entry's detail
 * naming `"manifest":"cases/<case>/_amber/...","sha256":".."` side by side.
 */
import { readFile } from 'node:fs/promises';

/** The script's exact bytes (part of the bundle and of SHA256SUMS). */
export async function checkLedgerScript(): Promise<Buffer> {
  return readFile(new URL('./check-ledger.sh', import.meta.url));
}
