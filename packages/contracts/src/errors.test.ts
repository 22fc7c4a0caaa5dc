import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from './errors.js';

describe('error catalogue', () => {
  it('docs/errors.md lists every code with its status, and nothing else', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z_]+)` \| (\d+|—) \| ([a-z_]+) \|/gm)].map((m) => [m[1], m[2], m[3]]);
    const want = Object.entries(ERROR_CATALOGUE).map(([code, v]) => [code, v.type === 'job_error' ? '—' : String(v.status), v.type]);
    expect(rows).toEqual(want);
  });
});
