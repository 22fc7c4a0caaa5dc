import { config } from './zod-lite.js';

// zod 4 compiles object parsers with `new Function` when it may; under this page's CSP that
// is a violation (and a Trusted Types error). Interpreted parsing is plenty for a page.
config({ jitless: true });
