import type { JobUpdate, Redis } from '@clickvid/core';
import { keys } from '@clickvid/core';

type Listener = (u: JobUpdate) => void;

/**
 * Fans job updates from the one Redis pub/sub channel out to the SSE streams open
 * in this process, by job (GET /v1/jobs/{id}/events) and by team (GET /v1/events).
 * One subscriber connection per server, however many streams.
 */
export class JobEvents {
  private readonly byJob = new Map<string, Set<Listener>>();
  private readonly byTeam = new Map<string, Set<Listener>>();

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
      for (const l of this.byJob.get(u.id) ?? []) l(u);
      for (const l of this.byTeam.get(u.team) ?? []) l(u);
    });
  }

  /** Calls `l` on every update of the job until the returned function is called. */
  on(jobId: string, l: Listener): () => void {
    return add(this.byJob, jobId, l);
  }

  /** Calls `l` on every update of any job of the team until the returned function is called. */
  onTeam(team: string, l: Listener): () => void {
    return add(this.byTeam, team, l);
  }
}

function add(map: Map<string, Set<Listener>>, key: string, l: Listener): () => void {
  const set = map.get(key) ?? new Set();
  set.add(l);
  map.set(key, set);
  return () => {
    set.delete(l);
    if (set.size === 0) map.delete(key);
  };
}
