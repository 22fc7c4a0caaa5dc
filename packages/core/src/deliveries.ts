import { createHash, randomBytes } from 'node:crypto';
import type { WebhookDelivery, WebhookDeliveryStatus, WebhookEventType } from '@clickvid/contracts';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { keys } from './keys.js';
import type { WebhookJobData } from './queues.js';
import type { TraceParent } from './tracing.js';
import { DELIVERY_TTL_S, WEBHOOK_JOB_OPTIONS } from './webhook-events.js';

/** The most deliveries a team's index keeps; older ones drop out of the list (their records still expire on their own). */
export const DELIVERY_INDEX_MAX = 10_000;

/** A delivery as stored: the public record, its team, and the exact body every attempt sends. */
export interface StoredDelivery {
  delivery: WebhookDelivery;
  team: string;
  /** The event body the lifecycle script wrote when the job ended: the bytes signed and sent. */
  payload: string;
  trace: TraceParent | undefined;
}

/** What the sender learned from one attempt. */
export interface AttemptOutcome {
  /** 1-based: the attempt just made. */
  attempts: number;
  status: WebhookDeliveryStatus;
  /** Null when no HTTP answer came (network error, refused target). */
  statusCode: number | null;
  error: string | null;
  /** When the retry BullMQ was told to make is due; null when none is. */
  nextRetryAt: Date | null;
}

/** The id of an event's original delivery: derived from the event id, so handing an outbox entry over twice writes one record. */
export const originalDeliveryId = (eventId: string) => `dlv_${createHash('sha256').update(eventId).digest('hex').slice(0, 26)}`;

/** A replay's id: random, so BullMQ (jobId = delivery id) does not fold it into the original. */
export const newDeliveryId = () => `dlv_${randomBytes(13).toString('hex')}`;

/**
 * Writes a record unless it exists (a second hand-over of the same event writes nothing and
 * keeps the sender's progress), indexes it for its team and trims the index by age and size.
 * KEYS: record, team index. ARGV: ttl s, now ms, index max, id, then field/value pairs.
 */
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local ttl = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[1], ttl)
-- The index orders by creation: a delivery made in the same millisecond as the newest, or one
-- whose clock is behind it, goes 1 ms after it (ids are hashes and would order ties at random).
local top = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local score = now
if top[2] and tonumber(top[2]) >= now then score = tonumber(top[2]) + 1 end
redis.call('ZADD', KEYS[2], score, ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - ttl * 1000))
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[3]) + 1))
redis.call('EXPIRE', KEYS[2], ttl)
return 1
`;

/** Updates fields of a record that still exists: an expired one is not brought back without its TTL. KEYS: record. ARGV: pairs. */
const UPDATE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`;

/**
 * One page of a team's index, newest first, after the member `ARGV[1]` ('' for the first page).
 * By rank when that member is still indexed (exact, whatever the ties in time); by time when
 * it was trimmed meanwhile. KEYS: team index. ARGV: after id, after score, count.
 */
const PAGE = `
local n = tonumber(ARGV[3])
if ARGV[1] == '' then return redis.call('ZREVRANGE', KEYS[1], 0, n - 1, 'WITHSCORES') end
local r = redis.call('ZREVRANK', KEYS[1], ARGV[1])
if r then return redis.call('ZREVRANGE', KEYS[1], r + 1, r + n, 'WITHSCORES') end
return redis.call('ZREVRANGEBYSCORE', KEYS[1], '(' .. ARGV[2], '-inf', 'WITHSCORES', 'LIMIT', 0, n)
`;

/** The fields of a new record, before any attempt. */
export interface NewDelivery {
  id: string;
  team: string;
  eventId: string;
  jobId: string;
  type: WebhookEventType;
  url: string;
  payload: string;
  trace?: TraceParent | undefined;
  replayOf?: string | null | undefined;
}

/**
 * Webhook delivery records: one per delivery (the original of an event, and each replay),
 * written when the delivery is queued and updated by the sender after every attempt. Each
 * record keeps the payload it sends, so a replay sends exactly the same bytes. Records and
 * the team index expire after {@link DELIVERY_TTL_S}; the index also keeps at most
 * {@link DELIVERY_INDEX_MAX} ids per team.
 */
