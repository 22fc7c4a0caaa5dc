import { lookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, request } from 'undici';
import { ApiError } from '../errors.js';

/** Resolves a host name to every address it has (A and AAAA). */
export type Resolve = (host: string) => Promise<string[]>;

const dnsResolve: Resolve = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** IPv6 global unicast, 2000::/3: ipaddr.js also calls other space "unicast" (e.g. IPv4-compatible ::a.b.c.d). */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/**
 * True only for a public unicast address. Every IPv6 spelling of an IPv4 address that
 * ipaddr.js knows (mapped `::ffff:7f00:1`, in any zero-padding) is turned into that IPv4
 * address first; then anything ipaddr.js puts in a special range — loopback, private,
 * link-local (all of fe80::/10), unique-local, CGNAT, NAT64 (64:ff9b::/96), 6to4
 * (2002::/16), Teredo, multicast, reserved, unspecified — is not public, nor is IPv6
 * outside 2000::/3. Unparseable input is not public either.
 */
export function isPublicAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  const addr = ipaddr.process(ip);
  if (addr.range() !== 'unicast') return false;
  return addr.kind() === 'ipv4' || (addr as ipaddr.IPv6).match(GLOBAL_UNICAST_V6 as [ipaddr.IPv6, number]);
}

const invalid = (message: string) => new ApiError('invalid_webhook_url', message, { param: 'webhook_url' });

/**
 * Where webhooks may go, checked twice with one rule: at submit (a clear 422 for the caller)
 * and at connect time, on the exact address the socket connects to, so a DNS answer that
 * changes between the two (rebinding) cannot reach a private address. Redirects are never
 * followed. With `allowPrivate` (local development) every address is allowed.
 */
export class WebhookTargets {
  readonly #allowPrivate: boolean;
  readonly #resolve: Resolve;
  readonly #agent: Agent;

  constructor(opts: { allowPrivate: boolean; resolve?: Resolve }) {
    this.#allowPrivate = opts.allowPrivate;
    this.#resolve = opts.resolve ?? dnsResolve;
    this.#agent = new Agent({ connect: { lookup: this.#lookup } });
  }

  /** Throws invalid_webhook_url unless `url` is an http(s) URL without credentials whose host is public. */
  async check(url: string): Promise<void> {
    const host = this.#parse(url);
    if (this.#allowPrivate) return;
    let addrs: string[];
    try {
      addrs = ipaddr.isValid(host) ? [host] : await this.#resolve(host);
    } catch {
      throw invalid(`webhook_url host ${host} does not resolve.`);
    }
    const refused = addrs.length === 0 ? ['no address'] : addrs.filter((a) => !isPublicAddress(a));
    if (refused.length > 0) {
      throw invalid(
        `webhook_url resolves to a private, loopback, link-local or reserved address (${refused.join(', ')}); ` +
          'set CLICKVID_ALLOW_PRIVATE_WEBHOOKS=true in development.',
      );
    }
  }

  /** POSTs `body` to `url` through the checking agent; answers the status code. Throws on a refused or failed connection. */
  async post(url: string, body: string, headers: Record<string, string>, timeoutMs = 10_000): Promise<number> {
    const host = this.#parse(url);
    // A literal address never reaches the connect-time lookup, so it is checked here.
    if (!this.#allowPrivate && ipaddr.isValid(host) && !isPublicAddress(host)) throw invalid(`webhook_url address ${host} is not public.`);
    const res = await request(url, {
      method: 'POST',
      body,
      headers,
      dispatcher: this.#agent,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body.dump().catch(() => undefined);
    return res.statusCode;
  }

  close(): Promise<void> {
    return this.#agent.close();
  }

  /** The URL's host without IPv6 brackets; throws invalid_webhook_url for anything but plain http(s). */
  #parse(url: string): string {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw invalid('webhook_url is not a URL.');
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw invalid('webhook_url must be http or https.');
    if (u.username || u.password) throw invalid('webhook_url must not carry credentials.');
    return u.hostname.replace(/^\[|\]$/g, '');
  }

  /** net.connect's lookup: resolves once and hands the socket only addresses that passed the check. */
  readonly #lookup: LookupFunction = (hostname, options, callback) => {
    this.#resolve(hostname).then(
      (addrs) => {
        const refused = addrs.filter((a) => !isPublicAddress(a));
        if (!this.#allowPrivate && (addrs.length === 0 || refused.length > 0)) {
          const err = Object.assign(new Error(`webhook host ${hostname} resolves to a non-public address (${refused.join(', ') || 'none'})`), {
            code: 'ENOTPUBLIC',
          });
          callback(err, '', 0);
          return;
        }
        const family = (a: string) => (ipaddr.parse(a).kind() === 'ipv6' ? 6 : 4);
        const wanted = addrs.filter((a) => !options.family || family(a) === options.family);
        if (wanted.length === 0) {
          callback(Object.assign(new Error(`webhook host ${hostname} has no IPv${options.family} address`), { code: 'ENOTFOUND' }), '', 0);
        } else if (options.all) {
          (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, wanted.map((a) => ({ address: a, family: family(a) })));
        } else {
          callback(null, wanted[0]!, family(wanted[0]!));
        }
      },
      (err: Error) => callback(Object.assign(err, { code: (err as NodeJS.ErrnoException).code ?? 'ENOTFOUND' }), '', 0),
    );
  };
}
