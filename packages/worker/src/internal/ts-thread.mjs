// Test-only bootstrap: runs a worker thread's TypeScript module (argv[2]) through tsx, for code
// that is run from its sources (vitest). The built package loads the compiled .js directly.
import { register } from 'tsx/esm/api';

register();
await import(process.argv[2]);
