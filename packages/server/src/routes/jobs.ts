import { ErrorBody, GenerateRequest, Job, JobEvent, JobList, JobListQuery, PromoteRequest, TERMINAL_STATUSES } from '@clickvid/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../deps.js';
import { checkIdempotencyKey } from '../idempotency.js';
import { requestTrace } from '../internal/http-tracing.js';
import { openSse } from '../internal/sse.js';

const IdParams = z.object({ id: z.string().max(64) });
const IdemHeaders = z.object({ 'idempotency-key': z.string().optional() }).loose();
const GenerateHeaders = IdemHeaders.extend({
  'cancel-after': z.coerce.number().int().min(1).max(7 * 86_400).optional().describe('Same as the body\'s deadline_s (the body wins when both are sent).'),
}).loose();
const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody, 429: ErrorBody };

export const jobRoutes = (d: Deps): FastifyPluginAsyncZod => async (app) => {
  app.post('/v1/generate', {
    schema: {
      summary: 'Submit a prompt; returns the queued job (202). Send an Idempotency-Key to make retries safe.',
      tags: ['jobs'],
      headers: GenerateHeaders,
      body: GenerateRequest,
      response: { 200: Job, 202: Job, ...errors },
    },
  }, async (req, reply) => {
    const key = checkIdempotencyKey(req.headers['idempotency-key']);
    // The header is folded into the body: one request, one fingerprint for Idempotency-Key.
    const after = req.headers['cancel-after'];
    const body = after !== undefined && req.body.deadline_s === undefined ? { ...req.body, deadline_s: after } : req.body;
    const work = async () => ({ status: 202, body: await d.jobs.generate(req.team, body, requestTrace(req)) });
    const res = key !== undefined ? await d.idempotency.run(req.team.id, key, { route: 'generate', body }, work) : { ...(await work()), replayed: false };
    if (res.replayed) reply.header('idempotent-replayed', 'true');
    // The body is a Job the service built (or the stored first answer to this key), typed
    // as the contract's: checking it against the schema again cost a fifth of a submit's CPU.
    return reply.status(res.status).type('application/json; charset=utf-8').serializer(JSON.stringify).send(res.body as Job);
  });

  app.get('/v1/jobs/:id', {
    schema: { summary: 'A job with status, progress, queue position, estimate and usage.', tags: ['jobs'], params: IdParams, response: { 200: Job, ...errors } },
  }, async (req) => d.jobs.present(await d.jobs.get(req.team, req.params.id)));

  app.get('/v1/jobs', {
    schema: { summary: "The team's jobs, newest first, with cursor pagination; `parent` lists the jobs made from one. Succeeded jobs carry signed `urls`.", tags: ['jobs'], querystring: JobListQuery, response: { 200: JobList, ...errors } },
  }, async (req) => {
    const q = req.query;
    const page = await d.store.list(req.team.id, {
      limit: q.limit,
      cursor: q.cursor,
      filter: (j) =>
        (!q.status || j.status === q.status) &&
        (!q.quality || j.quality === q.quality) &&
        (!q.campaign || j.metadata.campaign === q.campaign) &&
        (!q.parent || j.parent_job_id === q.parent),
    });
    return { object: 'list' as const, data: await d.jobs.presentMany(page.jobs), next_cursor: page.nextCursor };
  });

  app.post('/v1/jobs/:id/cancel', {
    schema: { summary: 'Cancel a queued or running job (idempotent).', tags: ['jobs'], params: IdParams, response: { 200: Job, ...errors } },
  }, async (req) => d.jobs.cancel(req.team, req.params.id));

  app.post('/v1/jobs/:id/promote', {
    schema: {
      summary: 'Render the same prompt, seed and framing at a higher quality. Idempotent per (job, quality).',
      tags: ['jobs'],
      params: IdParams,
      headers: IdemHeaders,
      body: PromoteRequest.optional(),
      response: { 200: Job, 202: Job, ...errors },
    },
  }, async (req, reply) => {
    // Promotion is idempotent per (job, quality) by itself; a bad key is still the caller's bug to hear about.
    checkIdempotencyKey(req.headers['idempotency-key']);
    const body = PromoteRequest.parse(req.body ?? {});
    const { job, created } = await d.jobs.promote(req.team, req.params.id, body.quality, body.webhook_url, requestTrace(req));
    if (!created) reply.header('idempotent-replayed', 'true');
    return reply.status(created ? 202 : 200).send(job);
  });

  app.get('/v1/jobs/:id/events', {
    schema: {
      summary: 'Server-sent events: status and progress until the job ends (event: done). Each event has an `id:`; reconnect with Last-Event-ID to resume without repeats.',
      tags: ['jobs'],
      params: IdParams,
      headers: z.object({ 'last-event-id': z.string().max(200).optional() }).loose(),
      produces: ['text/event-stream'],
      response: { 200: JobEvent.describe('each `data:` line'), ...errors },
    },
  }, async (req, reply) => {
    await d.jobs.get(req.team, req.params.id); // 404 before the stream opens
    const sse = await openSse(d.streams, req, reply, { limit: d.config.sseMaxStreamsPerTeam, instead: `poll GET /v1/jobs/${req.params.id}` });
    // The id of an event is the state it reports (see eventId). A client resuming with
    // Last-Event-ID gets only what changed since, and `done` at once if the job ended.
    let last = req.headers['last-event-id'] ?? '';
    const send = (type: JobEvent['type'], job?: Job, id?: string) =>
      sse.write(`${id ? `id: ${id}\n` : ''}event: ${type}\ndata: ${JSON.stringify({ type, ...(job ? { job } : {}) })}\n\n`);
    // Updates arrive by pub/sub; a slow poll covers queue-position changes and missed messages.
    const refresh = async () => {
      const s = await d.store.get(req.params.id);
      if (!s || sse.closed) return;
      const job = await d.jobs.present(s);
      const id = eventId(job);
      if (id === last) return;
      const type = statusOf(id) === statusOf(last) ? 'progress' : 'status';
      last = id;
      if (TERMINAL_STATUSES.includes(job.status)) {
        send('done', job, id);
        sse.close();
      } else send(type, job, id);
    };
    const off = d.events.on(req.params.id, () => void refresh().catch(() => undefined));
    const heartbeat = setInterval(() => send('heartbeat'), 15_000);
    const poll = setInterval(() => void refresh().catch(() => undefined), 1000);
    sse.onClose(() => {
      clearInterval(heartbeat);
      clearInterval(poll);
      off();
    });
    await refresh().catch(() => undefined);
  });
};

/** An event's id: the state it shows. Two events with the same id show the same thing. */
const eventId = (job: Job) => `${job.status}|${job.progress}|${job.queue_position ?? ''}`;
const statusOf = (id: string) => id.split('|')[0];
