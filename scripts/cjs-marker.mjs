// Marks a package's CommonJS build (dist/cjs) as CommonJS. The packages are `"type": "module"`,
// so without this package.json Node (and TypeScript's node16 resolution) would read the
// `require` entry's .js and .d.ts files as ES modules.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = path.resolve(process.argv[2] ?? 'dist/cjs');
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
