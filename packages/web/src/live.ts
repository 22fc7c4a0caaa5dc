import type { Clickvid, Job } from '@clickvid/sdk/browser';

/**
 * Live job updates for the whole page, behind one small interface: whatever feeds it (the
 * team's event stream, or polling), views only `watch` a job and hear about it. One feed per
 * page, never one connection per job: browsers allow about six connections per site.
 */
export interface JobFeed {
  /** Follow this job until it ends (a terminal job is reported once, then dropped). */
  watch(id: string): void;
  /** Called with every update of a watched job; returns the unsubscribe function. */
  on(listener: (job: Job) => void): () => void;
  close(): void;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

/** The page's feed: the team's event stream. */
export function createFeed(client: Clickvid): JobFeed {
  return streamFeed(client);
}

/**
 * Follows GET /v1/events, one stream for the page. The SDK resumes a dropped connection from
 * the last event id (no event lost or repeated); an error it gives up on (a 401, say) is
 * retried here after a pause, so the page keeps its live status without a reload. Events carry
 * the job as its change left it; a succeeded job is read once more for its signed URLs.
 * A job watched just after it was created is also read once, in case it ended (a cache hit)
 * before the stream was open.
 */
export function streamFeed(client: Clickvid): JobFeed {
  const watched = new Set<string>();
  const heard = new Set<string>();
  const listeners = new Set<(job: Job) => void>();
  const ac = new AbortController();
  const emit = (job: Job) => {
    if (!watched.has(job.id)) return;
    heard.add(job.id);
    if (TERMINAL.has(job.status)) watched.delete(job.id);
    for (const l of listeners) l(job);
  };
  const handle = async (job: Job) => {
    if (!watched.has(job.id)) return;
    if (job.status === 'succeeded' && !job.urls) job = await client.jobs.retrieve(job.id).catch(() => job);
    emit(job);
  };
  void (async () => {
    let last: string | undefined;
    while (!ac.signal.aborted) {
      try {
        for await (const event of client.events.stream({ signal: ac.signal, ...(last ? { lastEventId: last } : {}) })) {
          last = event.id;
          void handle(event.job);
        }
      } catch {
        if (ac.signal.aborted) return;
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
  })();
  return {
    watch(id) {
      watched.add(id);
      setTimeout(() => {
        if (watched.has(id) && !heard.has(id)) void client.jobs.retrieve(id).then(handle, () => undefined);
      }, 1500);
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      ac.abort();
    },
  };
}

/**
 * The fallback where no event stream is available: polls GET /v1/jobs (newest first: the jobs a user watches are the newest) once a second
 * while something is watched, and GET /v1/jobs/{id} for a watched job not on that page.
 * A failed poll (a 429, a dropped connection) is retried at the next tick.
 */
export function pollingFeed(client: Clickvid, intervalMs = 1000): JobFeed {
  const watched = new Set<string>();
  const listeners = new Set<(job: Job) => void>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;
  const emit = (job: Job) => {
    if (!watched.has(job.id)) return;
    if (TERMINAL.has(job.status)) watched.delete(job.id);
    for (const l of listeners) l(job);
  };
  const tick = async () => {
    timer = null;
    if (closed || watched.size === 0) return;
    try {
      const page = await client.jobs.list({ limit: 20 });
      const seen = new Set<string>();
      for (const job of page.data) {
        seen.add(job.id);
        emit(job);
      }
      for (const id of [...watched].filter((w) => !seen.has(w))) emit(await client.jobs.retrieve(id));
    } catch {
      /* the next tick tries again */
    }
    schedule();
  };
  const schedule = () => {
    if (!closed && !timer && watched.size > 0) timer = setTimeout(() => void tick(), intervalMs);
  };
  return {
    watch(id) {
      watched.add(id);
      schedule();
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