export class DeliveryStore {
  constructor(private readonly redis: Redis) {}

  /** Writes the records (pipelined) and answers, per record, whether it was new. */
  async createMany(records: NewDelivery[], now = Date.now()): Promise<boolean[]> {
    if (records.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const r of records) {
      const fields = toFields({
        id: r.id, team: r.team, event_id: r.eventId, job_id: r.jobId, type: r.type, url: r.url, status: 'pending', attempts: '0',
        last_status_code: '', last_error: '', next_retry_at: '', created_at: new Date(now).toISOString(), delivered_at: '',
        replay_of: r.replayOf ?? '', payload: r.payload, trace: r.trace ?? '',
      });
      pipe.eval(CREATE, 2, keys.webhookDelivery(r.id), keys.teamDeliveries(r.team), DELIVERY_TTL_S, now, DELIVERY_INDEX_MAX, r.id, ...fields);
    }
    const res = (await pipe.exec()) ?? [];
    return res.map(([err, created]) => {
      if (err) throw err;
      return created === 1;
    });
  }

  async create(record: NewDelivery, now = Date.now()): Promise<boolean> {
    return (await this.createMany([record], now))[0]!;
  }

  async get(id: string): Promise<StoredDelivery | null> {
    const raw = await this.redis.hgetall(keys.webhookDelivery(id));
    return raw.id ? parseStored(raw) : null;
  }

  /** A delivery of this team, or null: another team's id reads as missing. */
  async getForTeam(team: string, id: string): Promise<StoredDelivery | null> {
    const s = await this.get(id);
    return s && s.team === team ? s : null;
  }

  /** Records what an attempt did; false when the record has expired (the attempt is not recorded). */
  async recordAttempt(id: string, o: AttemptOutcome, now = new Date()): Promise<boolean> {
    const fields: Record<string, string> = {
      status: o.status,
      attempts: String(o.attempts),
      last_status_code: o.statusCode === null ? '' : String(o.statusCode),
      last_error: o.error ?? '',
      next_retry_at: o.nextRetryAt ? o.nextRetryAt.toISOString() : '',
    };
    if (o.status === 'succeeded') fields.delivered_at = now.toISOString();
    return (await this.redis.eval(UPDATE, 1, keys.webhookDelivery(id), ...toFields(fields))) === 1;
  }

  /**
   * A page of a team's deliveries, newest first. The cursor is `<score>:<id>` of the last
   * item of the previous page; filters apply while scanning, bounded (5,000 ids) so a sparse
   * filter cannot scan forever: a page may then come back short with a cursor to go on from.
   */
  async list(
    team: string,
    opts: { limit: number; cursor?: string | undefined; filter?: (d: WebhookDelivery) => boolean },
  ): Promise<{ deliveries: StoredDelivery[]; nextCursor: string | null }> {
    const out: StoredDelivery[] = [];
    const chunk = Math.max(opts.limit * 2, 50);
    let after = parseCursor(opts.cursor);
    for (let scanned = 0; scanned < 5000; ) {
      const flat = (await this.redis.eval(PAGE, 1, keys.teamDeliveries(team), after?.id ?? '', after?.score ?? 0, chunk)) as string[];
      const rows: Array<{ id: string; score: number }> = [];
      for (let i = 0; i < flat.length; i += 2) rows.push({ id: flat[i]!, score: Number(flat[i + 1]) });
      scanned += rows.length;
      const found = await this.getMany(rows.map((r) => r.id));
      for (const [i, row] of rows.entries()) {
        const s = found.get(row.id);
        if (!s || s.team !== team || (opts.filter && !opts.filter(s.delivery))) continue;
        out.push(s);
        if (out.length === opts.limit) {
          const more = i < rows.length - 1 || rows.length === chunk;
          return { deliveries: out, nextCursor: more ? cursorOf(row) : null };
        }
      }
      if (rows.length < chunk) return { deliveries: out, nextCursor: null };
      after = rows[rows.length - 1]!;
    }
    return { deliveries: out, nextCursor: after ? cursorOf(after) : null };
  }

