import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.js';
import { ApiError } from '../errors.js';
import { studioCsp } from '../internal/browser-security.js';

interface StaticFile {
  body: Buffer;
  gzip: Buffer | null;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};

/**
 * The studio web page (packages/web, built to static files) at `/`, its files under `/studio/`.
 * A handful of small files, read and gzipped once at start: no static-file plugin needed.
 * index.html is revalidated on every load (it names the current bundle); the bundle's file
 * names carry a content hash, so they are cached for a year.
 */
export const studioRoutes = (d: Deps): FastifyPluginAsync => async (app) => {
  const files = loadStudio(d.config.studioDir);
  const csp = studioCsp(d.storage);
  const send = (req: FastifyRequest, reply: FastifyReply, f: StaticFile, cache: string) => {
    reply
      .header('content-type', f.type)
      .header('cache-control', cache)
      .header('etag', f.etag)
      .header('vary', 'Accept-Encoding')
      .header('x-content-type-options', 'nosniff');
    if (req.headers['if-none-match'] === f.etag) return reply.status(304).send();
    if (f.gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) return reply.header('content-encoding', 'gzip').send(f.gzip);
    return reply.send(f.body);
  };

  const page = async (req: FastifyRequest, reply: FastifyReply) => {
    const index = files.get('index.html');
    if (!index) throw new ApiError('not_found', `The studio page is not built: run \`npm run build\` (looked in ${d.config.studioDir}).`);
    reply
      .header('content-security-policy', csp)
      // Signed asset URLs must not leak to other sites through Referer.
      .header('referrer-policy', 'no-referrer')
      .header('cross-origin-opener-policy', 'same-origin')
      .header('x-frame-options', 'DENY');
    return send(req, reply, index, 'no-cache');
  };
  app.get('/', { schema: { hide: true } }, page);
  app.get('/index.html', { schema: { hide: true } }, page);
  app.get<{ Params: { file: string } }>('/studio/:file', { schema: { hide: true } }, async (req, reply) => {
    const f = files.get(`studio/${req.params.file}`);
    if (!f) throw new ApiError('not_found', `No studio file ${req.params.file}.`);
    return send(req, reply, f, 'public, max-age=31536000, immutable');
  });
};

/** The built files by path relative to the studio directory (index.html, studio/…); none when it is not built. */
function loadStudio(dir: string): Map<string, StaticFile> {
  const out = new Map<string, StaticFile>();
  if (!existsSync(path.join(dir, 'index.html'))) return out;
  const walk = (rel: string) => {
    for (const ent of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const name = rel ? `${rel}/${ent.name}` : ent.name;
      if (ent.isDirectory()) walk(name);
      else {
        const type = TYPES[path.extname(ent.name)];
        if (!type) continue;
        const body = readFileSync(path.join(dir, name));
        const gzip = type.startsWith('image/png') ? null : gzipSync(body, { level: 9 });
        out.set(name, { body, gzip: gzip && gzip.length < body.length ? gzip : null, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
      }
    }
  };
  walk('');
  return out;
}
