/**
 * Canary models end to end: a manifest naming clickvid-shapes 2.1.0 as its canary at 20 %,
 * 400 drafts with distinct prompt and seed pairs through the real server and worker. The two
 * versions draw different pixels for the same prompt and seed, so each job's poster (its middle
 * frame as a PNG, written byte-exactly in JS) tells which version's files ran.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ModelVersions, routePoint } from '@clickvid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../packages/cli/test/run-cli.js';
import { canaryModelsDir } from '../packages/core/src/model-versions.testkit.js';
import { InferenceEngine } from '../packages/worker/src/engine.js';
import { encodePng } from '../packages/worker/src/internal/png.js';
import { api, startStack, waitJob, type Stack } from './harness.js';
import { TRACE_HOOK } from './trace-modules.js';

const SHARE = 0.2;
const COLOURS = ['red', 'blue', 'green', 'yellow'];
const SHAPES = ['circle', 'square', 'triangle'];
const MOTIONS = ['left', 'right', 'up', 'down'];
/** 400 distinct (prompt, seed) pairs: 48 prompts, seeds per prompt so that no pair repeats. */
const PAIRS = Array.from({ length: 400 }, (_, i) => {
  const p = i % 48;
  const prompt = `a ${COLOURS[p % 4]} ${SHAPES[Math.floor(p / 4) % 3]} moving ${MOTIONS[Math.floor(p / 12) % 4]} on a white background`;
  return { prompt, seed: 1000 + i };
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let stack: Stack;
let stopped = false;
let modelsDir: string;
let versions: ModelVersions;
const traceLog = path.join(tmpdir(), `cv-canary-modules-${process.pid}.txt`);
const hook = path.join(tmpdir(), `cv-canary-hook-${process.pid}.mjs`);

beforeAll(async () => {
  modelsDir = canaryModelsDir(SHARE);
  versions = ModelVersions.load(modelsDir, 'clickvid-shapes');
  writeFileSync(hook, TRACE_HOOK);
  stack = await startStack({
    env: {
      CLICKVID_MODELS_DIR: modelsDir,
      CLICKVID_MODEL: 'clickvid-shapes',
      // 400 drafts at once: no degraded (half-fps) drafts, no rate limit in the way.
      CLICKVID_DRAFT_WAIT_BUDGET_MS: '600000',
      CLICKVID_RATE_LIMIT_PER_MIN: '1000000',
      CLICKVID_RATE_LIMIT_CONTENT_PER_MIN: '1000000',
      // Every module the server and worker load, to show that tracing off loads no OpenTelemetry.
      NODE_OPTIONS: `--import ${hook}`,
      CV_TRACE: traceLog,
    },
  });
}, 120_000);

afterAll(async () => {
  if (!stopped) await stack?.stop();
  rmSync(modelsDir, { recursive: true, force: true });
  rmSync(hook, { force: true });
});

/** The poster each version draws for each pair: its draft rendered here (8 to a call), the middle frame as the worker's PNG. */
async function expectedPosters(pairs: typeof PAIRS): Promise<Map<string, Record<string, string>>> {
  const regs = new Map(versions.served().map((v) => [v.registry.version, v.registry] as const));
  const engine = new InferenceEngine({
    resolveVariant: (version) => {
      const r = regs.get(version)!;
      return r.variant(r.tier('draft').variant);
    },
    intraOpNumThreads: 1,
  });
  const out = new Map<string, Record<string, string>>(pairs.map((p) => [`${p.prompt}|${p.seed}`, {}]));
  try {
    for (const [version, r] of regs) {
      for (let i = 0; i < pairs.length; i += 8) {
        const part = pairs.slice(i, i + 8);
        // Every pair is a default draft: the same frames.
        const ps = part.map(({ seed }) => r.resolveParams('draft', { seed }, () => seed));
        // A job's pixels do not depend on its batch mates (the engine's frame quantum), so 8 to a call is safe.
        // Only the 4 frames around the poster's: a frame's bytes are the same in any call of 4k frames.
        const p = ps[0]!;
        const mid = Math.floor((p.frames - 1) / 2);
        const from = mid - (mid % 4);
        const res = await engine.run(version, part.map(({ prompt, seed }) => ({ tokens: r.encodePrompt(prompt).tokens, noise: r.noise(seed), times: r.times(p.frames).subarray(from, from + 4) })));
        const frameBytes = p.width * p.height * 3;
        part.forEach(({ prompt, seed }, k) => {
          const at = mid - from;
          out.get(`${prompt}|${seed}`)![version] = sha(encodePng(res.videos[k]!.subarray(at * frameBytes, (at + 1) * frameBytes), p.width, p.height));
        });
      }
    }
  } finally {
    await engine.close();
  }
  return out;
}

/** The poster's sha256, as the worker hashed the bytes it stored. */
async function posterSha(job: { assets: { poster: string } }): Promise<string> {
  return (await api(stack, 'GET', `/v1/assets/${job.assets.poster}`)).body.sha256;
}

async function submitAll(bodies: object[]): Promise<any[]> {
  const jobs: any[] = [];
  for (let i = 0; i < bodies.length; i += 50) {
    const part = await Promise.all(bodies.slice(i, i + 50).map((b) => api(stack, 'POST', '/v1/generate', b)));
    for (const r of part) {
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      jobs.push(r.body);
    }
  }
  return jobs;
}

describe('canary models', () => {
  let first: any[];
  let expected: Map<string, Record<string, string>>;

  it('a canary at 20 % gets 20 ± 5 % of 400 new jobs, and each job records the version whose files ran', async () => {
    const t0 = performance.now();
    const lap = (what: string) => console.log(`${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // Rendered here first, so that this test's own inference does not starve the worker's.
    expected = await expectedPosters(PAIRS);
    lap('both versions rendered here');
    const submitted = await submitAll(PAIRS.map((p) => ({ prompt: p.prompt, seed: p.seed })));
    lap('400 submitted');
    // Routed at submit, by the pair's hash: the same split on every replica and every run.
    submitted.forEach((j, i) => expect(j.model.version).toBe(routePoint(PAIRS[i]!.prompt, PAIRS[i]!.seed) < SHARE ? '2.1.0' : '2.0.0'));
    first = [];
    for (const j of submitted) first.push(await waitJob(stack, j.id, 600_000));
    lap('400 finished');
    expect(first.filter((j) => j.status !== 'succeeded' || j.cache_hit).map((j) => `${j.id} ${j.status} ${JSON.stringify(j.error)}`)).toEqual([]);
    const canary = first.filter((j) => j.model.version === '2.1.0').length;
    console.log(`canary share: ${canary} of ${first.length} jobs (${((100 * canary) / first.length).toFixed(1)} %)`);
    expect(canary).toBeGreaterThanOrEqual(0.15 * 400);
    expect(canary).toBeLessThanOrEqual(0.25 * 400);

    // The poster is the middle frame of the pixels that ran: it matches the recorded version's render, not the other's.
    let checked = 0;
    for (const [i, j] of first.entries()) {
      const want = expected.get(`${PAIRS[i]!.prompt}|${PAIRS[i]!.seed}`)!;
      const other = j.model.version === '2.1.0' ? '2.0.0' : '2.1.0';
      expect(want[j.model.version]).not.toBe(want[other]);
      expect(await posterSha(j), `job ${i} (${j.model.version})`).toBe(want[j.model.version]);
      checked++;
    }
    expect(checked).toBe(400);
    lap('400 posters checked');
  }, 900_000);

  it('usage, metrics, /v1/models and `clickvid models` split by version', async () => {
    const canary = first.filter((j) => j.model.version === '2.1.0').length;
    const usage = await api(stack, 'GET', '/v1/usage');
    const jobsOf = (v: string) => usage.body.data.filter((r: any) => r.quality === 'draft' && r.model_version === v).reduce((n: number, r: any) => n + r.jobs, 0);
    expect(jobsOf('2.1.0')).toBe(canary);
    expect(jobsOf('2.0.0')).toBe(400 - canary);

    const cluster = await (await fetch(`${stack.url}/metrics/cluster`)).text();
    for (const v of ['2.0.0', '2.1.0']) {
      expect(cluster).toMatch(new RegExp(`clickvid_jobs_total\\{[^}]*model_version="${v.replace(/\./g, '\\.')}"`));
      expect(cluster).toMatch(new RegExp(`clickvid_batch_size_count\\{[^}]*model_version="${v.replace(/\./g, '\\.')}"`));
    }

    const models = await api(stack, 'GET', '/v1/models');
    expect(models.body.data.map((m: any) => [m.version, m.channel, m.traffic_share])).toEqual([['2.0.0', 'stable', 0.8], ['2.1.0', 'canary', 0.2]]);
    const env = { CLICKVID_API_URL: stack.url, CLICKVID_API_KEY: stack.apiKey };
    const json = await runCli(['models', '--json'], { cwd: tmpdir(), env });
    expect(json.code, json.stderr).toBe(0);
    // The same list, field for field; estimates follow the meter, which the workers move while this runs.
    const unmetered = (body: unknown) => JSON.parse(JSON.stringify(body), (k, v) => (k === 'estimate_gpu_seconds' ? typeof v : v));
    expect(unmetered(JSON.parse(json.stdout))).toEqual(unmetered(models.body));
    const text = await runCli(['models'], { cwd: tmpdir(), env });
    expect(text.stdout).toContain('clickvid-shapes@2.1.0  canary, 20 % of new jobs');
  }, 120_000);

  it('no cache hit crosses versions: repeats hit their own version, pinned jobs of the other version render', async () => {
    // The same 400 pairs again: every one a hit, on the version and the files that made it.
    const again = await submitAll(PAIRS.map((p) => ({ prompt: p.prompt, seed: p.seed })));
    for (const [i, j] of again.entries()) {
      expect(j).toMatchObject({ status: 'succeeded', cache_hit: true, model: { version: first[i].model.version } });
      expect((await api(stack, 'GET', `/v1/assets/${j.assets.poster}`)).body.sha256).toBe(expected.get(`${PAIRS[i]!.prompt}|${PAIRS[i]!.seed}`)![j.model.version]);
    }

    // from_job pins the parent's version: pairs another version rendered (and cached) render anew.
    const parentOf = { '2.0.0': first.find((j) => j.model.version === '2.0.0'), '2.1.0': first.find((j) => j.model.version === '2.1.0') };
    // Five pairs each version rendered, pinned to the other version.
    const other = (v: string) => (v === '2.1.0' ? '2.0.0' : '2.1.0');
    const crossing = ['2.0.0', '2.1.0'].flatMap((v) =>
      first.flatMap((j, i) => (j.model.version === v ? [{ i, from: other(v) }] : [])).slice(1, 6),
    );
    const pinned = await submitAll(crossing.map(({ i, from }) => ({ from_job: parentOf[from as '2.0.0'].id, prompt: PAIRS[i]!.prompt, seed: PAIRS[i]!.seed })));
    for (const [k, j] of pinned.entries()) {
      const { i, from } = crossing[k]!;
      expect(j.model.version).toBe(from);
      const done = await waitJob(stack, j.id, 120_000);
      expect(done).toMatchObject({ status: 'succeeded', cache_hit: false, model: { version: from } });
      expect(await posterSha(done)).toBe(expected.get(`${PAIRS[i]!.prompt}|${PAIRS[i]!.seed}`)![from]);
    }
  }, 600_000);

  it('promote pins the draft\'s version: a canary draft\'s final comes from the canary', async () => {
    const draft = first.find((j) => j.model.version === '2.1.0');
    const res = await api(stack, 'POST', `/v1/jobs/${draft.id}/promote`, { quality: 'standard' });
    expect(res.status).toBe(202);
    expect(res.body.model.version).toBe('2.1.0');
    expect(await waitJob(stack, res.body.id, 180_000)).toMatchObject({ status: 'succeeded', model: { version: '2.1.0', sha256: versions.get('2.1.0')!.modelRef('standard').sha256 } });
  }, 240_000);

  it('with tracing off, neither process loads any OpenTelemetry module', async () => {
    await stack.stop();
    stopped = true;
    const loaded = readFileSync(traceLog, 'utf8');
    rmSync(traceLog, { force: true });
    expect(loaded).toContain('/node_modules/bullmq/'); // the trace works
    expect(loaded).toContain('/node_modules/@opentelemetry/api/'); // through prom-client, see below
    expect(loaded).toContain('/packages/worker/dist/'); // in both processes
    expect(loaded).toContain('/packages/server/dist/');
    // prom-client loads @opentelemetry/api (for exemplars) whatever we do; the SDK must not come in.
    const otel = loaded.split('\n').filter((l) => l.includes('/@opentelemetry/') && !l.includes('/@opentelemetry/api/'));
    expect(otel).toEqual([]);
  }, 60_000);
});
