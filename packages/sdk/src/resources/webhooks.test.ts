import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { succeeded } from '../../test/fake-api.js';
import { WebhookVerificationError, Webhooks } from '../index.js';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const body = JSON.stringify({ type: 'job.succeeded', timestamp: new Date().toISOString(), data: succeeded() });
const webhooks = new Webhooks(secret);

describe('webhooks', () => {
  it('unwraps what the standardwebhooks reference signs', () => {
    const id = 'msg_2b3f';
    const now = new Date();
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, now, body),
    };
    const event = webhooks.unwrap(body, headers);
    expect(event.type).toBe('job.succeeded');
    expect(event.data.id).toBe('job_0123456789abc');
    // Buffers and fetch Headers work too.
    expect(webhooks.unwrap(Buffer.from(body), new Headers(headers)).type).toBe('job.succeeded');
  });

  it('signs what the standardwebhooks reference verifies', () => {
    const headers = webhooks.sign(body);
    expect(new Webhook(secret).verify(body, { ...headers })).toMatchObject({ type: 'job.succeeded' });
  });

  it('accepts any one matching signature of a space-separated list (key rotation)', () => {
    const other = `whsec_${randomBytes(24).toString('base64')}`;
    const good = webhooks.sign(body);
    const stale = webhooks.sign(body, other, { id: good['webhook-id'], timestamp: new Date(Number(good['webhook-timestamp']) * 1000) });
    const headers = { ...good, 'webhook-signature': `v2,abc ${stale['webhook-signature']} ${good['webhook-signature']}` };
    expect(webhooks.unwrap(body, headers).type).toBe('job.succeeded');
  });

  it('rejects a tampered body, a wrong secret and missing headers', () => {
    const headers = webhooks.sign(body);
    expect(() => webhooks.unwrap(body.replace('succeeded', 'failed'), headers)).toThrow(WebhookVerificationError);
    expect(() => webhooks.unwrap(body, headers, `whsec_${randomBytes(24).toString('base64')}`)).toThrow(/No webhook signature matches/);
    expect(() => webhooks.unwrap(body, { 'webhook-id': 'x' })).toThrow(expect.objectContaining({ code: 'webhook_missing_headers' }));
  });

  it('rejects timestamps outside the tolerance, both stale and from the future', () => {
    const old = webhooks.sign(body, undefined, { timestamp: new Date(Date.now() - 301_000) });
    const future = webhooks.sign(body, undefined, { timestamp: new Date(Date.now() + 301_000) });
    for (const h of [old, future]) {
      expect(() => webhooks.unwrap(body, h)).toThrow(expect.objectContaining({ code: 'webhook_invalid_timestamp' }));
    }
    expect(webhooks.unwrap(body, old, undefined, { toleranceSeconds: 600 }).type).toBe('job.succeeded');
    // The reference rejects the same stale delivery.
    expect(() => new Webhook(secret).verify(body, { ...old })).toThrow();
  });
});
