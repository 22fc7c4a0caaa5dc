/**
 * Every example runs against a live local stack, as a user would run it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { api, ROOT, startStack, type Stack } from '../test/harness.js';

let stack: Stack;
const tmp = mkdtempSync(path.join(tmpdir(), 'cv-examples-'));
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.stop());

function run(cmd: string, args: string[], env: Record<string, string> = {}, cwd = ROOT) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(cmd, args, { cwd, env: { ...process.env, CLICKVID_API_URL: stack.url, CLICKVID_API_KEY: stack.apiKey, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('examples', () => {
  it('draft-and-promote.mjs drafts captions, picks one and promotes it to a final file', async () => {
    const out = path.join(tmp, 'final.mp4');
    const r = await run(process.execPath, ['examples/draft-and-promote.mjs', '--pick', '2', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(summary.parent_job_id).toBe(summary.picked);
    expect(existsSync(out)).toBe(true);
    const fin = (await api(stack, 'GET', `/v1/jobs/${summary.final}`)).body;
    expect(fin).toMatchObject({ quality: 'final', status: 'succeeded', prompt: 'three green squares bouncing on a white background' });
  }, 180_000);

  it('webhook-receiver.mjs verifies a real delivery and rejects a forged one', async () => {
    const p = spawn(process.execPath, ['examples/webhook-receiver.mjs', '--port', '0'], { cwd: ROOT, env: { ...process.env, CLICKVID_WEBHOOK_SECRET: stack.webhookSecret } });
    const lines: any[] = [];
    p.stdout.on('data', (d) => String(d).trim().split('\n').forEach((l) => lines.push(JSON.parse(l))));
    try {
      while (!lines[0]) await new Promise((r) => setTimeout(r, 20));
      const url = `${lines[0].listening}/hooks`;
      const forged = await fetch(url, { method: 'POST', body: '{}', headers: { 'webhook-id': 'msg_x', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' } });
      expect(forged.status).toBe(400);
      const job = (await api(stack, 'POST', '/v1/generate', { prompt: 'a red circle bouncing on a blue background', webhook_url: url })).body;
      const deadline = Date.now() + 30_000;
      while (!lines.some((l) => l.verified) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(lines.find((l) => l.verified)).toMatchObject({ verified: true, type: 'job.succeeded', job: job.id, status: 'succeeded' });
    } finally {
      p.kill('SIGTERM');
    }
  }, 60_000);

  it('the CI workflow renders the campaign with `clickvid batch`, and a re-run renders nothing twice', async () => {
    const wf = parse(readFileSync(path.join(ROOT, 'examples/ci/render-campaign.yml'), 'utf8'));
    const step = wf.jobs.render.steps.find((s: { name?: string }) => s.name === 'Render campaign');
    // The workflow's own command line, with `npx --yes clickvid` pointing at this checkout's CLI.
    const argv = (step.run as string).trim().split(/\s+/);
    expect(argv.slice(0, 4)).toEqual(['npx', '--yes', 'clickvid', 'batch']);
    const args = argv.slice(3).map((a) => a.replace(/^renders/, path.join(tmp, 'renders')));
    const first = await run(process.execPath, [path.join(ROOT, 'packages/cli/bin/run.js'), ...args], { CI: 'true' });
    expect(first.code, first.stderr + first.stdout).toBe(0);
    const junit = readFileSync(path.join(tmp, 'renders', 'junit.xml'), 'utf8');
    expect(junit).toContain('tests="4"');
    expect(junit).not.toMatch(/<failure/);
    const again = await run(process.execPath, [path.join(ROOT, 'packages/cli/bin/run.js'), ...args], { CI: 'true' });
    expect(again.code, again.stderr).toBe(0);
    const all = (await api(stack, 'GET', '/v1/jobs?limit=100')).body.data.filter((j: any) => j.metadata?.campaign !== 'example');
    const prompts = all.map((j: any) => `${j.prompt}|${j.params.seed}|${j.quality}`);
    const campaignRows = readFileSync(path.join(ROOT, 'examples/ci/campaign.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const row of campaignRows) {
      expect(prompts.filter((p: string) => p === `${row.prompt}|${row.seed}|${row.quality ?? 'draft'}`)).toHaveLength(1);
    }
  }, 180_000);
});
