import type { WebhookEvent } from '@clickvid/contracts';
import { WebhookVerificationError } from '../errors.js';
import { uuid } from '../internal/uuid.js';
import {
  fromBase64, parseEvent, readSignedHeaders, secretBytes, toBase64,
  type SignOptions, type SignedHeaders, type UnwrapOptions, type WebhookHeaders,
} from '../internal/webhook-common.js';
import { WebhookDeliveries } from './webhook-deliveries.js';

export type { SignOptions, SignedHeaders, UnwrapOptions, WebhookHeaders };

/** A raw webhook body: text, or the bytes as received. */
export type WebhookBody = string | Uint8Array | ArrayBuffer;

/**
 * Webhooks for browsers, workers and edge runtimes: the same checks as the Node `Webhooks`
 * (Standard Webhooks, HMAC-SHA256 over `id.timestamp.body`), over Web Crypto, so every
 * method is asynchronous.
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
   * Verify a delivery and return its event. Pass the raw body exactly as received.
   * Rejects with {@link WebhookVerificationError}.
   */
  async unwrap(body: WebhookBody, headers: WebhookHeaders, secret?: string, options: UnwrapOptions = {}): Promise<WebhookEvent> {
    await this.verify(body, headers, secret, options);
    return parseEvent(typeof body === 'string' ? body : new TextDecoder().decode(body));
  }

  /** Check the signature and timestamp only; rejects with {@link WebhookVerificationError}. */
  async verify(body: WebhookBody, headers: WebhookHeaders, secret?: string, options: UnwrapOptions = {}): Promise<void> {
    const key = await importKey(secretBytes(secret ?? this.defaultSecret));
    const { id, timestamp, signatures } = readSignedHeaders(headers, options);
    const signed = signedBytes(id, timestamp, body);
    for (const sig of signatures) {
      // crypto.subtle.verify compares in constant time.
      if (await crypto.subtle.verify('HMAC', key, fromBase64(sig) as BufferSource, signed as BufferSource)) return;
    }
    throw new WebhookVerificationError('No webhook signature matches.');
  }

  /** Sign a payload the way the server does: for tests and local receivers. */
  async sign(body: WebhookBody, secret?: string, options: SignOptions = {}): Promise<SignedHeaders> {
    const key = await importKey(secretBytes(secret ?? this.defaultSecret));
    const id = options.id ?? `msg_${uuid()}`;
    const timestamp = String(Math.floor((options.timestamp?.getTime() ?? Date.now()) / 1000));
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, signedBytes(id, timestamp, body) as BufferSource));
    return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${toBase64(mac)}` };
  }
}

function importKey(bytes: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', bytes as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

function signedBytes(id: string, timestamp: string, body: WebhookBody): Uint8Array {
  const head = new TextEncoder().encode(`${id}.${timestamp}.`);
  const rest = typeof body === 'string' ? new TextEncoder().encode(body) : body instanceof Uint8Array ? body : new Uint8Array(body);
  const out = new Uint8Array(head.length + rest.length);
  out.set(head);
  out.set(rest, head.length);
  return out;
}
