/**
 * Webhook deliveries as a customer sees them, on the whole stack (real Redis, server and
 * worker processes, a real HTTP receiver, the built CLI): a receiver that fails once shows
 * up in the delivery record (attempts, last code, the retry's time, which the retry keeps),
 * a replay sends the same webhook-id and the same bytes, and no other team can see or replay it.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebhookDelivery, WebhookDeliveryList } from '@clickvid/contracts';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../packages/cli/test/run-cli.js';
import { api, startStack, waitJob, type Stack } from './harness.js';

const ADMIN_KEY = 'cv_admin_deliveries_test_0123456789abcdef';

interface Received {
  at: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  answered: number;
}

let stack: Stack;
let dir: string;
const got: Received[] = [];
let answers = [500];
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const status = answers.shift() ?? 200;
    got.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks), answered: status });
    res.writeHead(status).end();
  });
});

beforeAll(async () => {
  stack = await startStack({ env: { CLICKVID_ADMIN_KEY_SHA256: createHash('sha256').update(ADMIN_KEY).digest('hex') } });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  dir = await mkdtemp(join(tmpdir(), 'cv-deliveries-'));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

const deliveriesOf = async (jobId: string, as = stack) =>
  WebhookDeliveryList.parse((await api(as, 'GET', `/v1/webhooks/deliveries?job_id=${jobId}`)).body).data;

const cli = (args: string[]) =>
  runCli(args, { cwd: dir, env: { CLICKVID_API_URL: stack.url, CLICKVID_API_KEY: stack.apiKey, XDG_CONFIG_HOME: join(dir, 'xdg'), NO_COLOR: '1' } });

describe('webhook deliveries', () => {
  it('record each attempt, replay the same signed bytes, and stay with their team', async () => {
    const port = (server.address() as AddressInfo).port;
    const sub = await api(stack, 'POST', '/v1/generate', { prompt: 'a blue circle moving up on a yellow background', webhook_url: `http://127.0.0.1:${port}/hooks` });
    expect(sub.status).toBe(202);
    const job = await waitJob(stack, sub.body.id);
    expect(job.status).toBe('succeeded');

    // While failing: one attempt, last code 500, a retry scheduled in the future.
    const failing = await until('the failed first attempt', async () => {
      const [d] = await deliveriesOf(job.id);
      return d?.attempts === 1 ? { d, readAt: Date.now() } : undefined;
    });
    expect(failing.d).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 500, type: 'job.succeeded', job_id: job.id, replay_of: null, delivered_at: null });
    expect(failing.d.last_error).toContain('500');
    const retryAt = Date.parse(failing.d.next_retry_at!);
    expect(retryAt).toBeGreaterThan(failing.readAt);

    // Then delivered on the retry, which came when the record said it would (the custom backoff).
    const done = await until('the successful retry', async () => {
      const [d] = await deliveriesOf(job.id);
      return d?.status === 'succeeded' ? d : undefined;
    });
    expect(done).toMatchObject({ id: failing.d.id, attempts: 2, last_status_code: 200, last_error: null, next_retry_at: null });
    expect(done.delivered_at).not.toBeNull();
    expect(got.map((r) => r.answered)).toEqual([500, 200]);
    expect(got[1]!.at).toBeGreaterThanOrEqual(retryAt - 50);
    expect(got[1]!.at).toBeLessThan(retryAt + 5000);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(900); // webhookRetryDelay(1) is 1–2 s

    // The CLI lists it, as a table and as JSON.
    const listed = await cli(['webhooks', 'list', '--job', job.id, '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(WebhookDeliveryList.parse(JSON.parse(listed.stdout)).data).toEqual([done]);
    const human = await cli(['webhooks', 'list', '--status', 'succeeded']);
    expect(human.stdout).toMatch(new RegExp(`^${done.id} +job\\.succeeded +${job.id} +succeeded +2 +200 +- *$`, 'm'));

    // Replay through the CLI: the receiver gets the same webhook-id and the same bytes, validly signed.
    const replayed = await cli(['webhooks', 'replay', done.id, '--json']);
    expect(replayed.code, replayed.stderr).toBe(0);
    const replay = WebhookDelivery.parse(JSON.parse(replayed.stdout));
    expect(replay).toMatchObject({ replay_of: done.id, event_id: done.event_id, job_id: job.id, status: 'pending' });
    expect(replay.id).not.toBe(done.id);
    await until('the replayed delivery', async () => (got.length >= 3 ? true : undefined));
    const [first, , again] = got;
    expect(again!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(again!.headers['webhook-id']).toBe(done.event_id);
    expect(again!.body.equals(first!.body)).toBe(true);
    const event = new Webhook(stack.webhookSecret).verify(again!.body.toString('utf8'), {
      'webhook-id': String(again!.headers['webhook-id']),
      'webhook-timestamp': String(again!.headers['webhook-timestamp']),
      'webhook-signature': String(again!.headers['webhook-signature']),
    }) as { type: string; data: { id: string } };
    expect(event).toMatchObject({ type: 'job.succeeded', data: { id: job.id } });
    const replayDone = await until('the replay record', async () => {
      const d = WebhookDelivery.parse((await api(stack, 'GET', `/v1/webhooks/deliveries/${replay.id}`)).body);
      return d.status === 'succeeded' ? d : undefined;
    });
    expect(replayDone).toMatchObject({ attempts: 1, last_status_code: 200, replay_of: done.id });
    expect((await deliveriesOf(job.id)).map((d) => d.id)).toEqual([replay.id, done.id]);

    // Another team sees none of it: list, get and replay are all webhook_delivery_not_found or empty.
    const admin = { url: stack.url, apiKey: ADMIN_KEY };
    expect((await api(admin, 'POST', '/v1/admin/teams', { id: 'other', name: 'Other' })).status).toBe(201);
    const key = await api(admin, 'POST', '/v1/admin/teams/other/keys', { name: 'test' });
    const other = { url: stack.url, apiKey: key.body.key as string };
    expect(await deliveriesOf(job.id, other as Stack)).toEqual([]);
    expect((await api(other, 'GET', '/v1/webhooks/deliveries')).body.data).toEqual([]);
    const get = await api(other, 'GET', `/v1/webhooks/deliveries/${done.id}`);
    expect([get.status, get.body.error.code]).toEqual([404, 'webhook_delivery_not_found']);
    const rep = await api(other, 'POST', `/v1/webhooks/deliveries/${done.id}/replay`);
    expect([rep.status, rep.body.error.code]).toEqual([404, 'webhook_delivery_not_found']);
    const cliOther = await runCli(['webhooks', 'replay', done.id], { cwd: dir, env: { CLICKVID_API_URL: stack.url, CLICKVID_API_KEY: other.apiKey, XDG_CONFIG_HOME: join(dir, 'xdg'), NO_COLOR: '1' } });
    expect(cliOther.code).toBe(1);
    expect(cliOther.stderr).toContain('Error [webhook_delivery_not_found]');
    expect(got).toHaveLength(3);
  }, 60_000);
});
