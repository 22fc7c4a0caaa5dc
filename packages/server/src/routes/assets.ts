import { Asset, AssetRetrieveQuery, ErrorBody } from '@clickvid/contracts';
import { assetExpired, assetFileName, verifyAssetSignature, type AssetRecord } from '@clickvid/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../deps.js';
import { ApiError } from '../errors.js';
import { parseRange } from '../internal/range.js';

const IdParams = z.object({ id: z.string().max(64) });

/** Asset metadata with a signed URL (authenticated). */
export const assetRoutes = (d: Deps): FastifyPluginAsyncZod => async (app) => {
  app.get('/v1/assets/:id', {
    schema: {
      summary: 'Asset metadata and a short-lived signed URL (expires_at); with download=1 the URL answers as an attachment.',
      tags: ['assets'],
      params: IdParams,
      querystring: AssetRetrieveQuery,
      response: { 200: Asset, 401: ErrorBody, 404: ErrorBody, 410: ErrorBody },
    },
  }, async (req) => {
    const rec = await d.assets.get(req.params.id);
    if (!rec || rec.team !== req.team.id) throw new ApiError('asset_not_found', `No asset ${req.params.id}.`, { param: 'id' });
    if (assetExpired(rec)) throw expired(rec);
    return d.assets.toPublic(rec, d.storage, d.config.storage.urlTtlS, req.query.download === '1' ? { download: assetFileName(rec) } : {});
  });
};

/**
 * The bytes behind a local signed URL: no API key, only the signature and expiry. Answers
 * byte ranges (206): Safari plays a video only from a server that does, and seeking needs them.
 */
export const assetContentRoute = (d: Deps): FastifyPluginAsyncZod => async (app) => {
  app.get('/v1/assets/:id/content', {
    schema: {
      summary: 'The file, while the signature and expiry in the query hold (local storage). Honours a single byte Range (206); download=1 answers as an attachment.',
      tags: ['assets'],
      params: IdParams,
      querystring: z.object({ expires: z.string().optional(), sig: z.string().optional(), download: z.enum(['0', '1']).optional() }),
      headers: z.object({ range: z.string().max(200).optional() }).loose(),
      response: { 206: z.any(), 403: ErrorBody, 404: ErrorBody, 410: ErrorBody, 416: ErrorBody },
    },
  }, async (req, reply) => {
    const check = verifyAssetSignature(d.config.signingSecret, req.params.id, req.query.expires, req.query.sig);
    if (check !== 'ok') throw new ApiError(check);
    const rec = await d.assets.get(req.params.id);
    if (!rec) throw new ApiError('asset_not_found');
    if (assetExpired(rec)) throw expired(rec);
    const range = parseRange(req.headers.range, rec.bytes);
    if (range === 'unsatisfiable') {
      reply.header('content-range', `bytes */${rec.bytes}`);
      throw new ApiError('range_not_satisfiable', `The file has ${rec.bytes} bytes; ask for a range inside them.`);
    }
    let stream;
    try {
      stream = await d.storage.get(rec.storage_key, range ?? undefined);
    } catch {
      throw new ApiError('asset_not_found', 'The file is no longer stored.');
    }
    const disposition = req.query.download === '1' ? 'attachment' : 'inline';
    reply
      .header('content-type', rec.content_type)
      .header('accept-ranges', 'bytes')
      .header('cache-control', 'private, max-age=300')
      .header('content-disposition', `${disposition}; filename="${assetFileName(rec)}"`)
      .header('etag', `"${rec.sha256}"`);
    if (range) {
      reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${rec.bytes}`).header('content-length', String(range.end - range.start + 1));
    } else reply.header('content-length', String(rec.bytes));
    return reply.send(stream as never); // a stream is piped, never serialized
  });
};

/** 410 for an asset whose files passed their tier's lifetime (the record stays for the grace period). */
const expired = (rec: AssetRecord) =>
  new ApiError('asset_expired', `Asset ${rec.id} expired at ${rec.files_expire_at}; its files are no longer kept.`, {
    details: { expired_at: rec.files_expire_at },
  });
