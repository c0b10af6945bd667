/** `amber rules`: every detection Amber would run, and for each Sigma rule that cannot run, the exact reason. */
import { loadCatalogue } from '../../shared/detections/catalogue.ts';
import type { DetectionParameter } from '../../shared/detections/parameters.ts';
import { ExitCode } from '../../shared/errors.ts';
import { loadSigmaRules, type RuleEntry } from '../../shared/sigma/rules.ts';
import type { Values } from '../amber.ts';
import { optionalString } from './args.ts';
import { t, type Io } from './io.ts';

/** Runs `amber rules`. */
export async function runRules(values: Values, _positionals: string[], io: Io): Promise<number> {
  const catalogue: Array<RuleEntry & { parameters?: readonly DetectionParameter[]; stratus?: readonly string[] }> = (await loadCatalogue()).map((d) => ({
    id: d.id,
    title: d.title,
    origin: 'catalogue',
    logsource: d.table,
    status: 'ok',
    reason: null,
    mitre: d.mitre,
    ...(d.stratus?.length ? { stratus: d.stratus } : {}),
    ...(d.parameters ? { parameters: d.parameters } : {}),
  }));
  const dir = optionalString(values, 'sigma');
  const sigma = dir === undefined ? [] : (await loadSigmaRules(dir)).entries;
  const all = [...catalogue, ...sigma];
  if (values.json) {
    io.out(`${JSON.stringify(all, null, 2)}\n`);
    return ExitCode.ok;
  }
  const lines = all.map(
    (r: RuleEntry & { parameters?: readonly DetectionParameter[]; stratus?: readonly string[] }) =>
      `  ${r.status === 'ok' ? 'ok         ' : 'unsupported'}  ${r.origin.padEnd(9)}  ${t(r.logsource).padEnd(22)}  ${t(r.id)}  ${t(r.title)}${r.mitre.length ? ` [${r.mitre.join(', ')}]` : ''}${r.reason ? `\n               reason: ${t(r.reason)}` : ''}` +
      (r.stratus?.length ? `\n               Stratus Red Team: ${r.stratus.join(', ')}` : '') +
      (r.parameters ?? []).map((p) => `\n               --param ${r.id}.${p.name}=${p.type.toUpperCase()} (default ${String(p.default)}): ${t(p.description)}`).join(''),
  );
  const ok = sigma.filter((r) => r.status === 'ok').length;
  const head = `${catalogue.length} catalogue detections${dir === undefined ? '' : `; ${sigma.length} Sigma rules under ${t(dir)}: ${ok} compiled, ${sigma.length - ok} unsupported`}`;
  io.out(`${head}\n${lines.join('\n')}\n`);
  return ExitCode.ok;
}
