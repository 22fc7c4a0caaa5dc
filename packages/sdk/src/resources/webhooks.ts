import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { WebhookEvent } from '@clickvid/contracts';
import { WebhookVerificationError } from '../errors.js';
import {
  parseEvent, readSignedHeaders, secretBytes,
  type SignOptions, type SignedHeaders, type UnwrapOptions, type WebhookHeaders,
} from '../internal/webhook-common.js';
import { WebhookDeliveries } from './webhook-deliveries.js';

export type { SignOptions, SignedHeaders, UnwrapOptions, WebhookHeaders };

/**
 * Webhooks: verify deliveries (Standard Webhooks: HMAC-SHA256 over
 * `id.timestamp.body`, key = base64 part of the `whsec_` secret). Synchronous, over
 * node:crypto; the browser build's `Webhooks` does the same asynchronously over Web Crypto.
 */
export class Webhooks {
  /** The team's deliveries: list them, see each attempt, replay one. Needs a client (`client.webhooks`). */
  readonly deliveries: WebhookDeliveries;

  /**
   * @param defaultSecret - used when a call passes none
   * @param deliveries - the client's (`client.webhooks` has them); a `Webhooks` made on its own only verifies and signs
   */
  constructor(private readonly defaultSecret: string | undefined, deliveries?: WebhookDeliveries) {
    this.deliveries = deliveries ?? new WebhookDeliveries(undefined);
  }

  /**
   * Verify a delivery and return its event. Pass the raw body exactly as
   * received (before any JSON parsing). Throws {@link WebhookVerificationError}.
   * @param secret - @defaultValue the client's `webhookSecret` (env CLICKVID_WEBHOOK_SECRET)
   */
  unwrap(body: string | Buffer, headers: WebhookHeaders, secret?: string, options: UnwrapOptions = {}): WebhookEvent {
    this.verify(body, headers, secret, options);
    return parseEvent(body.toString());
  }

  /** Check the signature and timestamp only; throws {@link WebhookVerificationError}. */
  verify(body: string | Buffer, headers: WebhookHeaders, secret?: string, options: UnwrapOptions = {}): void {
    const key = Buffer.from(secretBytes(secret ?? this.defaultSecret));
    const { id, timestamp, signatures } = readSignedHeaders(headers, options);
    const expected = hmac(key, id, timestamp, body);
    for (const sig of signatures) {
      const given = Buffer.from(sig, 'base64');
      if (given.length === expected.length && timingSafeEqual(given, expected)) return;
    }
    throw new WebhookVerificationError('No webhook signature matches.');
  }

  /** Sign a payload the way the server does: for tests and local receivers. */
  sign(body: string | Buffer, secret?: string, options: SignOptions = {}): SignedHeaders {
    const key = Buffer.from(secretBytes(secret ?? this.defaultSecret));
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
