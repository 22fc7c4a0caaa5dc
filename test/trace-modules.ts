/**
 * A `node --import` preload that lists every module a process loads into the file named by
 * CV_TRACE: ES modules through a load hook (it runs on the hooks thread, hence a file), and
 * CommonJS modules from the require cache at exit (on Node 20 hooks do not see `require`).
 */
export const TRACE_HOOK = `
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const hook = \`
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.CV_TRACE, url + '\\\\n');
  return next(url, context);
}
\`;
register('data:text/javascript,' + encodeURIComponent(hook));
const require = createRequire(import.meta.url);
process.on('exit', () => appendFileSync(process.env.CV_TRACE, Object.keys(require.cache).join('\\n') + '\\n'));
`;
