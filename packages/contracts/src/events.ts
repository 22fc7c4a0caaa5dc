import { z } from 'zod';
import { Job } from './jobs.js';

/** What happened to a job: one team event per lifecycle change. */
export const TeamEventType = z.enum(['job.queued', 'job.running', 'job.progress', 'job.succeeded', 'job.failed', 'job.canceled']);
export type TeamEventType = z.infer<typeof TeamEventType>;

/**
 * An event id: the entry id of the team's event stream in Redis (`<ms>-<seq>`), increasing.
 * Sent as the SSE `id:` line; a client resumes after it with `Last-Event-ID`.
 */
export const TeamEventId = z.string().regex(/^\d{1,15}-\d{1,10}$/, 'an event id such as 1764441600000-0');

/** One event on GET /v1/events (the `data:` JSON): the job as the change left it. */
export const TeamEvent = z.object({
  id: TeamEventId,
  type: TeamEventType,
  created_at: z.string(),
  job: Job,
});
export type TeamEvent = z.infer<typeof TeamEvent>;
