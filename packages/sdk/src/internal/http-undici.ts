import { request, type Dispatcher } from 'undici';
import type { HttpRequest, HttpResponse, HttpSend } from './http.js';

/** {@link HttpSend} over undici's `request`: the Node default (pooled keep-alive, header and body timeouts). */
export function undiciHttp(dispatcher: Dispatcher | undefined): HttpSend {
  return async (req: HttpRequest): Promise<HttpResponse> => {
    const res = await request(req.url, {
      method: req.method as Dispatcher.HttpMethod,
      headers: req.headers,
      body: req.body,
      signal: req.signal,
      dispatcher,
      headersTimeout: req.headersTimeoutMs,
      bodyTimeout: req.bodyTimeoutMs,
    });
    return {
      status: res.statusCode,
      headers: flattenHeaders(res.headers),
      text: () => res.body.text(),
      chunks: () => res.body,
      close: () => {
        res.body.destroy();
      },
    };
  };
}

export function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}
