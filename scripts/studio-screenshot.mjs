// The README's screenshot of the studio (docs/studio.png): a private stack, a draft promoted
// to a final, the page at a laptop width. Run: node scripts/studio-screenshot.mjs [out.png]
import { statSync } from 'node:fs';
import path from 'node:path';
import { startPrivateStack, ROOT } from '../bench/lib.mjs';
import { launchChromium } from './chromium.mjs';

const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'docs', 'studio.png'));
const stack = await startPrivateStack({ workers: 1 });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  await page.goto(`${stack.url}/#key=${encodeURIComponent(stack.apiKey)}`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.fill('#prompt', 'two red circles moving right on a blue background');
  await page.fill('#seed', '7');
  await page.fill('#campaign', 'launch');
  await page.click('#submit');
  await page.waitForFunction(() => (document.querySelector('#current video')?.videoWidth ?? 0) > 0, undefined, { timeout: 90_000 });
  await page.click('#current [data-action=promote]');
  await page.waitForFunction(() => (document.querySelector('#compare .final-side video')?.videoWidth ?? 0) > 0, undefined, { timeout: 90_000 });
  await page.fill('#prompt', 'a grey circles moving zorblax');
  await page.waitForSelector('#check mark.unknown');
  // Pause the clips on a frame where the shapes are in view, so the picture is stable.
  await page.evaluate(() => document.querySelectorAll('video').forEach((v) => { v.pause(); v.currentTime = 0.5; }));
  await page.waitForTimeout(300);
  await page.screenshot({ path: out, type: 'png' });
  console.log(`${path.relative(process.cwd(), out)}: ${statSync(out).size} bytes`);
} finally {
  await browser.close();
  await stack.stop();
}
