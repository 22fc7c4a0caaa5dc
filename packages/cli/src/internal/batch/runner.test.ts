import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Clickvid } from '@clickvid/sdk';
import { startFakeStack, VIDEO_BYTES, type FakeStack } from '../../../test/fake-stack.js';
import { readManifest } from './manifest.js';
import { toJUnit } from './report.js';
import { runBatch } from './runner.js';
import { STATE_FILE, type BatchState } from './state.js';

let stack: FakeStack;
let dir: string;
let client: Clickvid;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cv-batch-'));
});
afterEach(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

async function setup(lines: object[], opts: Parameters<typeof startFakeStack>[0] = {}) {
  stack = await startFakeStack(opts);
  client = new Clickvid({ apiKey: stack.apiKey, baseUrl: stack.url });
  const path = join(dir, 'manifest.jsonl');
  await writeFile(path, lines.map((l) => JSON.stringify(l)).join('\n'));
  return readManifest(path);
}

const rows = (n: number, extra: object = {}) => Array.from({ length: n }, (_, i) => ({ prompt: `shape ${i}`, name: `clip-${i}`, metadata: { campaign: 'c1' }, ...extra }));
const state = async (outDir: string) => JSON.parse(await readFile(join(outDir, STATE_FILE), 'utf8')) as BatchState;

describe('runBatch', () => {
  it('renders and downloads every row, records state, and reports', async () => {
    const manifest = await setup(rows(5));
    const outDir = join(dir, 'out');
    const seen: string[] = [];
    const summary = await runBatch({ client, manifest, outDir, concurrency: 2, onRow: (r, p) => seen.push(`${p.done}/${p.total} ${r.status}`) });
    expect(summary).toMatchObject({ total: 5, ok: 5, failed: 0, skipped: 0, gpu_seconds: 0.02 });
    expect(summary.error).toBeUndefined();
    expect(seen).toHaveLength(5);
    expect(seen.at(-1)).toBe('5/5 downloaded');
    expect((await readdir(outDir)).sort()).toEqual([STATE_FILE, 'clip-0.mp4', 'clip-1.mp4', 'clip-2.mp4', 'clip-3.mp4', 'clip-4.mp4']);
    expect(await readFile(join(outDir, 'clip-3.mp4'))).toEqual(VIDEO_BYTES);
    const s = await state(outDir);
    expect(s.rows.every((r) => r.status === 'downloaded' && r.job_id?.startsWith('job_'))).toBe(true);
    expect(s.manifest.sha256).toBe(manifest.sha256);
    const xml = toJUnit(summary);
    expect(xml).toContain('tests="5" failures="0"');
    expect(xml.match(/<testcase /g)).toHaveLength(5);
  });

  it('never renders a row twice: a re-run replays the same keys, --resume re-attaches and only fetches what is missing', async () => {
    const manifest = await setup(rows(4));
    const outDir = join(dir, 'out');
    await runBatch({ client, manifest, outDir });
    expect(stack.jobs.size).toBe(4);

    // A plain re-run sends the same keys: the server replays, no new job.
    await runBatch({ client, manifest, outDir });
    expect(stack.jobs.size).toBe(4);
    expect(new Set(stack.generateCalls.map((c) => c.key)).size).toBe(4);

    // --resume after losing one file and "crashing" before another row's download: no generate call at all.
    await unlink(join(outDir, 'clip-1.mp4'));
    const s = await state(outDir);
    s.rows[2]!.status = 'submitted';
    await writeFile(join(outDir, STATE_FILE), JSON.stringify(s));
    const calls = stack.generateCalls.length;
    const summary = await runBatch({ client, manifest, outDir, resume: true });
    expect(summary.ok).toBe(4);
    expect(stack.generateCalls.length).toBe(calls);
    expect(stack.jobs.size).toBe(4);
    expect(await readFile(join(outDir, 'clip-1.mp4'))).toEqual(VIDEO_BYTES);
  });

  it('resubmits a row whose submit was lost in a crash with the same key, so the server replays it', async () => {
    const manifest = await setup(rows(2));
    const outDir = join(dir, 'out');
    await runBatch({ client, manifest, outDir });
    const s = await state(outDir);
    const firstJob = s.rows[0]!.job_id;
    // The crash happened after the server accepted row 0, before the state file learnt its job id.
    Object.assign(s.rows[0]!, { status: 'pending', job_id: null });
    await writeFile(join(outDir, STATE_FILE), JSON.stringify(s));
    await unlink(join(outDir, 'clip-0.mp4'));
    const summary = await runBatch({ client, manifest, outDir, resume: true });
    expect(summary.ok).toBe(2);
    expect(stack.jobs.size).toBe(2);
    expect((await state(outDir)).rows[0]!.job_id).toBe(firstJob);
  });

  it('refuses --resume with a state file from another manifest', async () => {
    const manifest = await setup(rows(1));
    const outDir = join(dir, 'out');
    await runBatch({ client, manifest, outDir });
    await expect(runBatch({ client, manifest: { ...manifest, sha256: 'f'.repeat(64) }, outDir, resume: true })).rejects.toMatchObject({ code: 'manifest_changed' });
  });

  it('marks failed rows, keeps going, and reports batch_failed', async () => {
    const manifest = await setup([{ prompt: 'ok one' }, { prompt: 'FAIL this', name: 'bad' }, { prompt: 'ok two' }]);
    const summary = await runBatch({ client, manifest, outDir: join(dir, 'out') });
    expect(summary).toMatchObject({ ok: 2, failed: 1, error: { code: 'batch_failed' } });
    expect(summary.rows[1]).toMatchObject({ status: 'failed', error: { code: 'inference_failed' }, gpu_seconds: 0.004 });
    expect(toJUnit(summary)).toContain('<failure type="inference_failed"');
  });

  it('refuses to start when the local estimate is over the budget, submitting nothing', async () => {
    const manifest = await setup(rows(10), { msPerVideo: 100 }); // 0.1 gpu-s a row
    await expect(runBatch({ client, manifest, outDir: join(dir, 'out'), budgetGpuSeconds: 0.5 })).rejects.toMatchObject({ code: 'budget_exceeded' });
    expect(stack.generateCalls).toHaveLength(0);
  });

  it('stops submitting once actual spend reaches the budget', async () => {
    // The estimate (~0.02/row) fits the budget, but each job really costs 0.2.
    const manifest = await setup(rows(6), { msPerVideo: 10, gpuSecondsPerJob: 0.2 });
    const summary = await runBatch({ client, manifest, outDir: join(dir, 'out'), concurrency: 1, budgetGpuSeconds: 0.5 });
    expect(stack.generateCalls.length).toBeLessThan(6);
    expect(summary.gpu_seconds).toBeLessThanOrEqual(0.6);
    expect(summary).toMatchObject({ error: { code: 'budget_exceeded' } });
    expect(summary.skipped).toBe(6 - stack.generateCalls.length);
    expect(summary.estimate_gpu_seconds).toBeCloseTo(6 * (10 + 10.8192) / 1000, 5);
  });
});
