import type { Clickvid } from '@clickvid/sdk/browser';
import { $, fill, h } from './dom.js';
import { errorView } from './errors.js';

/** Credits per day (a bar per day, split by quality) and per campaign, from GET /v1/usage. */
export async function renderSpend(client: Clickvid): Promise<void> {
  const chart = $('chart');
  let report;
  try {
    report = await client.usage.retrieve();
  } catch (err) {
    fill(chart, errorView(err));
    return;
  }
  const days = new Map<string, Map<string, number>>();
  const campaigns = new Map<string, number>();
  for (const r of report.data) {
    const day = days.get(r.day) ?? new Map<string, number>();
    day.set(r.quality, (day.get(r.quality) ?? 0) + r.credits);
    days.set(r.day, day);
    const c = r.campaign ?? '(none)';
    campaigns.set(c, (campaigns.get(c) ?? 0) + r.credits);
  }
  const max = Math.max(1e-9, ...[...days.values()].map((d) => [...d.values()].reduce((a, b) => a + b, 0)));
  const round = (n: number) => Math.round(n * 100) / 100;
  fill(
    chart,
    h('p', {}, `${report.from} to ${report.to}: ${report.totals.jobs} jobs, ${round(report.totals.gpu_seconds)} GPU-s, ${round(report.totals.credits)} credits`),
    days.size === 0
      ? h('p', { class: 'muted', text: 'No spend yet.' })
      : h(
          'ul',
          { class: 'bars', attrs: { 'aria-label': 'Credits per day, by quality' } },
          ...[...days.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, byQuality]) => {
            const total = [...byQuality.values()].reduce((a, b) => a + b, 0);
            const bar = h('span', { class: 'bar' });
            for (const [q, credits] of byQuality) {
              const seg = h('span', { class: `seg q-${q}`, attrs: { title: `${q}: ${round(credits)} credits` } });
              seg.style.width = `${(credits / max) * 100}%`;
              bar.append(seg);
            }
            return h('li', {}, h('span', { class: 'day', text: day }), bar, h('span', { class: 'num', text: `${round(total)}` }));
          }),
        ),
    h('p', { class: 'legend' }, ...['draft', 'standard', 'final'].map((q) => h('span', { class: `key q-${q}`, text: q }))),
    campaigns.size > 0 &&
      h(
        'table',
        {},
        h('caption', { text: 'Credits by campaign' }),
        h('thead', {}, h('tr', {}, h('th', { text: 'campaign', attrs: { scope: 'col' } }), h('th', { text: 'credits', attrs: { scope: 'col' } }))),
        h('tbody', {}, ...[...campaigns.entries()].map(([c, credits]) => h('tr', {}, h('td', { text: c }), h('td', { text: String(round(credits)) })))),
      ),
  );
}
