import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '../../../test/harness.js';
import { DELIVERY_INDEX_MAX, DeliveryStore, newDeliveryId, originalDeliveryId, type NewDelivery } from './deliveries.js';
import { Queue } from 'bullmq';
import { createLogger } from './logger.js';
import { WebhookOutbox } from './outbox.js';
import type { WebhookJobData } from './queues.js';
import { keys, QUEUE_NAMES } from './keys.js';
import { createRedis, type Redis } from './redis.js';
import { DELIVERY_TTL_S, webhookRetryDelay } from './webhook-events.js';

let rh: RedisHandle;
let redis: Redis;
let store: DeliveryStore;

beforeAll(async () => {
  rh = await startRedis();
  redis = createRedis(rh.url);
  store = new DeliveryStore(redis);
});
afterAll(async () => {
  redis.disconnect();
  await rh.stop();
});
beforeEach(async () => {
  await redis.flushall();
});

const PAYLOAD = '{"type":"job.succeeded","timestamp":"2026-11-29T16:20:00.310Z","data":{"id":"job_1","status":"succeeded"}}';

function delivery(n: number, over: Partial<NewDelivery> = {}): NewDelivery {
  const eventId = `evt_${String(n).padStart(4, '0')}_succeeded`;
  return { id: originalDeliveryId(eventId), team: 'alpha', eventId, jobId: `job_${n % 3}`, type: 'job.succeeded', url: 'https://example.com/h', payload: PAYLOAD, ...over };
}

