import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import { eventStreamHead } from './browser-security.js';
import { StreamSlots } from './stream-slots.js';

/** An open server-sent events response. */
export interface SseStream {
  /** Writes one chunk; a no-op once closed. */
  write(chunk: string): void;
  /** Resolves when the socket can take more (at once unless the last write filled its buffer). */
  drained(): Promise<void>;
  /** Ends the response and runs the close handlers, once. */
  close(): void;
  /** Runs `fn` when the stream closes, by either end. */
  onClose(fn: () => void): void;
  readonly closed: boolean;
}

/**
 * Opens an event stream under the team's stream cap (StreamSlots, counted across servers):
 * a 429 `too_many_streams` before anything is sent when the team is at its limit, else a
 * hijacked 200 `text/event-stream` whose slot lease is renewed while it is open and
 * released when it closes. The per-job and the team stream both open through here.
 */
export async function openSse(
  streams: StreamSlots,
  req: FastifyRequest,
  reply: FastifyReply,
  opts: { limit: number; instead: string },
): Promise<SseStream> {
  const slot = await streams.acquire(req.team.id, req.id);
  if (!slot) {
    throw new ApiError('too_many_streams', `The team has ${opts.limit} event streams open; close one, or ${opts.instead}.`, {
      headers: { 'retry-after': '5' },
    });
  }
  reply.hijack();
  const res = reply.raw;
  // With the headers the hooks set (request id, rate limits, CORS): a hijacked reply sends none by itself.
  res.writeHead(200, eventStreamHead(req, reply));
  const handlers: Array<() => void> = [];
  let closed = false;
  let full = false;
  const lease = setInterval(() => void slot.renew().catch(() => undefined), StreamSlots.RENEW_MS);
  const stream: SseStream = {
    write(chunk) {
      if (!closed && !res.write(chunk)) full = true;
    },
    async drained() {
      if (!full || closed) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
      full = false;
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(lease);
      for (const fn of handlers.splice(0)) fn();
      void slot.release().catch(() => undefined);
      res.end();
    },
    onClose(fn) {
      handlers.push(fn);
    },
    get closed() {
      return closed;
    },
  };
  req.raw.on('close', () => stream.close());
  return stream;
}
