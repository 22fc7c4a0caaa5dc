import { createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA256 over `<assetId>.<expires>` , base64url. */
export function assetSignature(secret: string, assetId: string, expires: number): string {
  return createHmac('sha256', secret).update(`${assetId}.${expires}`).digest('base64url');
}

export type SignatureCheck = 'ok' | 'invalid_signature' | 'url_expired';

/** Checks a local asset URL's query in constant time; expiry is checked after the MAC. */
export function verifyAssetSignature(
  secret: string,
  assetId: string,
  expires: unknown,
  sig: unknown,
  now = Date.now(),
): SignatureCheck {
  if (typeof expires !== 'string' || typeof sig !== 'string' || !/^\d{1,12}$/.test(expires)) return 'invalid_signature';
  const want = Buffer.from(assetSignature(secret, assetId, Number(expires)));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return 'invalid_signature';
  return Number(expires) * 1000 < now ? 'url_expired' : 'ok';
}