describe('DeliveryStore', () => {
  it('writes one record per delivery id: a second hand-over neither duplicates nor resets it', async () => {
    const d = delivery(1);
    expect(await store.createMany([d])).toEqual([true]);
    await store.recordAttempt(d.id, { attempts: 1, status: 'pending', statusCode: 500, error: 'answered 500', nextRetryAt: new Date(Date.now() + 2000) });
    expect(await store.createMany([d])).toEqual([false]);
    const s = (await store.get(d.id))!;
    expect(s.delivery).toMatchObject({ id: d.id, event_id: d.eventId, status: 'pending', attempts: 1, last_status_code: 500, last_error: 'answered 500', replay_of: null });
    expect(s.payload).toBe(PAYLOAD);
    expect(await redis.zcard(keys.teamDeliveries('alpha'))).toBe(1);
    expect(originalDeliveryId(d.eventId)).toBe(d.id);
    expect(newDeliveryId()).not.toBe(newDeliveryId());
  });

  it('sets the expiry (DELIVERY_TTL_S) on the record and the team index', async () => {
    const d = delivery(1);
    await store.create(d);
    for (const key of [keys.webhookDelivery(d.id), keys.teamDeliveries('alpha')]) {
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(DELIVERY_TTL_S - 5);
      expect(ttl).toBeLessThanOrEqual(DELIVERY_TTL_S);
    }
    expect(DELIVERY_TTL_S).toBe(7 * 24 * 3600);
    // An attempt recorded after the record expired does not bring back a record without a TTL.
    await redis.del(keys.webhookDelivery(d.id));
    expect(await store.recordAttempt(d.id, { attempts: 2, status: 'succeeded', statusCode: 200, error: null, nextRetryAt: null })).toBe(false);
    expect(await redis.exists(keys.webhookDelivery(d.id))).toBe(0);
  });

  it('records a success with delivered_at and clears the retry', async () => {
    const d = delivery(1);
    await store.create(d);
    await store.recordAttempt(d.id, { attempts: 2, status: 'succeeded', statusCode: 200, error: null, nextRetryAt: null });
    const got = (await store.get(d.id))!.delivery;
    expect(got).toMatchObject({ status: 'succeeded', attempts: 2, last_status_code: 200, last_error: null, next_retry_at: null });
    expect(Date.parse(got.delivered_at!)).toBeGreaterThan(Date.now() - 5000);
  });

  it('lists newest first with cursors that neither skip nor repeat, even when deliveries share a millisecond', async () => {
    const now = Date.now();
    // 25 deliveries, five to a millisecond.
    for (let i = 0; i < 25; i++) await store.create(delivery(i), now - 1000 + Math.floor(i / 5));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list('alpha', { limit: 7, cursor });
      seen.push(...page.deliveries.map((s) => s.delivery.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect(new Set(seen).size).toBe(25);
    const created = await Promise.all(seen.map(async (id) => Number(await redis.zscore(keys.teamDeliveries('alpha'), id))));
    expect(created).toEqual([...created].sort((a, b) => b - a));
    // The last page says there is no next one.
    expect((await store.list('alpha', { limit: 25 })).nextCursor).toBeNull();
  });

  it('lists in the order they were created, newest first, also within one millisecond', async () => {
    // Ids are derived from event ids (hashes): ties in time must not fall back to their order.
    const now = Date.now();
    const made = Array.from({ length: 12 }, (_, i) => delivery(100 + i));
    for (const d of made) await store.create(d, now);
    const page = await store.list('alpha', { limit: 12 });
    expect(page.deliveries.map((s) => s.delivery.id)).toEqual(made.map((d) => d.id).reverse());
  });

  it('filters by job and status, and lists only the team asked for', async () => {
    for (let i = 0; i < 9; i++) await store.create(delivery(i));
    await store.create(delivery(100, { team: 'beta' }));
    const failed = delivery(4);
    await store.recordAttempt(failed.id, { attempts: 15, status: 'failed', statusCode: 500, error: 'answered 500', nextRetryAt: null });
    const ofJob1 = await store.list('alpha', { limit: 20, filter: (d) => d.job_id === 'job_1' });
    expect(ofJob1.deliveries.map((s) => s.delivery.job_id)).toEqual(['job_1', 'job_1', 'job_1']);
    const onlyFailed = await store.list('alpha', { limit: 20, filter: (d) => d.status === 'failed' });
    expect(onlyFailed.deliveries.map((s) => s.delivery.id)).toEqual([failed.id]);
    expect((await store.list('alpha', { limit: 20 })).deliveries).toHaveLength(9);
    expect((await store.list('beta', { limit: 20 })).deliveries).toHaveLength(1);
    expect(await store.getForTeam('beta', failed.id)).toBeNull();
    expect(await store.getForTeam('alpha', failed.id)).not.toBeNull();
  });

  it('trims the index by age and by count', async () => {
    const now = Date.now();
    await store.create(delivery(1), now - (DELIVERY_TTL_S + 60) * 1000);
    await store.create(delivery(2), now);
    expect(await redis.zrange(keys.teamDeliveries('alpha'), '0', '-1')).toEqual([delivery(2).id]);

    await redis.flushall();
    const records = Array.from({ length: DELIVERY_INDEX_MAX + 5 }, (_, i) => delivery(i, { id: `dlv_${i.toString(36).padStart(6, '0')}` }));
    for (let i = 0; i < records.length; i += 1000) await store.createMany(records.slice(i, i + 1000), now + i);
    expect(await redis.zcard(keys.teamDeliveries('alpha'))).toBe(DELIVERY_INDEX_MAX);
  }, 60_000);

  it('measures what one delivery record costs in Redis', async () => {
    // A job.succeeded body the size the lifecycle script writes for a real job (~1.3 kB).
    const job = {
      id: 'job_0mik3x9q20001a2b3c4d5e6', object: 'job', status: 'succeeded', quality: 'draft', prompt: 'two red circles moving right on a blue background',
      params: { duration_s: 2, fps: 8, frames: 16, width: 64, height: 64, aspect_ratio: '1:1', seed: 1234567 },
      model: { id: 'clickvid-shapes', version: '2.2.0', variant: 'int8', sha256: 'ab'.repeat(32) },
      progress: 1, queue_position: null, estimate: { gpu_seconds: 0.052, credits: 0.052 },
      usage: { gpu_seconds: 0.049, credits: 0.049, batch_size: 2, breakdown: { inference_s: 0.011, encode_s: 0.038 } },
      assets: { video: 'ast_0mik3x9q40001a2b3c4d5e6', poster: 'ast_0mik3x9q40002a2b3c4d5e6' }, error: null, warnings: [],
      metadata: { campaign: 'spring-launch' }, parent_job_id: null, webhook_url: 'https://hooks.example.com/clickvid/webhooks',
      cache_hit: false, degraded: false, attempts: 1, created_at: '2026-11-29T16:20:00.000Z', started_at: '2026-11-29T16:20:00.120Z',
      finished_at: '2026-11-29T16:20:00.310Z', expires_at: '2026-12-06T16:20:00.310Z', deadline_at: null,
    };
    const payload = JSON.stringify({ type: 'job.succeeded', timestamp: '2026-11-29T16:20:00.310Z', data: job });
    const before = Number(await redis.call('MEMORY', 'USAGE', keys.teamDeliveries('alpha'), 'SAMPLES', '0') ?? 0);
    for (let i = 0; i < 100; i++) await store.create(delivery(i, { url: job.webhook_url, payload }));
    const record = Number(await redis.call('MEMORY', 'USAGE', keys.webhookDelivery(delivery(7).id), 'SAMPLES', '0'));
    const index = (Number(await redis.call('MEMORY', 'USAGE', keys.teamDeliveries('alpha'), 'SAMPLES', '0')) - before) / 100;
    console.log(`one delivery: record ${record} B (payload ${payload.length} B) + about ${Math.round(index)} B in the team index`);
    expect(record).toBeGreaterThan(payload.length);
    expect(record).toBeLessThan(payload.length + 1536);
  });
});

describe('WebhookOutbox hand-over', () => {
  it('writes one record and queues one job per event, even when the event is handed over twice', async () => {
    const queue = new Queue<WebhookJobData>(QUEUE_NAMES.webhooks, { connection: redis });
    const outboxRedis = createRedis(rh.url);
    const outbox = new WebhookOutbox(outboxRedis, queue, 'test', createLogger({ logLevel: 'silent' }, 'test'));
    try {
      const entry = ['event', 'evt_abc_succeeded', 'job', 'job_abc', 'team', 'alpha', 'url', 'https://example.com/h', 'type', 'job.succeeded', 'payload', PAYLOAD, 'trace', ''];
      await redis.xadd(keys.webhookOutbox(), '*', ...entry);
      expect(await outbox.drainOnce()).toBe(1);
      const id = originalDeliveryId('evt_abc_succeeded');
      await store.recordAttempt(id, { attempts: 1, status: 'pending', statusCode: 503, error: 'answered 503', nextRetryAt: new Date(Date.now() + 1000) });
      // The same event again (a consumer that died after queueing, before acknowledging).
      await redis.xadd(keys.webhookOutbox(), '*', ...entry);
      expect(await outbox.drainOnce()).toBe(1);
      expect((await store.get(id))!.delivery).toMatchObject({ event_id: 'evt_abc_succeeded', attempts: 1, last_status_code: 503 });
      expect(await redis.zcard(keys.teamDeliveries('alpha'))).toBe(1);
      const job = await queue.getJob(id);
      expect(job?.data).toMatchObject({ eventId: 'evt_abc_succeeded', deliveryId: id, payload: PAYLOAD });
      expect(job?.opts.backoff).toEqual({ type: 'custom' });
      expect(await queue.getJobCounts('wait', 'delayed', 'active')).toEqual({ wait: 1, delayed: 0, active: 0 });
    } finally {
      await outbox.close();
      await queue.close();
    }
  });
});

describe('webhookRetryDelay', () => {
  it('doubles from 2 s with up to half taken off at random', () => {
    expect(webhookRetryDelay(1, () => 0)).toBe(1000);
    expect(webhookRetryDelay(1, () => 0.999_999)).toBe(1999);
    expect(webhookRetryDelay(3, () => 0)).toBe(4000);
    expect(webhookRetryDelay(3, () => 0.999_999)).toBe(7999);
  });
});
