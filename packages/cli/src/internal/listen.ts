import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Clickvid, TeamEvent } from '@clickvid/sdk';
import { profilePath, readJsonFile } from './profiles.js';

/** What `listen --json` prints for each event it forwarded. */
export interface Forwarded {
  id: string;
  type: TeamEvent['type'];
  job_id: string;
  status: number;
  attempts: number;
}

/**
 * `$XDG_CONFIG_HOME/clickvid/listen-<hash>.json`, one per (API, forward URL): where a listener
 * keeps the id of the last event its target acknowledged, so a restart resumes after it.
 */
export function defaultStatePath(env: Record<string, string | undefined>, apiUrl: string, forwardTo: string): string {
  const tag = createHash('sha256').update(`${apiUrl}\n${forwardTo}`).digest('hex').slice(0, 12);
  return join(dirname(profilePath(env)), `listen-${tag}.json`);
}

/** The last acknowledged event id in the state file, or undefined when there is none yet. */
export async function readLastEventId(path: string): Promise<string | undefined> {
  const v = (await readJsonFile(path))?.last_event_id;
  return typeof v === 'string' ? v : undefined;
}

/** Records `id` as acknowledged: a temporary file renamed over the old one, so a kill never leaves half a file. */
export async function writeLastEventId(path: string, id: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify({ last_event_id: id, updated_at: new Date().toISOString() })}\n`, { mode: 0o600 });
  await rename(temp, path);
}

/**
 * The body forwarded for an event: the shape of a webhook delivery (`type`, `timestamp`,
 * `data` = the job), so a local webhook handler can be tested with it.
 */
export const forwardBody = (e: TeamEvent) => JSON.stringify({ type: e.type, timestamp: e.created_at, data: e.job });

/** The `webhook-id` of a forwarded event: stable per event, so a receiver dedupes a resend. */
export const forwardId = (e: TeamEvent) => `evt_${e.id}`;

/**
 * POSTs one event to `url`, signed as the server signs webhooks (the SDK's `webhooks.sign`,
 * Standard Webhooks), until the target answers 2xx: a listener never skips an event, it
 * waits (capped backoff) for a target that is down or failing. `onRetry` hears each failure.
 */
export async function forward(
  client: Clickvid,
  url: string,
  event: TeamEvent,
  secret: string | undefined,
  onRetry: (attempt: number, why: string) => void,
  signal?: AbortSignal,
): Promise<{ status: number; attempts: number }> {
  const body = forwardBody(event);
  for (let attempt = 1; ; attempt++) {
    // Signed per attempt: the timestamp is the send time, as the server's retries do.
    const headers = client.webhooks.sign(body, secret, { id: forwardId(event) });
    let why: string;
    try {
      const res = await fetch(url, {
        method: 'POST', body, signal,
        headers: { 'content-type': 'application/json', 'user-agent': 'clickvid-listen/1', ...headers },
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return { status: res.status, attempts: attempt };
      why = `${url} answered ${res.status}`;
    } catch (err) {
      if (signal?.aborted) throw err;
      why = `${url}: ${(err as Error).message}`;
    }
    onRetry(attempt, why);
    await new Promise((r) => setTimeout(r, Math.min(8000, 250 * 2 ** Math.min(attempt, 5))));
  }
}
