// After `changeset version`: writes the SDK's version (sent in `user-agent`) from its package.json,
// so the constant never lags a release. A test in packages/sdk keeps the two equal.
import { readFileSync, writeFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../packages/sdk/package.json', import.meta.url), 'utf8'));
const file = new URL('../packages/sdk/src/version.ts', import.meta.url);
const text = readFileSync(file, 'utf8').replace(/VERSION = '[^']*'/, `VERSION = '${version}'`);
writeFileSync(file, text);
