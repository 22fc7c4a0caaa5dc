// The studio page's first load under a throttled network and CPU (Chrome DevTools protocol:
// Network.emulateNetworkConditions, Emulation.setCPUThrottlingRate) in Debian's chromium:
// bytes over the wire (compressed, as sent) and time to interactive, i.e. from navigation to
// the page signed in with its form usable (body[data-ready=true]: models and vocabulary loaded).
// Each run is a fresh browser context (cold cache). A private stack with no worker (none is
// needed to load the page). Usage: node bench/studio-load.mjs [runs]
import { launchChromium } from '../scripts/chromium.mjs';
import { startPrivateStack } from './lib.mjs';

const runs = Number(process.argv[2] ?? 5);
/** DevTools' "Fast 4G" and "Slow 4G" presets (latency ms, throughput bytes/s), and a 4× slower CPU. */
const PROFILES = [
  { name: 'no throttling', latency: 0, down: -1, up: -1, cpu: 1 },
  { name: 'Slow 4G, CPU 4x', latency: 150, down: (1.6 * 1024 * 1024) / 8, up: (750 * 1024) / 8, cpu: 4 },
  { name: 'Fast 4G, CPU 4x', latency: 60, down: (9 * 1024 * 1024) / 8, up: (1.5 * 1024 * 1024) / 8, cpu: 4 },
];

const stack = await startPrivateStack({ workers: 0 });
const browser = await launchChromium();
try {
  for (const p of PROFILES) {
    const tti = [];
    let bytes = 0;
    let requests = 0;
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: p.latency, downloadThroughput: p.down, uploadThroughput: p.up });
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: p.cpu });
      let wire = 0;
      let n = 0;
      cdp.on('Network.loadingFinished', (e) => {
        wire += e.encodedDataLength;
        n++;
      });
      const t0 = Date.now();
      await page.goto(`${stack.url}/#key=${encodeURIComponent(stack.apiKey)}`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
      tti.push(Date.now() - t0);
      bytes = wire;
      requests = n;
      await context.close();
    }
    tti.sort((a, b) => a - b);
    const median = tti[Math.floor(tti.length / 2)];
    console.log(`${p.name}: first load ${(bytes / 1024).toFixed(1)} KiB over ${requests} requests (page, bundle, styles, icon, API calls); time to interactive median ${median} ms (min ${tti[0]}, max ${tti[tti.length - 1]}, ${runs} cold loads)`);
  }
} finally {
  await browser.close();
  await stack.stop();
}
