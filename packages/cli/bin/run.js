#!/usr/bin/env node
// Only oclif's entry point: commands are found through oclif.manifest.json (made at build),
// so `--version` and `--help` import no command, and each command imports what it uses.
import { execute } from '@oclif/core/execute';

await execute({ dir: import.meta.url });
