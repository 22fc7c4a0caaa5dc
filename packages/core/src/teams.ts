import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { keys } from './keys.js';

export interface Team {
  id: string;
  name: string;
  /** Standard Webhooks signing secret, `whsec_<base64>`. */
  webhookSecret: string;
}

export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');
export const newApiKey = () => `cv_live_${randomBytes(24).toString('base64url')}`;
export const newWebhookSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

/** Teams and their API keys. Keys are stored only as sha256 hashes. */
export class TeamStore {
  constructor(private readonly redis: Redis) {}

  async ensureTeam(id: string, opts: { name?: string; webhookSecret?: string } = {}): Promise<Team> {
    const key = keys.team(id);
    await this.redis.hsetnx(key, 'name', opts.name ?? id);
    await this.redis.hsetnx(key, 'webhook_secret', opts.webhookSecret ?? newWebhookSecret());
    if (opts.webhookSecret) await this.redis.hset(key, 'webhook_secret', opts.webhookSecret);
    return (await this.getTeam(id))!;
  }

  async getTeam(id: string): Promise<Team | null> {
    const h = await this.redis.hgetall(keys.team(id));
    if (!h.name || !h.webhook_secret) return null;
    return { id, name: h.name, webhookSecret: h.webhook_secret };
  }

  /** Registers an API key (given, or a new one) for a team and returns it in the clear, once. */
  async addApiKey(team: string, key: string = newApiKey(), name = 'default'): Promise<string> {
    await this.redis.hset(keys.apiKey(hashApiKey(key)), { team, name, created_at: new Date().toISOString() });
    return key;
  }

  async authenticate(key: string): Promise<Team | null> {
    const team = await this.redis.hget(keys.apiKey(hashApiKey(key)), 'team');
    return team ? this.getTeam(team) : null;
  }
}
