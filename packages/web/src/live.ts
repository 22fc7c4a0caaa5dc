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

/** The page's feed. */
export function createFeed(client: Clickvid): JobFeed {
  return pollingFeed(client);
}

/**
 * Polls GET /v1/jobs (newest first: the jobs a user watches are the newest) once a second
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