  /**
   * Queues a new delivery of the same event as `original` (read with {@link getForTeam}): same
   * `webhook-id`, same stored body, a new record with `replay_of` and a job id of its own.
   */
  async replay(original: StoredDelivery, queue: Queue<WebhookJobData>, now = Date.now()): Promise<StoredDelivery> {
    const { team, delivery: d } = original;
    const record: NewDelivery = {
      id: newDeliveryId(), team, eventId: d.event_id, jobId: d.job_id, type: d.type, url: d.url, payload: original.payload, trace: original.trace, replayOf: d.id,
    };
    await this.create(record, now);
    const job = deliveryJob(record);
    await queue.add(job.name, job.data, job.opts);
    // As queued: the sender may already be at its first attempt, which a GET will show.
    return { team, payload: record.payload, trace: record.trace, delivery: pendingOf(record, now) };
  }

  private async getMany(ids: string[]): Promise<Map<string, StoredDelivery>> {
    const found = new Map<string, StoredDelivery>();
    if (ids.length === 0) return found;
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(keys.webhookDelivery(id));
    for (const [err, raw] of (await pipe.exec()) ?? []) {
      const r = raw as Record<string, string> | null;
      if (!err && r?.id) found.set(r.id, parseStored(r));
    }
    return found;
  }
}

/** The BullMQ job that sends a delivery: its id is the delivery's, so a second add of the same delivery is one job, and a replay is its own. */
export function deliveryJob(r: NewDelivery): { name: WebhookEventType; data: WebhookJobData; opts: typeof WEBHOOK_JOB_OPTIONS & { jobId: string } } {
  const data: WebhookJobData = {
    eventId: r.eventId, deliveryId: r.id, jobId: r.jobId, team: r.team, url: r.url, type: r.type, payload: r.payload, ...(r.trace ? { trace: r.trace } : {}),
  };
  return { name: r.type, data, opts: { ...WEBHOOK_JOB_OPTIONS, jobId: r.id } };
}

/** The public view of a record no attempt has touched yet. */
function pendingOf(r: NewDelivery, now: number): WebhookDelivery {
  return {
    id: r.id, object: 'webhook_delivery', event_id: r.eventId, job_id: r.jobId, type: r.type, url: r.url, status: 'pending', attempts: 0,
    last_status_code: null, last_error: null, next_retry_at: null, created_at: new Date(now).toISOString(), delivered_at: null, replay_of: r.replayOf ?? null,
  };
}

const cursorOf = (row: { id: string; score: number }) => `${row.score}:${row.id}`;

function parseCursor(cursor: string | undefined): { id: string; score: number } | null {
  if (!cursor) return null;
  const at = cursor.indexOf(':');
  const score = Number(cursor.slice(0, at));
  // A cursor we did not make starts from the top rather than failing.
  return at > 0 && Number.isFinite(score) ? { score, id: cursor.slice(at + 1) } : null;
}

function toFields(obj: Record<string, string>): string[] {
  return Object.entries(obj).flat();
}

const orNull = (v: string | undefined) => (v ? v : null);

function parseStored(raw: Record<string, string>): StoredDelivery {
  return {
    team: raw.team!,
    payload: raw.payload ?? '',
    trace: orNull(raw.trace) ?? undefined,
    delivery: {
      id: raw.id!,
      object: 'webhook_delivery',
      event_id: raw.event_id!,
      job_id: raw.job_id!,
      type: raw.type as WebhookEventType,
      url: raw.url!,
      status: raw.status as WebhookDeliveryStatus,
      attempts: Number(raw.attempts ?? 0),
      last_status_code: raw.last_status_code ? Number(raw.last_status_code) : null,
      last_error: orNull(raw.last_error),
      next_retry_at: orNull(raw.next_retry_at),
      created_at: raw.created_at!,
      delivered_at: orNull(raw.delivered_at),
      replay_of: orNull(raw.replay_of),
    },
  };
}
