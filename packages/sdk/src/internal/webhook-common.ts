/**
 * The platform-free half of webhook verification (Standard Webhooks), shared by the Node
 * `Webhooks` (node:crypto, synchronous) and the browser one (Web Crypto, asynchronous).
 */
import { WebhookEvent } from '@clickvid/contracts';
import { WebhookVerificationError } from '../errors.js';

/** Headers as Node gives them, or a fetch `Headers`. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/** Options of `unwrap` and `verify`. */
export interface UnwrapOptions {
  /** Reject timestamps further than this from now, either way (replay protection). @defaultValue 300 */
  toleranceSeconds?: number | undefined;
  /** The current time, for tests. @defaultValue Date.now() */
  now?: Date | undefined;
}

/** Options of `sign`. */
export interface SignOptions {
  /** @defaultValue a fresh `msg_<uuid>` */
  id?: string | undefined;
  /** @defaultValue now */
  timestamp?: Date | undefined;
}

/** The three headers of a signed delivery (a type alias, so it passes as {@link WebhookHeaders}). */
export type SignedHeaders = {
  /** The delivery's id, stable across retries. */
  'webhook-id': string;
  /** Unix seconds when it was signed. */
  'webhook-timestamp': string;
  /** `v1,<base64 HMAC-SHA256>`. */
  'webhook-signature': string;
};

/** The signed headers of a delivery, checked for presence and a timestamp within tolerance. */
export function readSignedHeaders(headers: WebhookHeaders, options: UnwrapOptions): { id: string; timestamp: string; signatures: string[] } {
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
  // `v1,<base64>` entries, space-separated (several during a key rotation); other versions are skipped.
  const v1 = signatures.split(' ').flatMap((entry) => {
    const [version, sig] = entry.split(',', 2);
    return version === 'v1' && sig ? [sig] : [];
  });
  return { id, timestamp, signatures: v1 };
}

/** The secret's key bytes: the base64 after `whsec_`. */
export function secretBytes(secret: string | undefined): Uint8Array {
  if (!secret) throw new WebhookVerificationError('No webhook secret: pass one or set CLICKVID_WEBHOOK_SECRET.', 'webhook_missing_secret');
  const key = fromBase64(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
  if (key.length === 0) throw new WebhookVerificationError('The webhook secret is empty.', 'webhook_missing_secret');
  return key;
}

/** The event in a verified body, checked against the contract. */
export function parseEvent(text: string): WebhookEvent {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WebhookVerificationError('The webhook body is not JSON.', 'webhook_invalid_body');
  }
  const parsed = WebhookEvent.safeParse(json);
  if (!parsed.success) throw new WebhookVerificationError(`The webhook body does not match the contract: ${parsed.error.message}`, 'webhook_invalid_body');
  return parsed.data;
}

/** Lenient base64 (standard or url-safe, padding optional) to bytes; invalid input gives no bytes. */
export function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/-/g, '+').replace(/_/g, '/').replace(/[^A-Za-z0-9+/]/g, '');
  const padded = clean + '='.repeat((4 - (clean.length % 4)) % 4);
  try {
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  } catch {
    return new Uint8Array(0);
  }
}

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : record[key];
  return Array.isArray(v) ? v.join(' ') : v;
}
