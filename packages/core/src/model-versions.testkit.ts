/**
 * Test helper (used by *.test.ts only): a models directory whose clickvid-shapes 2.0.0 names
 * clickvid-shapes-2.1 (2.1.0) as its canary. The model files are links to the shipped ones.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './config.js';

export function canaryModelsDir(share: number): string {
  const models = path.join(REPO_ROOT, 'models');
  const dir = mkdtempSync(path.join(tmpdir(), 'cv-canary-'));
  const stable = path.join(dir, 'clickvid-shapes');
  mkdirSync(stable);
  for (const f of readdirSync(path.join(models, 'clickvid-shapes'))) {
    if (f.endsWith('.onnx')) symlinkSync(path.join(models, 'clickvid-shapes', f), path.join(stable, f));
  }
  const manifest = JSON.parse(readFileSync(path.join(models, 'clickvid-shapes', 'manifest.json'), 'utf8')) as Record<string, unknown>;
  manifest['canary'] = { version: '2.1.0', share, model: 'clickvid-shapes-2.1' };
  writeFileSync(path.join(stable, 'manifest.json'), JSON.stringify(manifest, null, 2));
  symlinkSync(path.join(models, 'clickvid-shapes-2.1'), path.join(dir, 'clickvid-shapes-2.1'));
  return dir;
}
