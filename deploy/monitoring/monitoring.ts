import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';

const here = (f: string) => new URL(f, import.meta.url);

/** Every PromQL expression shipped in deploy/: dashboard targets and variables, alert and recording rules, KEDA triggers. */
export function shippedQueries(): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const dash = JSON.parse(readFileSync(here('dashboard.json'), 'utf8'));
  for (const p of dash.panels) for (const t of p.targets) out.push({ where: `dashboard "${p.title}" ${t.refId}`, expr: t.expr });
  for (const v of dash.templating.list) if (v.type === 'query') out.push({ where: `dashboard variable ${v.name}`, expr: v.query.query.replace(/^label_values\(([^,]+),.*\)$/, '$1') });
  for (const g of parse(readFileSync(here('rules.yaml'), 'utf8')).groups) {
    for (const r of g.rules) out.push({ where: `rule ${r.alert ?? r.record}`, expr: r.expr });
  }
  for (const d of parseAllDocuments(readFileSync(here('../base/scaling.yaml'), 'utf8'))) {
    const o = d.toJS();
    for (const t of o?.spec?.triggers ?? []) if (t.type === 'prometheus') out.push({ where: `KEDA ${o.metadata.name}`, expr: t.metadata.query });
  }
  return out;
}
