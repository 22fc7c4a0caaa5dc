import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ApiError } from '../errors.js';

/** True for loopback, private, link-local, CGNAT, multicast and unspecified addresses. */
export function isPrivateAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    return (
      a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224
    );
  }
  const v6 = ip.toLowerCase();
  if (v6.startsWith('::ffff:')) return isPrivateAddress(v6.slice(7));
  return v6 === '::' || v6 === '::1' || v6.startsWith('fc') || v6.startsWith('fd') || v6.startsWith('fe80') || v6.startsWith('ff');
}

/**
 * Refuses webhook targets that resolve to private, loopback or link-local addresses
 * (SSRF), unless dev mode allows them. Checked at submit and again before each delivery.
 */
export async function assertWebhookTarget(url: string, allowPrivate: boolean): Promise<void> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ApiError('invalid_webhook_url', 'webhook_url is not a URL.', { param: 'webhook_url' });
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new ApiError('invalid_webhook_url', 'webhook_url must be http or https.', { param: 'webhook_url' });
  }
  if (u.username || u.password) throw new ApiError('invalid_webhook_url', 'webhook_url must not carry credentials.', { param: 'webhook_url' });
  if (allowPrivate) return;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  let addrs: string[];
  try {
    addrs = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    throw new ApiError('invalid_webhook_url', `webhook_url host ${host} does not resolve.`, { param: 'webhook_url' });
  }
  if (addrs.length === 0 || addrs.some(isPrivateAddress)) {
    throw new ApiError(
      'invalid_webhook_url',
      `webhook_url resolves to a private, loopback or link-local address (${addrs.join(', ')}); set CLICKVID_ALLOW_PRIVATE_WEBHOOKS=true in development.`,
      { param: 'webhook_url' },
    );
  }
}
