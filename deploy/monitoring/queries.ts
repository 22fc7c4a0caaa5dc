/**
 * Checks PromQL written by hand (the dashboard, the alert rules, KEDA's queries) against
 * what the services really expose: every `clickvid_*` series a query names must exist in
 * a live exposition, with every label the query matches on or groups by.
 */

/** Labels Prometheus or the histogram type adds; a query may use them on any series. */
const IMPLICIT = new Set(['le', 'instance', 'pod', 'job', '__name__']);

export interface Reference {
  metric: string;
  labels: string[];
}

/** The `clickvid_*` series an expression names, with the labels it matches on, plus the labels it groups by. */
export function references(expr: string): { series: Reference[]; grouping: string[] } {
  const series: Reference[] = [];
  for (const m of expr.matchAll(/\b(clickvid_[a-z0-9_]+)\s*(\{([^}]*)\})?/g)) {
    const labels = [...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map((x) => x[1]!);
    series.push({ metric: m[1]!, labels });
  }
  const grouping = [...expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) =>
    m[1]!.split(',').map((s) => s.trim()).filter(Boolean),
  );
  return { series, grouping };
}

/** Series name → the label names it carries, from Prometheus text expositions. */
export function exposed(...texts: string[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s/.exec(line);
      if (!m) continue;
      const labels = out.get(m[1]!) ?? new Set<string>();
      for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(l[1]!);
      out.set(m[1]!, labels);
    }
  }
  return out;
}

/** What `expr` names that `series` lacks: unknown series, unknown labels on them, grouping labels none of them has. */
export function unknownIn(expr: string, series: Map<string, Set<string>>): string[] {
  const { series: refs, grouping } = references(expr);
  const problems: string[] = [];
  for (const r of refs) {
    const labels = series.get(r.metric);
    if (!labels) {
      problems.push(`no series ${r.metric}`);
      continue;
    }
    for (const l of r.labels) if (!IMPLICIT.has(l) && !labels.has(l)) problems.push(`${r.metric} has no label ${l}`);
  }
  const all = new Set(refs.flatMap((r) => [...(series.get(r.metric) ?? [])]));
  for (const l of grouping) if (!IMPLICIT.has(l) && !all.has(l)) problems.push(`no series in "${expr.slice(0, 60)}…" has label ${l}`);
  return problems;
}
