import { Asset, ErrorBody } from '@clickvid/contracts';
import { assetExpired, verifyAssetSignature, type AssetRecord } from '@clickvid/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../deps.js';
import { ApiError } from '../errors.js';

const IdParams = z.object({ id: z.string().max(64) });

/** Asset metadata with a signed URL (authenticated). */
export const assetRoutes = (d: Deps): FastifyPluginAsyncZod => async (app) => {
  app.get('/v1/assets/:id', {
    schema: {
      summary: 'Asset metadata and a short-lived signed URL (expires_at).',
      tags: ['assets'],
      params: IdParams,
      response: { 200: Asset, 401: ErrorBody, 404: ErrorBody, 410: ErrorBody },
    },
  }, async (req) => {
    const rec = await d.assets.get(req.params.id);
    if (!rec || rec.team !== req.team.id) throw new ApiError('asset_not_found', `No asset ${req.params.id}.`, { param: 'id' });
    if (assetExpired(rec)) throw expired(rec);
    return d.assets.toPublic(rec, d.storage, d.config.storage.urlTtlS);
  });
};

/** The bytes behind a local signed URL: no API key, only the signature and expiry. */
export const assetContentRoute = (d: Deps): FastifyPluginAsyncZod => async (app) => {
  app.get('/v1/assets/:id/content', {
    schema: {
      summary: 'The file, while the signature and expiry in the query hold (local storage).',
      tags: ['assets'],
      params: IdParams,
      querystring: z.object({ expires: z.string().optional(), sig: z.string().optional() }),
      response: { 403: ErrorBody, 404: ErrorBody, 410: ErrorBody },
    },
  }, async (req, reply) => {
    const check = verifyAssetSignature(d.config.signingSecret, req.params.id, req.query.expires, req.query.sig);
    if (check !== 'ok') throw new ApiError(check);
    const rec = await d.assets.get(req.params.id);
    if (!rec) throw new ApiError('asset_not_found');
    if (assetExpired(rec)) throw expired(rec);
    let stream;
    try {
      stream = await d.storage.get(rec.storage_key);
    } catch {
      throw new ApiError('asset_not_found', 'The file is no longer stored.');
    }
    const name = `${rec.job_id}${rec.kind === 'video' ? '.mp4' : '.png'}`;
    return reply
      .header('content-type', rec.content_type)
      .header('content-length', String(rec.bytes))
      .header('cache-control', 'private, max-age=300')
      .header('content-disposition', `inline; filename="${name}"`)
      .header('etag', `"${rec.sha256}"`)
      .send(stream as never); // a stream is piped, never serialized
  });
};

/** 410 for an asset whose files passed their tier's lifetime (the record stays for the grace period). */
const expired = (rec: AssetRecord) =>
  new ApiError('asset_expired', `Asset ${rec.id} expired at ${rec.files_expire_at}; its files are no longer kept.`, {
    details: { expired_at: rec.files_expire_at },
  });
