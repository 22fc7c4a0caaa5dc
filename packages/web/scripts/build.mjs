// Builds the studio page to static files: dist/index.html and dist/studio/<name>-<hash>.{js,css}.
// One esbuild bundle (the SDK's browser entry and zod included, minified), no CDN, no
// framework. The server (packages/server routes/studio.ts) serves dist/ at `/`.
import { mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('..', import.meta.url));
const src = path.join(here, 'src');
const out = path.join(here, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(path.join(out, 'studio'), { recursive: true });

const result = await build({
  entryPoints: { app: path.join(src, 'main.ts'), style: path.join(src, 'style.css') },
  outdir: path.join(out, 'studio'),
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  conditions: ['browser'],
  legalComments: 'none',
  // See src/zod-lite.ts: zod's `z` namespace by name, so the bundle carries only what is used.
  plugins: [{ name: 'zod-lite', setup: (b) => b.onResolve({ filter: /^zod$/ }, () => ({ path: path.join(src, 'zod-lite.ts') })) }],
  metafile: true,
  logLevel: 'warning',
});

const names = Object.keys(result.metafile.outputs).map((f) => path.basename(f));
const js = names.find((n) => n.startsWith('app-') && n.endsWith('.js'));
const css = names.find((n) => n.startsWith('style-') && n.endsWith('.css'));
if (!js || !css) throw new Error(`esbuild wrote ${names.join(', ')}: no app-*.js or style-*.css`);
copyFileSync(path.join(src, 'icon.svg'), path.join(out, 'studio', 'icon.svg'));
const html = readFileSync(path.join(src, 'index.html'), 'utf8').replaceAll('%APP_JS%', `/studio/${js}`).replaceAll('%STYLE_CSS%', `/studio/${css}`);
writeFileSync(path.join(out, 'index.html'), html);
process.stdout.write(`studio: dist/index.html, dist/studio/${js}, dist/studio/${css}\n`);
