/**
 * The studio page in a real browser (Debian's chromium through playwright-core) against live
 * stacks, local storage and S3 (s3rver): sign in, check a prompt, generate, watch the clip play
 * at its tier's size, promote and see the final beside the draft, find it again after a reload;
 * text stays text; and the page's strict CSP (with Trusted Types) reports no violation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM helper shared with scripts/studio-screenshot.mjs and bench/studio-load.mjs
import { launchChromium, watchCsp } from '../scripts/chromium.mjs';
import { api, startStack, waitJob, type Stack } from './harness.js';

const XSS_CAMPAIGN = '<img src=x onerror="window.__xss=1">';
const XSS_PROMPT = 'two red circles moving right <img src=x onerror="window.__xss=2"> on a blue background';
const XSS_REFUSED = '<script>window.__xss=true</script><img src=x onerror="window.__xss=true">';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

/** Tier widths as /v1/models gives them. */
async function tierWidths(stack: Stack): Promise<Record<string, number>> {
  const models = (await api(stack, 'GET', '/v1/models')).body;
  return Object.fromEntries(models.data[0].tiers.map((t: { quality: string; width: number }) => [t.quality, t.width]));
}

/** Waits until the video in `selector` has played past 0.3 s, and returns its intrinsic width. */
async function playingWidth(page: Page, selector: string): Promise<number> {
  await page.waitForFunction(
    (sel) => {
      const v = document.querySelector<HTMLVideoElement>(sel);
      return !!v && v.videoWidth > 0 && v.currentTime > 0.3;
    },
    selector,
    { timeout: 90_000, polling: 100 },
  );
  return page.$eval(selector, (v) => (v as HTMLVideoElement).videoWidth);
}

async function openSignedIn(page: Page, stack: Stack): Promise<void> {
  await page.goto(`${stack.url}/#key=${encodeURIComponent(stack.apiKey)}`);
  await page.waitForSelector('body[data-ready="true"]');
  // The key left the address bar at once: a fragment, and not kept in history.
  expect(new URL(page.url()).hash).toBe('');
}

async function generate(page: Page, prompt: string, campaign = ''): Promise<string> {
  await page.fill('#prompt', prompt);
  await page.fill('#campaign', campaign);
  await page.click('#submit');
  const card = await page.waitForSelector('#current article.job');
  return (await card.getAttribute('data-job-id'))!;
}

