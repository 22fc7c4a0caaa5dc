// Writes oclif.manifest.json at build time, as `oclif manifest` does, without the `oclif`
// dev tool (its publishing half pulls in a large dependency tree). With the manifest, the
// installed CLI lists commands and prints help and its version without importing any
// command module: those (and the SDK, undici, zod, ora and chalk behind them) load only
// for the command that runs.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Plugin } from '@oclif/core';

const root = fileURLToPath(new URL('..', import.meta.url));
const plugin = new Plugin({ root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true });
await plugin.load();
const commands = Object.keys(plugin.manifest.commands);
if (commands.length === 0) throw new Error('oclif found no commands: build dist/commands first');
writeFileSync(new URL('../oclif.manifest.json', import.meta.url), `${JSON.stringify(plugin.manifest, null, 2)}\n`);
process.stdout.write(`oclif.manifest.json: ${commands.length} commands\n`);
