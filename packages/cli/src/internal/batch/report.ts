import type { BatchSummary } from './runner.js';

/** The summary as JUnit XML (one testcase per row), for CI test reporters. */
export function toJUnit(summary: BatchSummary): string {
  const time = summary.rows.reduce((s, r) => s + (r.seconds ?? 0), 0);
  const cases = summary.rows.map((r) => {
    const attrs = `classname="clickvid.batch" name="${esc(r.name)}" time="${(r.seconds ?? 0).toFixed(3)}"`;
    const props = `<system-out>${esc(`job ${r.job_id ?? '-'} file ${r.file} gpu-seconds ${r.gpu_seconds ?? 0}`)}</system-out>`;
    if (r.status === 'downloaded') return `    <testcase ${attrs}>${props}</testcase>`;
    if (r.status === 'skipped') return `    <testcase ${attrs}><skipped message="${esc(r.error?.message ?? 'skipped')}"/>${props}</testcase>`;
    const code = r.error?.code ?? r.status;
    return `    <testcase ${attrs}><failure type="${esc(code)}" message="${esc(r.error?.message ?? r.status)}"/>${props}</testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="clickvid batch" tests="${summary.total}" failures="${summary.failed}" skipped="${summary.skipped}" time="${time.toFixed(3)}">`,
    `  <testsuite name="${esc(summary.manifest.path)}" tests="${summary.total}" failures="${summary.failed}" skipped="${summary.skipped}" time="${time.toFixed(3)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function esc(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
    // XML 1.0 forbids most control characters even escaped.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
}
