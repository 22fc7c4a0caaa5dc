#!/usr/bin/env node
// Draft a list of captions cheaply, pick one, and promote it to a final render.
//
//   CLICKVID_API_URL=… CLICKVID_API_KEY=… node examples/draft-and-promote.mjs [--pick N] [--out final.mp4]
//
// With `npm start` running, the URL and key come from .clickvid/dev.json.
import { existsSync, readFileSync } from 'node:fs';
import { Clickvid } from '@clickvid/sdk';

const captions = [
  'two red circles moving right on a blue background',
  'a yellow triangle spinning on a black background',
  'three green squares bouncing on a white background',
  'a purple circle growing on an orange background',
];
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};

function clientFromEnvOrDevJson() {
  if (process.env.CLICKVID_API_KEY) return new Clickvid();
  const dev = '.clickvid/dev.json';
  if (!existsSync(dev)) throw new Error('set CLICKVID_API_URL and CLICKVID_API_KEY, or run `npm start` first');
  const { url, apiKey } = JSON.parse(readFileSync(dev, 'utf8'));
  return new Clickvid({ baseUrl: url, apiKey });
}

const client = clientFromEnvOrDevJson();
const seed = 20261124;

// 1. Draft every caption at once: drafts are cheap and batch together on the worker.
const drafts = await Promise.all(captions.map((prompt) => client.generate({ prompt, seed, metadata: { campaign: 'example' } })));
const done = await Promise.all(drafts.map((d) => client.jobs.wait(d.id, { timeoutMs: 120_000 })));
for (const [i, job] of done.entries()) {
  console.log(`draft ${i}: ${job.id} ${job.status} ${job.params.width}x${job.params.height} ${job.usage?.gpu_seconds.toFixed(4)} gpu-s  "${job.prompt}"`);
}

// 2. Pick one: here by index (a person would watch the drafts), defaulting to the first.
const pick = done[Number(arg('pick', '0'))];
if (!pick) throw new Error(`--pick must be 0..${done.length - 1}`);

// 3. Promote it: same prompt, seed and framing, at final quality. Safe to retry: idempotent per (job, quality).
const final = await client.jobs.promote(pick.id, { quality: 'final' });
const rendered = await client.jobs.wait(final.id, { timeoutMs: 300_000 });
const out = arg('out', 'final.mp4');
const file = await client.assets.download(rendered.assets.video, out);
console.log(JSON.stringify({ picked: pick.id, final: rendered.id, parent_job_id: rendered.parent_job_id, file: file.path, bytes: file.bytes, gpu_seconds: rendered.usage?.gpu_seconds }));
