/**
 * Case names and evidence keys. Keys are `cases/<case>/<relative path>`; they keep the source's relative
 * path so Athena partition projection works on preserved data as on the source bucket.
 */
import { InvalidInputError } from '../errors.ts';

const CASE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Throws InvalidInputError unless `name` is a safe case name (no separators, no traversal). */
export function validateCaseName(name: string): string {
  if (!CASE_NAME.test(name) || name.includes('..')) {
    throw new InvalidInputError(`invalid case name ${JSON.stringify(name)}`, {
      hint: 'use 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit, without ".." (e.g. INC-2026-001)',
    });
  }
  return name;
}

/** Folder of a case in the locker. */
export function casePrefix(caseName: string): string {
  return `cases/${caseName}/`;
}

/** Key of the custody ledger of a case. */
export function ledgerKey(caseName: string): string {
  return `${casePrefix(caseName)}custody-ledger.jsonl`;
}

/** Amber's own bookkeeping under a case (manifests, checkpoints, findings, derived copies). */
export function amberPrefix(caseName: string): string {
  return `${casePrefix(caseName)}_amber/`;
}

/** Write-once journals of runs that append to the ledger (crash recovery tells interrupted runs from outside appends). */
export function runsPrefix(caseName: string): string {
  return `${amberPrefix(caseName)}runs/`;
}

/** Write-once records of verifications that found a case broken (kept outside the chain they judge). */
export function verificationsPrefix(caseName: string): string {
  return `${amberPrefix(caseName)}verifications/`;
}

/** Sealed manifests of a case. */
export function manifestsPrefix(caseName: string): string {
  return `${amberPrefix(caseName)}manifests/`;
}

/** Reason a relative path cannot be kept as-is, or undefined when it is fine. */
export function relPathProblem(relPath: string): string | undefined {
  if (relPath.length === 0) return 'empty path';
  if (relPath.startsWith('/')) return 'absolute path';
  if (relPath.includes('\\')) return 'backslash in path';
  if (relPath.includes('\u0000')) return 'NUL byte in path';
  const parts = relPath.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return 'empty, "." or ".." path segment';
  if (parts[0] === '_amber' || relPath === 'custody-ledger.jsonl') {
    return 'name reserved for the case\'s own records (custody-ledger.jsonl, _amber/)';
  }
  if (Buffer.byteLength(relPath) > 900) return 'path longer than 900 bytes (S3 keys are limited to 1024)';
  return undefined;
}

/** Evidence key for a source object's relative path. */
export function evidenceKey(caseName: string, relPath: string): string {
  return `${casePrefix(caseName)}${relPath}`;
}
