import type { JobUpdate, Redis } from '@clickvid/core';
import { keys } from '@clickvid/core';

type Listener = (u: JobUpdate) => void;

/**
 * Fans job updates from the one Redis pub/sub channel out to the SSE streams open
 * in this process. One subscriber connection per server, however many streams.
 */
export class JobEvents {
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly sub: Redis) {}

  async start(): Promise<void> {
    await this.sub.subscribe(keys.jobEvents());
    this.sub.on('message', (_ch: string, msg: string) => {
      let u: JobUpdate;
      try {
        u = JSON.parse(msg) as JobUpdate;
      } catch {
        return;
      }
      for (const l of this.listeners.get(u.id) ?? []) l(u);
    });
  }

  on(jobId: string, l: Listener): () => void {
    const set = this.listeners.get(jobId) ?? new Set();
    set.add(l);
    this.listeners.set(jobId, set);
    return () => {
      set.delete(l);
      if (set.size === 0) this.listeners.delete(jobId);
    };
  }
}
