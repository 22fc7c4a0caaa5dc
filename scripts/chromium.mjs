// Debian's chromium, driven by playwright-core (which downloads no browser): shared by the
// studio's browser test, its screenshot script and bench/studio-load.mjs.
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Flags that keep a headless chromium quiet, offline and able to run as root in a container. */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--disable-quic', '--no-first-run',
  // A muted video autoplays in any case; this keeps a test from depending on the policy.
  '--autoplay-policy=no-user-gesture-required',
];

/** A headless chromium. */
export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/**
 * Records every Content-Security-Policy (and Trusted Types) violation a page reports, from its
 * first script on: the `securitypolicyviolation` events and the console errors chromium prints
 * for them. `violations()` lists what was seen so far.
 */
export async function watchCsp(page) {
  const seen = [];
  await page.addInitScript(() => {
    const w = /** @type {any} */ (window);
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
  });
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error' && /Content Security Policy|Trusted Type|TrustedHTML|TrustedScript/i.test(text)) seen.push(`console: ${text}`);
  });
  page.on('pageerror', (err) => {
    if (/Trusted|Content Security Policy|unsafe-eval/i.test(err.message)) seen.push(`pageerror: ${err.message}`);
  });
  return {
    async violations() {
      const events = await page.evaluate(() => /** @type {any} */ (window).__csp ?? []).catch(() => []);
      return [...seen, ...events];
    },
  };
}
