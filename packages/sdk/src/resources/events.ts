import { TeamEvent } from '@clickvid/contracts';
import { APIError, APIResponseValidationError, APIUserAbortError } from '../errors.js';
import { backoffMs, isRetryableStatus, sleep } from '../internal/retry.js';
import { parseSSE } from '../internal/sse.js';
import type { Transport } from '../internal/transport.js';

/** Options of `events.stream`. */
export interface TeamStreamOptions {
  /** Start after this event (an `id` of an event seen before). @defaultValue none: start with the next event */
  lastEventId?: string | undefined;
  /** Aborting it closes the stream; the iterator then throws {@link APIUserAbortError}. */
  signal?: AbortSignal | undefined;
  /**
   * Reconnects in a row (without an event between them) before the iterator throws the
   * last error. Each waits a capped, jittered backoff. @defaultValue Infinity
   */
  maxReconnects?: number | undefined;
}

/** The team's event stream: every job event of the key's team. */
export class Events {
  /** @internal */
  constructor(private readonly transport: Transport) {}

  /**
   * Every job event of the team as it happens (`job.queued`, `job.running`,
   * `job.progress`, `job.succeeded`, `job.failed`, `job.canceled`), for as long as
   * you iterate. When the connection drops (network, server restart, idle timeout)
   * it reconnects with `Last-Event-ID` set to the last event it yielded, so the
   * events in between arrive in order and none twice (the server keeps a window,
   * CLICKVID_EVENTS_RETAIN_S). Errors that another try cannot fix (401, 403, 400)
   * are thrown at once. Breaking out of the loop closes the connection.
   *
   * ```ts
   * for await (const event of client.events.stream({ lastEventId: saved })) {
   *   render(event.job);
   *   saved = event.id;
   * }
   * ```
   */
  async *stream(options: TeamStreamOptions = {}): AsyncGenerator<TeamEvent> {
    let last = options.lastEventId;
    const max = options.maxReconnects ?? Infinity;
    for (let failures = 0; ; ) {
      let error: unknown;
      try {
        const res = await this.transport.stream({
          method: 'GET',
          path: '/v1/events',
          accept: 'text/event-stream',
          headers: last ? { 'last-event-id': last } : undefined,
          signal: options.signal,
        });
        try {
          for await (const msg of parseSSE(res.body)) {
            const event = toTeamEvent(msg.event, msg.data, res.requestId);
            if (!event) continue;
            failures = 0;
            last = event.id;
            yield event;
          }
          error = new Error('the server closed the event stream');
        } finally {
          res.close();
        }
      } catch (err) {
        if (options.signal?.aborted) throw new APIUserAbortError(undefined, { cause: err });
        if (err instanceof APIResponseValidationError) throw err;
        if (err instanceof APIError && !isRetryableStatus(err.status)) throw err;
        error = err;
      }
      if (++failures > max) throw error;
      try {
        await sleep(backoffMs(failures - 1), options.signal);
      } catch (cause) {
        throw new APIUserAbortError(undefined, { cause });
      }
    }
  }
}

function toTeamEvent(name: string, data: string, requestId: string | undefined): TeamEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch (cause) {
    throw new APIResponseValidationError(`Team event "${name}" is not JSON.`, { cause, requestId });
  }
  const parsed = TeamEvent.safeParse(raw);
  if (parsed.success) return parsed.data;
  // Event types this SDK does not know yet are skipped, so the server can add some without breaking old clients.
  const type = (raw as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && !TeamEvent.shape.type.options.includes(type as TeamEvent['type'])) return undefined;
  throw new APIResponseValidationError(`Team event "${name}" does not match the contract: ${parsed.error.message}`, { cause: parsed.error, requestId });
}
