/**
 * Suppression of known automation: a file the responder keeps (YAML or JSON) listing rules, each with the
 * reason it is safe to leave its findings out. Suppressed findings are not dropped: they are reported apart,
 * with the rule that matched, so the decision stays visible and reviewable.
 *
 * ```yaml
 * suppress:
 *   - userAgent: "terraform/"              # substring of the cited record's user agent
 *     reason: our Terraform pipeline
 *   - userAgentPattern: "^aws-sdk-go/.* ci-runner$"   # regular expression
 *     detection: access-key-many-ips        # optional: only this detection's findings
 *     reason: CI runners share one key by design
 *   - principal: arn:aws:iam::111122223333:role/backup   # the finding's actor, exactly
 *     reason: the backup role
 * ```
 * Every field a rule gives must match (they are ANDed); a rule names at least one of userAgent,
 * userAgentPattern, principal, detection.
 */
import { parse as parseYaml } from 'yaml';
import { InvalidInputError } from '../errors.ts';
import type { Finding } from './run.ts';

export interface SuppressionRule {
  /** Position of the rule in the file, from 1, so the responder finds it. */
  readonly rule: number;
  readonly reason: string;
  readonly userAgent?: string;
  readonly userAgentPattern?: string;
  readonly principal?: string;
  readonly detection?: string;
}

export interface Suppressions {
  readonly rules: readonly SuppressionRule[];
  /** SHA-256 of the file's bytes, recorded in the custody ledger beside the run it shaped. */
  readonly sha256: string;
  readonly file: string;
}

export interface SuppressedFinding {
  readonly finding: Finding;
  readonly rule: SuppressionRule;
}

const FIELDS = ['reason', 'userAgent', 'userAgentPattern', 'principal', 'detection'] as const;
const MATCHERS = ['userAgent', 'userAgentPattern', 'principal', 'detection'] as const;

/** Parses a suppression file's text; errors name the file, the rule and the fix. */
export function parseSuppressions(text: string, file: string, sha256: string): Suppressions {
  let doc: unknown;
  try {
    // YAML is a superset of JSON: one parser reads both.
    doc = parseYaml(text);
  } catch (error) {
    throw new InvalidInputError(`${file}: not YAML or JSON (${(error as Error).message})`, { hint: 'write `suppress:` followed by a list of rules, each with a reason' });
  }
  const list = (doc as { suppress?: unknown } | null)?.suppress;
  if (!Array.isArray(list)) throw new InvalidInputError(`${file}: no "suppress" list`, { hint: 'write `suppress:` followed by a list of rules, each with a reason and a userAgent, userAgentPattern, principal or detection' });
  const rules = list.map((raw: unknown, i): SuppressionRule => {
    const where = `${file}: suppression rule ${i + 1}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidInputError(`${where} is not a mapping`, { hint: 'each rule is a mapping such as {userAgent: "terraform/", reason: "our pipeline"}' });
    const r = raw as Record<string, unknown>;
    const unknown = Object.keys(r).filter((k) => !(FIELDS as readonly string[]).includes(k));
    if (unknown.length > 0) throw new InvalidInputError(`${where} has unknown field(s) ${unknown.join(', ')}`, { hint: `use only ${FIELDS.join(', ')}` });
    for (const k of FIELDS) {
      if (k in r && (typeof r[k] !== 'string' || !(r[k] as string).trim())) throw new InvalidInputError(`${where}: "${k}" must be a non-empty string`, { hint: 'quote the value' });
    }
    if (!r.reason) throw new InvalidInputError(`${where} gives no reason`, { hint: 'add `reason:` saying why these findings are expected (it is shown beside every finding it suppresses)' });
    if (!MATCHERS.some((k) => k in r)) throw new InvalidInputError(`${where} matches nothing`, { hint: `give at least one of ${MATCHERS.join(', ')}` });
    if (typeof r.userAgentPattern === 'string') {
      try {
        new RegExp(r.userAgentPattern);
      } catch (error) {
        throw new InvalidInputError(`${where}: userAgentPattern is not a regular expression (${(error as Error).message})`, { hint: 'fix the pattern, or use userAgent for a plain substring' });
      }
    }
    return { rule: i + 1, ...(r as Omit<SuppressionRule, 'rule'>) };
  });
  return { rules, sha256, file };
}

/** The first rule a finding matches, if any. */
export function matchingRule(finding: Finding, rules: readonly SuppressionRule[]): SuppressionRule | undefined {
  return rules.find(
    (r) =>
      (r.detection === undefined || r.detection === finding.detection) &&
      (r.principal === undefined || r.principal === finding.actor) &&
      (r.userAgent === undefined || (finding.user_agent ?? '').includes(r.userAgent)) &&
      (r.userAgentPattern === undefined || new RegExp(r.userAgentPattern).test(finding.user_agent ?? '')),
  );
}

/** Splits findings into those kept and those a rule suppresses (order kept). */
export function applySuppressions(findings: readonly Finding[], rules: readonly SuppressionRule[]): { findings: Finding[]; suppressed: SuppressedFinding[] } {
  const kept: Finding[] = [];
  const suppressed: SuppressedFinding[] = [];
  for (const f of findings) {
    const rule = matchingRule(f, rules);
    if (rule) suppressed.push({ finding: f, rule });
    else kept.push(f);
  }
  return { findings: kept, suppressed };
}
