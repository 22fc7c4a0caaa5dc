/**
 * The one thing the transport needs from a platform: send a request, get a status, headers and
 * a body. Node uses undici (./http-undici.ts); browsers, and Node clients given a `fetch`
 * option, use fetch (./http-fetch.ts). Nothing here imports a Node built-in.
 */
export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal;
  /** Time allowed for the response headers. */
  headersTimeoutMs: number;
  /** Longest silence allowed between two body chunks. */
  bodyTimeoutMs: number;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The whole body as text. */
  text(): Promise<string>;
  /** The body as it arrives. */
  chunks(): AsyncIterable<Uint8Array>;
  /** Drop the body (and the connection's interest in it). */
  close(): void;
}

export type HttpSend = (req: HttpRequest) => Promise<HttpResponse>;

/** Error code of a failure to reach the server through fetch (which gives no code of its own in browsers). */
export const FETCH_FAILED = 'FETCH_FAILED';
/** Error code of a body that went silent for longer than `bodyTimeoutMs`. */
export const BODY_TIMEOUT = 'BODY_TIMEOUT';
