import { ErrorBody, TeamEvent, TeamEventId } from '@clickvid/contracts';
import { fieldsOf, keys } from '@clickvid/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../deps.js';
import { openSse } from '../internal/sse.js';

/** Entries read from the team's stream per XRANGE. */
const PAGE = 200;
const KEEPALIVE_MS = 15_000;
/** Pub/sub only wakes a stream; this poll catches a message lost while the subscriber reconnected. */
const POLL_MS = 2000;

export const eventRoutes = (d: Deps): FastifyPluginAsyncZod => async (app) => {
  app.get('/v1/events', {
    schema: {
      summary:
        "Server-sent events: every job event of the caller's team (job.queued, job.running, job.progress, job.succeeded, job.failed, job.canceled), each with an `id:`. " +
        'Reconnect with Last-Event-ID to get, in order, every event after it that is still within the retention window (CLICKVID_EVENTS_RETAIN_S); without it the stream starts with the next event. ' +
        'A comment line keeps the connection alive every 15 s.',
      tags: ['events'],
      headers: z.object({ 'last-event-id': TeamEventId.optional() }).loose(),
      produces: ['text/event-stream'],
      response: { 200: TeamEvent.describe('each `data:` line'), 400: ErrorBody, 401: ErrorBody, 429: ErrorBody },
    },
  }, async (req, reply) => {
    const key = keys.teamEvents(req.team.id);
    // Without Last-Event-ID the stream starts after the newest event there is now.
    let cursor = req.headers['last-event-id'] ?? (await newestId(d, key));
    const sse = await openSse(d.streams, req, reply, { limit: d.config.sseMaxStreamsPerTeam, instead: 'poll GET /v1/jobs' });
    sse.write(': connected\n\n');

    // Reads everything after the cursor, in order, from Redis: the stream is the source of
    // truth and pub/sub only says "look". One read at a time; a wake-up during a read reads again.
    let reading = false;
    let again = false;
    const pump = async () => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          for (;;) {
            const entries = (await d.redis.xrange(key, `(${cursor}`, '+', 'COUNT', PAGE)) as Array<[string, string[]]>;
            for (const [id, flat] of entries) {
              if (sse.closed) return;
              const f = fieldsOf(flat);
              // The stored data is the event without its id, which Redis gave it on XADD.
              sse.write(`id: ${id}\nevent: ${f.type}\ndata: {"id":"${id}",${f.data!.slice(1)}\n\n`);
              cursor = id;
            }
            await sse.drained();
            if (entries.length < PAGE || sse.closed) break;
          }
        } while (again && !sse.closed);
      } finally {
        reading = false;
      }
    };
    const wake = () => void pump().catch(() => undefined);
    const off = d.events.onTeam(req.team.id, wake);
    const keepalive = setInterval(() => sse.write(': keep-alive\n\n'), KEEPALIVE_MS);
    const poll = setInterval(wake, POLL_MS);
    sse.onClose(() => {
      clearInterval(keepalive);
      clearInterval(poll);
      off();
    });
    wake();
  });
};

async function newestId(d: Deps, key: string): Promise<string> {
  const last = (await d.redis.xrevrange(key, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
  return last[0]?.[0] ?? '0-0';
}
