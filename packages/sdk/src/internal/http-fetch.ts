import { BODY_TIMEOUT, FETCH_FAILED, type HttpRequest, type HttpResponse, type HttpSend } from './http.js';
import { errorCode } from './retry.js';

/** The `fetch` a client uses: the global one, or one passed in options (a proxy's, a test's). */
export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/**
 * {@link HttpSend} over fetch. Headers time out through the transport's abort signal; the body
 * gets its own idle timer, since fetch has no body timeout.
 */
export function fetchHttp(fetchImpl: Fetch): HttpSend {
  return async (req: HttpRequest): Promise<HttpResponse> => {
    let res: Response;
    try {
      res = await fetchImpl(req.url, { method: req.method, headers: req.headers, body: req.body, signal: req.signal });
    } catch (err) {
      if (req.signal.aborted) throw err;
      // A network failure: fetch says only "TypeError: fetch failed" (Node keeps the cause's code).
      throw Object.assign(new Error(`fetch failed: ${describeCause(err)}`, { cause: err }), { code: errorCode(err) ?? FETCH_FAILED });
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    return {
      status: res.status,
      headers,
      text: () => res.text(),
      chunks: () => idleTimed(res, req.bodyTimeoutMs),
      close: () => {
        res.body?.cancel().catch(() => {});
      },
    };
  };
}

/** The body's chunks; throws a BODY_TIMEOUT error when none comes for `idleMs`. */
async function* idleTimed(res: Response, idleMs: number): AsyncGenerator<Uint8Array> {
  if (!res.body) return;
  // A reader rather than `for await` over the stream: Safari's ReadableStream is not async-iterable.
  const reader = res.body.getReader();
  try {
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(Object.assign(new Error(`no data for ${idleMs} ms`), { code: BODY_TIMEOUT })),
          idleMs,
        );
      });
      try {
        const { done, value } = await Promise.race([reader.read(), idle]);
        if (done) return;
        yield value;
      } finally {
        clearTimeout(timer);
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

function describeCause(err: unknown): string {
  const cause = (err as { cause?: unknown })?.cause;
  const code = errorCode(err);
  const message = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${code} ${message}` : message;
}
