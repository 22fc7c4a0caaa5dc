/**
 * Webhooks as a customer sees them: a real HTTP receiver that is down at first, then
 * failing, then healthy. Delivery must arrive, with one stable webhook-id, signed so
 * that the reference Standard Webhooks library accepts it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startStack, waitJob, type Stack } from './harness.js';
// @ts-expect-error plain ESM helper
import { freePort } from '../scripts/stack.mjs';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack?.stop());

interface Delivery {
  headers: http.IncomingHttpHeaders;
  body: string;
  answered: number;
}

function receiver(port: number, answer: () => number) {
  const got: Delivery[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const status = answer();
      got.push({ headers: req.headers, body, answered: status });
      res.writeHead(status).end();
    });
  });
  return {
    got,
    listen: () => new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r())),
    close: () => new Promise<void>((r) => server.close(() => r())),
    port: () => (server.address() as AddressInfo).port,
  };
}

describe('webhooks', () => {
  it('are delivered at least once after the receiver was down, with a stable id and a valid signature', async () => {
    const port: number = await freePort();
    let failures = 1;
    const rx = receiver(port, () => (failures-- > 0 ? 503 : 204));
    const sub = await api(stack, 'POST', '/v1/generate', {
      prompt: 'a blue circle moving up on a yellow background',
      webhook_url: `http://127.0.0.1:${port}/hooks/clickvid`,
    });
    expect(sub.status).toBe(202);
    const job = await waitJob(stack, sub.body.id);
    expect(job.status).toBe('succeeded');
    // Receiver is down while the first attempt(s) go out; it comes up 2.5 s later.
    await new Promise((r) => setTimeout(r, 2500));
    await rx.listen();
    const deadline = Date.now() + 30_000;
    while (!rx.got.some((d) => d.answered === 204) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await rx.close();

    expect(rx.got.map((d) => d.answered)).toEqual([503, 204]);
    expect(new Set(rx.got.map((d) => d.headers['webhook-id'])).size).toBe(1);
    const ok = rx.got[1]!;
    const wh = new Webhook(stack.webhookSecret);
    const event = wh.verify(ok.body, {
      'webhook-id': String(ok.headers['webhook-id']),
      'webhook-timestamp': String(ok.headers['webhook-timestamp']),
      'webhook-signature': String(ok.headers['webhook-signature']),
    }) as { type: string; data: { id: string; status: string } };
    expect(event.type).toBe('job.succeeded');
    expect(event.data).toMatchObject({ id: job.id, status: 'succeeded' });
    // A forged body fails the reference check.
    expect(() => wh.verify(ok.body.replace('succeeded', 'failed'), {
      'webhook-id': String(ok.headers['webhook-id']),
      'webhook-timestamp': String(ok.headers['webhook-timestamp']),
      'webhook-signature': String(ok.headers['webhook-signature']),
    })).toThrow();
  });

  it('sends job.canceled for a canceled job', async () => {
    const rx = receiver(0, () => 200);
    await rx.listen();
    const sub = await api(stack, 'POST', '/v1/generate', {
      prompt: 'three white triangles moving down on a black background',
      quality: 'final',
      duration_s: 6,
      webhook_url: `http://127.0.0.1:${rx.port()}/hook`,
    });
    await api(stack, 'POST', `/v1/jobs/${sub.body.id}/cancel`);
    const deadline = Date.now() + 15_000;
    while (rx.got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await rx.close();
    expect(JSON.parse(rx.got[0]!.body)).toMatchObject({ type: 'job.canceled', data: { id: sub.body.id } });
  });
});
