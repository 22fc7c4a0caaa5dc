import type { Clickvid, Job } from '@clickvid/sdk/browser';

/**
 * Live job updates for the whole page, behind one small interface: views only `watch` a job
 * and hear about it. One feed per page, never one connection per job: browsers allow about
 * six connections per site.
 */
export interface JobFeed {
  /** Follow this job until it ends (a terminal job is reported once, then dropped). */
  watch(id: string): void;
  /** Called with every update of a watched job; returns the unsubscribe function. */
  on(listener: (job: Job) => void): () => void;
  close(): void;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

/** A watched job the stream said nothing about for this long is read directly. */
const QUIET_MS = 4000;

/**
 * The page's feed: GET /v1/events, one stream for the page. The SDK resumes a dropped
 * connection from the last event id (no event lost or repeated) and keeps trying while it
 * fails. Meanwhile (the team's stream cap answers 429, a proxy cuts the stream, the job ended
 * before the stream was open) a watched job that no event mentioned for a few seconds is read
 * with GET /v1/jobs/{id}, so the page keeps its live status without a reload. Events carry the
 * job as its change left it; a succeeded job is read once more for its signed URLs.
 */
export function createFeed(client: Clickvid): JobFeed {
  /** Watched job ids → when the feed last heard of each. */
  const watched = new Map<string, number>();
  const listeners = new Set<(job: Job) => void>();
  const ac = new AbortController();
  const emit = (job: Job) => {
    if (!watched.has(job.id)) return;
    if (TERMINAL.has(job.status)) watched.delete(job.id);
    else watched.set(job.id, Date.now());
    for (const l of listeners) l(job);
  };
  const handle = async (job: Job) => {
    if (!watched.has(job.id)) return;
    watched.set(job.id, Date.now());
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
        // Thrown only for what another try cannot fix (a 401): pause, then try again.
        await new Promise((r) => setTimeout(r, 5000));
      }
    }
  })();
  const quiet = setInterval(() => {
    const now = Date.now();
    for (const [id, heard] of watched) if (now - heard > QUIET_MS) void client.jobs.retrieve(id).then(handle, () => undefined);
  }, 1000);
  return {
    watch(id) {
      // As if heard just before: the first direct read comes after a short quiet spell.
      if (!watched.has(id)) watched.set(id, Date.now() - QUIET_MS + 1500);
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      ac.abort();
      clearInterval(quiet);
    },
  };
}