describe('the studio on local storage', () => {
  let stack: Stack;
  let page: Page;
  let csp: { violations(): Promise<string[]> };
  beforeAll(async () => {
    stack = await startStack();
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    csp = await watchCsp(page);
  });
  afterAll(async () => {
    await page?.close();
    await stack?.stop();
  });

  it('serves the page with a strict CSP built from the configuration, and Trusted Types', async () => {
    const res = await fetch(`${stack.url}/`);
    expect(res.status).toBe(200);
    const policy = res.headers.get('content-security-policy')!;
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain(`media-src 'self' ${stack.url}`);
    expect(policy).toContain("require-trusted-types-for 'script'");
    expect(policy).not.toContain('unsafe');
  });

  it('signs in with a key typed into the form, kept for the tab only', async () => {
    await page.goto(`${stack.url}/`);
    await page.waitForSelector('body[data-ready="signin"]');
    await page.fill('#apikey', 'cv_live_wrong');
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('#signin-form .err-code');
    expect(await page.textContent('#signin-form .err-code')).toBe('invalid_api_key');
    await page.fill('#apikey', stack.apiKey);
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual(['clickvid.apiKey']);
    expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
  });

  it('flags an unknown word and not the aliases and function words the model accepts', async () => {
    await openSignedIn(page, stack);
    await page.fill('#prompt', 'a grey circles moving zorblax on the blue background');
    await page.waitForSelector('#check mark.unknown');
    const flagged = await page.$$eval('#check mark.unknown', (ms) => ms.map((m) => m.textContent));
    expect(flagged).toEqual(['zorblax']);
    expect(await page.textContent('#check .estimate')).toMatch(/credits/);
  });

  it('generates a draft that plays at the draft width, then a final beside it at the final width', async () => {
    const widths = await tierWidths(stack);
    const streams: string[] = [];
    const onRequest = (r: { url(): string }) => {
      const p = new URL(r.url()).pathname;
      if (p.endsWith('/events')) streams.push(p);
    };
    page.on('request', onRequest);
    await openSignedIn(page, stack);
    const draftId = await generate(page, 'two red circles moving right on a blue background', XSS_CAMPAIGN);
    expect(await playingWidth(page, '#current video.clip')).toBe(widths.draft);
    // Metadata is text: the payload is shown, not run.
    expect(await page.textContent('#current .flag.campaign')).toBe(`campaign: ${XSS_CAMPAIGN}`);

    await page.click('#current [data-action=promote]');
    await page.waitForSelector('#compare:not([hidden]) .final-side');
    expect(await playingWidth(page, '#compare .final-side video.clip')).toBe(widths.final);
    expect(await page.$eval('#compare .draft-side', (e) => e.getAttribute('data-job-id'))).toBe(draftId);
    expect(await page.$eval('#compare .draft-side video', (v) => (v as HTMLVideoElement).videoWidth)).toBe(widths.draft);
    const finalId = await page.$eval('#compare .final-side', (e) => e.getAttribute('data-job-id'));
    // Both jobs were followed live over the team's one event stream, opened at sign-in: no stream per job.
    page.off('request', onRequest);
    expect(streams).toEqual(['/v1/events']);

    // After a reload the history finds the draft, and the lineage its final: no second promotion.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await page.click(`#grid li[data-job-id="${draftId}"] button`);
    await page.waitForSelector(`#compare .final-side[data-job-id="${finalId}"]`);
    const children = (await api(stack, 'GET', `/v1/jobs?parent=${draftId}`)).body.data;
    expect(children.map((j: { id: string }) => j.id)).toEqual([finalId]);
    // Posters in the grid came with the list: each loaded, none fetched per job through the API.
    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>('#grid img')).every((i) => i.complete && i.naturalWidth > 0));
    expect(await page.$$eval('#grid img', (is) => is.length)).toBeGreaterThanOrEqual(2);

    // "Edit" starts a new job from this one, seed kept.
    await page.click('#current [data-action=edit]');
    const seed = await page.inputValue('#seed');
    await page.fill('#prompt', 'two blue circles moving right on a blue background');
    await page.click('#submit');
    await page.waitForSelector(`#current article.job:not([data-job-id="${draftId}"])`);
    const editedId = await page.$eval('#current article.job', (e) => e.getAttribute('data-job-id'));
    const edited = await waitJob(stack, editedId!);
    expect(edited).toMatchObject({ status: 'succeeded', parent_job_id: draftId, params: { seed: Number(seed) } });
  });

  it('keeps prompts and a refused prompt\'s error message as text', async () => {
    await openSignedIn(page, stack);
    await generate(page, XSS_PROMPT);
    expect(await page.textContent('#current .prompt')).toBe(XSS_PROMPT);
    await page.fill('#prompt', XSS_REFUSED);
    await page.click('#submit');
    await page.waitForSelector('#check .refusal');
    const refusal = (await page.textContent('#check .refusal'))!;
    expect(refusal).toContain('prompt_not_understood');
    expect(refusal).toContain('<img src=x');
    expect(await page.$$eval('main img:not(#grid img)', (is) => is.length)).toBe(0);
    expect(await page.$$eval('main script', (s) => s.length)).toBe(0);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('answers a byte range with 206, and a download as an attachment', async () => {
    const jobs = (await api(stack, 'GET', '/v1/jobs?status=succeeded&limit=1')).body.data;
    const video = jobs[0].urls.video as string;
    const ranged = await fetch(video, { headers: { range: 'bytes=0-99' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toMatch(/^bytes 0-99\/\d+$/);
    expect((await ranged.arrayBuffer()).byteLength).toBe(100);
    const asset = (await api(stack, 'GET', `/v1/assets/${jobs[0].assets.video}?download=1`)).body;
    const dl = await fetch(asset.url);
    expect(dl.headers.get('content-disposition')).toMatch(/^attachment; filename="job_[0-9a-z]+\.mp4"$/);
  });

  it('saw no CSP or Trusted Types violation', async () => {
    expect(await csp.violations()).toEqual([]);
  });
});

describe('the studio on S3 storage (s3rver)', () => {
  let stack: Stack;
  let s3: { close(): Promise<void> };
  let s3dir: string;
  let s3url: string;
  beforeAll(async () => {
    s3dir = mkdtempSync(path.join(tmpdir(), 'cv-studio-s3-'));
    s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3dir, configureBuckets: [{ name: 'renders' }] });
    const { port } = await (s3 as unknown as { run(): Promise<{ port: number }> }).run();
    s3url = `http://127.0.0.1:${port}`;
    stack = await startStack({
      env: {
        CLICKVID_STORAGE: 's3',
        CLICKVID_S3_BUCKET: 'renders',
        CLICKVID_S3_ENDPOINT: s3url,
        CLICKVID_S3_FORCE_PATH_STYLE: 'true',
        CLICKVID_S3_ACCESS_KEY_ID: 'S3RVER',
        CLICKVID_S3_SECRET_ACCESS_KEY: 'S3RVER',
        // One event stream per team, held by the test: the page's stream gets 429 too_many_streams.
        CLICKVID_SSE_MAX_STREAMS_PER_TEAM: '1',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await s3?.close();
    if (s3dir) rmSync(s3dir, { recursive: true, force: true });
  });

  it('plays the clip and shows posters from the bucket with zero CSP violations; the bucket answers ranges with 206', async () => {
    // The team's only event stream is taken: the page polls its job instead, and nothing breaks.
    const holder = new AbortController();
    const held = await fetch(`${stack.url}/v1/events`, { headers: { authorization: `Bearer ${stack.apiKey}` }, signal: holder.signal });
    expect(held.status).toBe(200);
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } }); // phone width
    const csp = await watchCsp(page);
    const policy = (await fetch(`${stack.url}/`)).headers.get('content-security-policy')!;
    expect(policy).toContain(`media-src 'self' ${s3url}`);
    expect(policy).toContain(`img-src 'self' ${s3url}`);
    await openSignedIn(page, stack);
    const widths = await tierWidths(stack);
    const id = await generate(page, 'a yellow triangle spinning on a black background', 'launch');
    expect(await playingWidth(page, '#current video.clip')).toBe(widths.draft);
    expect(await page.$eval('#current video.clip', (v) => new URL((v as HTMLVideoElement).currentSrc).origin)).toBe(s3url);
    await page.waitForFunction((jobId) => {
      const img = document.querySelector<HTMLImageElement>(`#grid li[data-job-id="${jobId}"] img`);
      return !!img && img.complete && img.naturalWidth > 0;
    }, id);
    // Nothing is wider than the phone's screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    const job = (await api(stack, 'GET', `/v1/jobs/${id}`)).body;
    const ranged = await fetch(job.urls.video, { headers: { range: 'bytes=10-19' } });
    expect(ranged.status).toBe(206);
    expect((await ranged.arrayBuffer()).byteLength).toBe(10);
    expect(await csp.violations()).toEqual([]);
    await page.close();
    holder.abort();
  });
});
