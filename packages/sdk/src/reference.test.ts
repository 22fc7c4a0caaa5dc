/**
 * docs/sdk-reference.md is rendered from the SDK's TSDoc: it must be current, and every public
 * export must be documented (the script treats TypeDoc's validation warnings as errors).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../../scripts/sdk-reference.mjs', import.meta.url));

it('docs/sdk-reference.md matches the TSDoc, and no public export is undocumented', async () => {
  const r = await promisify(execFile)(process.execPath, [SCRIPT, '--check']).then(
    (ok) => ({ code: 0, out: ok.stdout + ok.stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code ?? 1, out: `${err.stdout}${err.stderr}` }),
  );
  expect(r.code, r.out).toBe(0);
}, 180_000);
