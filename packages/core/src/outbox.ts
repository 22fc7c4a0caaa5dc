import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { keys } from './keys.js';
import { fieldsOf } from './redis.js';
import type { Logger } from './logger.js';
import type { WebhookJobData } from './queues.js';
import { DeliveryStore, deliveryJob, originalDeliveryId, type NewDelivery } from './deliveries.js';

const GROUP = 'senders';
/** An entry a consumer read but did not acknowledge for this long is taken over: that consumer died. */
export const OUTBOX_CLAIM_IDLE_MS = 15_000;
const BATCH = 100;

/**
 * Drains the webhook outbox (a Redis stream the lifecycle scripts write, one entry per
 * terminal event with a snapshot of its payload) into the `webhooks` queue. Every process
 * that ends jobs runs one — workers, and API servers, since cancels make events — as
 * consumers of one group, so each entry is handled by one of them. An entry is
 * acknowledged (and deleted) only after its delivery job is in the queue; one read by a
 * consumer that died is reclaimed after {@link OUTBOX_CLAIM_IDLE_MS}. Each entry becomes a
 * delivery record (DeliveryStore) and a delivery job, both with an id derived from the event
 * id, so handing an entry over twice still records and queues one delivery.
 */
export class WebhookOutbox {
  private stopping = false;
  private loop: Promise<void> | null = null;
  private readonly deliveries: DeliveryStore;

  /** `redis` is a connection of the outbox's own: it blocks on XREADGROUP. */
  constructor(
    private readonly redis: Redis,
    private readonly queue: Queue<WebhookJobData>,
    private readonly consumer: string,
    private readonly logger: Logger,
  ) {
    this.deliveries = new DeliveryStore(redis);
  }

  start(): void {
    this.loop ??= this.run();
  }

  async close(): Promise<void> {
    this.stopping = true;
    // Wakes a blocked XREADGROUP; entries it had read stay pending and are reclaimed.
    this.redis.disconnect();
    await this.loop?.catch(() => undefined);
  }

  /** Hands over whatever is pending now, once (tests, and the reconciler). Answers the entries handed over. */
  async drainOnce(): Promise<number> {
    await this.ensureGroup();
    const [, claimed] = (await this.redis.xautoclaim(keys.webhookOutbox(), GROUP, this.consumer, OUTBOX_CLAIM_IDLE_MS, '0-0', 'COUNT', BATCH)) as [string, Entry[]];
    let n = await this.handOver(claimed);
    const read = (await this.redis.xreadgroup('GROUP', GROUP, this.consumer, 'COUNT', BATCH, 'STREAMS', keys.webhookOutbox(), '>')) as Array<[string, Entry[]]> | null;
    n += await this.handOver(read?.[0]?.[1] ?? []);
    return n;
  }

  private async run(): Promise<void> {
    let lastClaim = 0;
    while (!this.stopping) {
      try {
        await this.ensureGroup();
        if (Date.now() - lastClaim > OUTBOX_CLAIM_IDLE_MS / 3) {
          lastClaim = Date.now();
          const [, claimed] = (await this.redis.xautoclaim(keys.webhookOutbox(), GROUP, this.consumer, OUTBOX_CLAIM_IDLE_MS, '0-0', 'COUNT', BATCH)) as [string, Entry[]];
          await this.handOver(claimed);
        }
        const read = (await this.redis.xreadgroup(
          'GROUP', GROUP, this.consumer, 'COUNT', BATCH, 'BLOCK', 1000, 'STREAMS', keys.webhookOutbox(), '>',
        )) as Array<[string, Entry[]]> | null;
        await this.handOver(read?.[0]?.[1] ?? []);
      } catch (err) {
        if (this.stopping) return;
        this.logger.warn({ err }, 'webhook outbox: retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private grouped = false;
  private async ensureGroup(): Promise<void> {
    if (this.grouped) return;
    try {
      // From the stream's start: events written before any consumer existed are delivered too.
      await this.redis.xgroup('CREATE', keys.webhookOutbox(), GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
    this.grouped = true;
  }

  private async handOver(entries: Entry[]): Promise<number> {
    const ids: string[] = [];
    const records: NewDelivery[] = [];
    for (const [id, flat] of entries) {
      if (!flat) continue; // deleted meanwhile
      const f = fieldsOf(flat);
      records.push({
        id: originalDeliveryId(f.event!), eventId: f.event!, jobId: f.job!, team: f.team!, url: f.url!, type: f.type as WebhookJobData['type'], payload: f.payload!,
        trace: f.trace || undefined,
      });
      ids.push(id);
    }
    if (ids.length === 0) return 0;
    // Record first, then queue: a crash between the two leaves a pending record whose job the
    // next hand-over adds (the record is written once: its id derives from the event id).
    await this.deliveries.createMany(records);
    await this.queue.addBulk(records.map(deliveryJob));
    await this.redis.multi().xack(keys.webhookOutbox(), GROUP, ...ids).xdel(keys.webhookOutbox(), ...ids).exec();
    return ids.length;
  }
}

type Entry = [id: string, fields: string[] | null];
