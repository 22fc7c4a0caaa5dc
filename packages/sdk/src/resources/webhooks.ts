import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { WebhookEvent } from '@clickvid/contracts';
import { WebhookVerificationError } from '../errors.js';

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface UnwrapOptions {
  /** Reject timestamps further than this from now, either way (replay protection). @defaultValue 300 */
  toleranceSeconds?: number | undefined;
  /** The current time, for tests. @defaultValue Date.now() */
  now?: Date | undefined;
}

export interface SignOptions {
  /** @defaultValue a fresh `msg_<uuid>` */
  id?: string | undefined;
  /** @defaultValue now */
  timestamp?: Date | undefined;
}

/** The three headers of a signed delivery (a type alias, so it passes as {@link WebhookHeaders}). */
export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/**
 * Webhooks: verify deliveries (Standard Webhooks: HMAC-SHA256 over
 * `id.timestamp.body`, key = base64 part of the `whsec_` secret).
 */
export class Webhooks {
  constructor(private readonly defaultSecret: string | undefined) {}

  /**
   * Verify a delivery and return its event. Pass the raw body exactly as
   * received (before any JSON parsing). Throws {@link WebhookVerificationError}.
   * @param secret - @defaultValue the client's `webhookSecret` (env CLICKVID_WEBHOOK_SECRET)
   */
  unwrap(body: string | Buffer, headers: WebhookHeaders, secret?: string, options: UnwrapOptions = {}): WebhookEvent {
    this.verify(body, headers, secret, options);
    let json: unknown;
    try {
      json = JSON.parse(body.toString());
    } catch {
      throw new WebhookVerificationError('The webhook body is not JSON.', 'webhook_invalid_body');
    }
    const parsed = WebhookEvent.safeParse(json);
    if (!parsed.success) throw new WebhookVerificationError(`The webhook body does not match the contract: ${parsed.error.message}`, 'webhook_invalid_body');
    return parsed.data;
  }

  /** Check the signature and timestamp only; throws {@link WebhookVerificationError}. */
  verify(body: string | Buffer, headers: WebhookHeaders, secret?: string, options: UnwrapOptions = {}): void {
    const key = secretKey(secret ?? this.defaultSecret);
    const id = header(headers, 'webhook-id');
    const timestamp = header(headers, 'webhook-timestamp');
    const signatures = header(headers, 'webhook-signature');
    if (!id || !timestamp || !signatures) {
      throw new WebhookVerificationError('Missing webhook-id, webhook-timestamp or webhook-signature header.', 'webhook_missing_headers');
    }
    if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError('webhook-timestamp is not a unix time.', 'webhook_invalid_timestamp');
    const now = Math.floor((options.now?.getTime() ?? Date.now()) / 1000);
    const tolerance = options.toleranceSeconds ?? 300;
    if (Math.abs(now - Number(timestamp)) > tolerance) {
      throw new WebhookVerificationError(`webhook-timestamp is more than ${tolerance} s from now.`, 'webhook_invalid_timestamp');
    }
    const expected = hmac(key, id, timestamp, body);
    for (const entry of signatures.split(' ')) {
      const [version, sig] = entry.split(',', 2);
      if (version !== 'v1' || !sig) continue;
      const given = Buffer.from(sig, 'base64');
      if (given.length === expected.length && timingSafeEqual(given, expected)) return;
    }
    throw new WebhookVerificationError('No webhook signature matches.');
  }

  /** Sign a payload the way the server does: for tests and local receivers. */
  sign(body: string | Buffer, secret?: string, options: SignOptions = {}): SignedHeaders {
    const key = secretKey(secret ?? this.defaultSecret);
    const id = options.id ?? `msg_${randomUUID()}`;
    const timestamp = String(Math.floor((options.timestamp?.getTime() ?? Date.now()) / 1000));
    return {
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': `v1,${hmac(key, id, timestamp, body).toString('base64')}`,
    };
  }
}

function hmac(key: Buffer, id: string, timestamp: string, body: string | Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

function secretKey(secret: string | undefined): Buffer {
  if (!secret) throw new WebhookVerificationError('No webhook secret: pass one or set CLICKVID_WEBHOOK_SECRET.', 'webhook_missing_secret');
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  if (key.length === 0) throw new WebhookVerificationError('The webhook secret is empty.', 'webhook_missing_secret');
  return key;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : record[key];
  return Array.isArray(v) ? v.join(' ') : v;
}
