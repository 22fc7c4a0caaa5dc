/**
 * Tenant isolation of the output cache, and the SDK's event-stream resume, against the
 * built server and worker as processes (real onnxruntime, real ffmpeg, real Redis).
 */
import net from 'node:net';
import { Clickvid } from '@clickvid/sdk';
import { createRedis, loadConfig, TeamStore } from '@clickvid/core';
import type { JobEvent } from '@clickvid/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startStack, waitJob, type Stack } from './harness.js';

let stack: Stack;
let keyB: string;
beforeAll(async () => {
  stack = await startStack();
  const redis = createRedis(stack.redisUrl);
  // The team defaults the stack's server runs with.
  const teams = new TeamStore(redis, loadConfig(stack.env).teamDefaults);
  await teams.ensureTeam('beta');
  keyB = await teams.addApiKey('beta');
  redis.disconnect();
});
afterAll(async () => stack?.stop());

describe('output cache is per team', () => {
  it("team B submitting team A's prompt and seed renders its own video, not a free cache hit", async () => {
    const body = { prompt: 'a blue triangle moving left on a yellow background', seed: 4321 };
    const a = await waitJob(stack, (await api(stack, 'POST', '/v1/generate', body)).body.id);
    expect(a).toMatchObject({ status: 'succeeded', cache_hit: false });
    // A's own repeat is a hit: the cache works, it is just not shared.
    const a2 = await waitJob(stack, (await api(stack, 'POST', '/v1/generate', body)).body.id);
    expect(a2).toMatchObject({ status: 'succeeded', cache_hit: true });

    const b = { url: stack.url, apiKey: keyB };
    const sub = await api(b, 'POST', '/v1/generate', body);
    expect(sub.status).toBe(202);
    expect(sub.body.cache_hit).toBe(false);
    const done = await waitJob(b, sub.body.id);
    expect(done).toMatchObject({ status: 'succeeded', cache_hit: false });
    expect(done.usage.gpu_seconds).toBeGreaterThan(0);
  });
});

/** A TCP proxy in front of the API that can cut its connections, and shows what crossed it. */
async function cuttingProxy(target: URL) {
  const conns = new Set<{ client: net.Socket; upstream: net.Socket; sent: string; received: string }>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    const c = { client, upstream, sent: '', received: '' };
    conns.add(c);
    client.on('data', (d) => {
      c.sent += d.toString('latin1');
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      c.received += d.toString('latin1');
      client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    /** Request heads of the event-stream requests, in order, across all connections. */
    streamRequests: () =>
      [...conns].flatMap((c) => c.sent.split('\r\n\r\n').filter((h) => /^GET \/v1\/jobs\/[^/]+\/events/.test(h))),
    ids: () => [...conns].flatMap((c) => [...c.received.matchAll(/^id: (.*)$/gm)].map((m) => m[1]!)),
    cutAll: () => conns.forEach((c) => c.client.destroy()),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('event stream resume (SDK against the real server)', () => {
  it('sends id: lines; a dropped stream resumes with Last-Event-ID and repeats nothing', async () => {
    const proxy = await cuttingProxy(new URL(stack.url));
    try {
      const client = new Clickvid({ apiKey: stack.apiKey, baseUrl: proxy.url });
      // A final waits out its lane's batch window (2 s): time to cut the stream mid-job.
      const job = await client.jobs.create({ prompt: 'a red square spinning on a green background', quality: 'final' });
      const events: JobEvent[] = [];
      for await (const e of client.jobs.stream(job.id)) {
        events.push(e);
        if (events.length === 1) proxy.cutAll();
      }
      const heads = proxy.streamRequests();
      const ids = proxy.ids();
      console.log(`stream: ${heads.length} requests, ids ${JSON.stringify(ids)}, events ${events.map((e) => e.type).join(',')}`);
      expect(ids.length).toBeGreaterThan(0);
      expect(heads).toHaveLength(2);
      expect(heads[0]).not.toMatch(/last-event-id/i);
      // It resumes from the last event it had when the stream was cut: the first, or a later one when
      // several arrived in one read (a 3.0 final sends progress per denoiser step, well under a ms apart).
      const resumeFrom = /^last-event-id: (.*)$/im.exec(heads[1]!)?.[1];
      expect(ids).toContain(resumeFrom);
      expect(ids.indexOf(resumeFrom!)).toBeLessThan(ids.length - 1);
      // The server sends nothing again: every id crossed the proxy once.
      expect(new Set(ids).size).toBe(ids.length);
      // Nothing repeated across the reconnect, and it ends with the finished job.
      const states = events.filter((e) => e.job).map((e) => `${e.job!.status}|${e.job!.progress}|${e.job!.queue_position}`);
      expect(new Set(states).size).toBe(states.length);
      expect(events.at(-1)).toMatchObject({ type: 'done', job: { status: 'succeeded' } });
    } finally {
      await proxy.close();
    }
  });
});
