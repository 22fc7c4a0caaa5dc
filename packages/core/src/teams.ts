import { createHash, randomBytes } from 'node:crypto';
import { TeamSettingsPatch, type ApiKey, type TeamSettings } from '@clickvid/contracts';
import type { Redis } from 'ioredis';
import { newId } from './ids.js';
import { keys } from './keys.js';

export interface Team {
  id: string;
  name: string;
  /** Standard Webhooks signing secret, `whsec_<base64>`. */
  webhookSecret: string;
  /** Effective settings: the team's overrides over the deployment's defaults. */
  settings: TeamSettings;
  createdAt: string | null;
}

/** What a successful authentication yields; `expiresAt` (ms) is set on a key a rotation replaced. */
export interface KeyAuth {
  team: Team;
  keyId: string;
  sha256: string;
  expiresAt: number | null;
}

export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');
/** 32 random bytes: high enough entropy that an unsalted sha256 is a safe way to store it. */
export const newApiKey = () => `cv_live_${randomBytes(32).toString('base64url')}`;
export const newWebhookSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

/** Settings with a patch applied: only the fields the patch names change. */
export function applySettings(base: TeamSettings, patch: TeamSettingsPatch): TeamSettings {
  return {
    daily_gpu_seconds: patch.daily_gpu_seconds !== undefined ? patch.daily_gpu_seconds : base.daily_gpu_seconds,
    monthly_credits: patch.monthly_credits !== undefined ? patch.monthly_credits : base.monthly_credits,
    rate_limits: { ...base.rate_limits, ...patch.rate_limits },
    allowed_qualities: patch.allowed_qualities ?? base.allowed_qualities,
  };
}

// Creates a key record unless one exists under this hash: a revoked key stays a tombstone
// whatever re-adds it (a bootstrap on every start used to resurrect it).
const CREATE_KEY = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'team', ARGV[2], 'name', ARGV[3], 'prefix', ARGV[4], 'created_at', ARGV[5])
redis.call('SET', KEYS[2], ARGV[7])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])
return 1`;

// Sets a field on existing key records only (never creates a partial record).
const TOUCH_KEYS = `
for i, k in ipairs(KEYS) do
  if redis.call('EXISTS', k) == 1 then redis.call('HSET', k, 'last_used_at', ARGV[i]) end
end
return #KEYS`;

const CREATE_TEAM = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[1], 'webhook_secret', ARGV[2], 'created_at', ARGV[3], 'settings', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
return 1`;

export type TeamStoreErrorCode = 'team_not_found' | 'team_exists' | 'api_key_not_found' | 'api_key_revoked';

/** A refusal of the store, with the catalogue code the API answers with. */
export class TeamStoreError extends Error {
  override name = 'TeamStoreError';
  constructor(readonly code: TeamStoreErrorCode, message: string) {
    super(message);
  }
}

/**
 * Teams, their settings and their API keys. Keys are stored only as sha256 hashes,
 * indexed per team, and never deleted: revocation leaves a tombstone. Every change
 * that can make a cached authentication wrong publishes on `keys.authEvents()`.
 */
export class TeamStore {
  constructor(
    private readonly redis: Redis,
    /** Settings of a team where it sets none of its own. */
    private readonly defaults: TeamSettings,
  ) {}

  /** Creates the team if it does not exist (bootstrap). A given webhook secret is applied either way. */
  async ensureTeam(id: string, opts: { name?: string; webhookSecret?: string } = {}): Promise<Team> {
    await this.redis.eval(CREATE_TEAM, 2, keys.team(id), keys.teams(), opts.name ?? id, opts.webhookSecret ?? newWebhookSecret(), new Date().toISOString(), '{}', Date.now(), id);
    if (opts.webhookSecret) await this.redis.hset(keys.team(id), 'webhook_secret', opts.webhookSecret);
    // Teams made before the index existed join it here.
    await this.redis.zadd(keys.teams(), 'NX', Date.now(), id);
    return (await this.getTeam(id))!;
  }

  async createTeam(id: string, opts: { name?: string | undefined; settings?: TeamSettingsPatch | undefined } = {}): Promise<Team> {
    const created = await this.redis.eval(CREATE_TEAM, 2, keys.team(id), keys.teams(), opts.name ?? id, newWebhookSecret(), new Date().toISOString(), JSON.stringify(opts.settings ?? {}), Date.now(), id);
    if (created !== 1) throw new TeamStoreError('team_exists', `Team ${id} already exists.`);
    return (await this.getTeam(id))!;
  }

  async getTeam(id: string): Promise<Team | null> {
    return this.toTeam(id, await this.redis.hgetall(keys.team(id)));
  }

  async listTeams(): Promise<Team[]> {
    const ids = await this.redis.zrange(keys.teams(), '0', '-1');
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(keys.team(id));
    const res = (await pipe.exec()) ?? [];
    return ids.map((id, i) => this.toTeam(id, (res[i]?.[1] ?? {}) as Record<string, string>)).filter((t): t is Team => t !== null);
  }

  /** Renames a team or patches its settings, and tells every server to drop its cached copy. */
  async updateTeam(id: string, change: { name?: string | undefined; settings?: TeamSettingsPatch | undefined }): Promise<Team> {
    const h = await this.redis.hgetall(keys.team(id));
    if (!this.toTeam(id, h)) throw new TeamStoreError('team_not_found', `No team ${id}.`);
    const fields: Record<string, string> = {};
    if (change.name) fields.name = change.name;
    if (change.settings) {
      const before = parseOverrides(h.settings);
      fields.settings = JSON.stringify({ ...before, ...change.settings, ...(change.settings.rate_limits ? { rate_limits: { ...before.rate_limits, ...change.settings.rate_limits } } : {}) });
    }
    if (Object.keys(fields).length) {
      await this.redis.hset(keys.team(id), fields);
      await this.redis.publish(keys.authEvents(), `team:${id}`);
    }
    return (await this.getTeam(id))!;
  }

  /** Issues a new key for a team: the secret is returned here, once, and stored only hashed. */
  async createKey(team: string, name = 'default'): Promise<{ key: string; record: ApiKey }> {
    if (!(await this.getTeam(team))) throw new TeamStoreError('team_not_found', `No team ${team}.`);
    const key = newApiKey();
    await this.insertKey(team, key, name);
    return { key, record: (await this.keyRecord(hashApiKey(key)))! };
  }

  /**
   * Registers a given key (bootstrap, tests) unless its hash is known: a revoked key
   * stays revoked, and a key of another team is left alone. Returns the key.
   */
  async addApiKey(team: string, key: string = newApiKey(), name = 'default'): Promise<string> {
    await this.insertKey(team, key, name);
    return key;
  }

  private async insertKey(team: string, key: string, name: string): Promise<boolean> {
    const sha = hashApiKey(key);
    const id = newId('key');
    const created = await this.redis.eval(CREATE_KEY, 3, keys.apiKey(sha), keys.apiKeyById(id), keys.teamKeys(team), id, team, name, key.slice(0, 12), new Date().toISOString(), Date.now(), sha);
    return created === 1;
  }

  async getKey(id: string): Promise<ApiKey | null> {
    const sha = await this.redis.get(keys.apiKeyById(id));
    return sha ? this.keyRecord(sha) : null;
  }

  async listKeys(team: string): Promise<ApiKey[]> {
    if (!(await this.getTeam(team))) throw new TeamStoreError('team_not_found', `No team ${team}.`);
    const ids = await this.redis.zrange(keys.teamKeys(team), '0', '-1');
    if (!ids.length) return [];
    const shas = await this.redis.mget(ids.map((id) => keys.apiKeyById(id)));
    const pipe = this.redis.pipeline();
    for (const sha of shas) pipe.hgetall(keys.apiKey(sha ?? 'missing'));
    const res = (await pipe.exec()) ?? [];
    return res.map(([, h]) => toKey(h as Record<string, string>)).filter((k): k is ApiKey => k !== null);
  }

  /** Revokes a key for good (idempotent) and evicts it from every server's cache. */
  async revokeKey(id: string): Promise<ApiKey> {
    const sha = await this.redis.get(keys.apiKeyById(id));
    if (!sha) throw new TeamStoreError('api_key_not_found', `No API key ${id}.`);
    await this.redis.hsetnx(keys.apiKey(sha), 'revoked_at', new Date().toISOString());
    await this.redis.publish(keys.authEvents(), `key:${sha}`);
    return (await this.keyRecord(sha))!;
  }

  /**
   * A new key for the same team; the old one is revoked now (`overlapS` 0) or keeps
   * working for `overlapS` seconds so clients can switch without an outage.
   */
  async rotateKey(id: string, overlapS = 0, name?: string): Promise<{ key: string; record: ApiKey; replaced: ApiKey }> {
    const old = await this.getKey(id);
    if (!old) throw new TeamStoreError('api_key_not_found', `No API key ${id}.`);
    if (old.status === 'revoked') throw new TeamStoreError('api_key_revoked', `API key ${id} is revoked; create a new key instead.`);
    const fresh = await this.createKey(old.team, name ?? old.name);
    let replaced: ApiKey;
    if (overlapS === 0) replaced = await this.revokeKey(id);
    else {
      const sha = (await this.redis.get(keys.apiKeyById(id)))!;
      const until = Date.now() + overlapS * 1000;
      // A second rotation never lengthens an earlier, shorter overlap.
      if (!old.expires_at || Date.parse(old.expires_at) > until) await this.redis.hset(keys.apiKey(sha), 'expires_at', new Date(until).toISOString());
      await this.redis.publish(keys.authEvents(), `key:${sha}`);
      replaced = (await this.keyRecord(sha))!;
    }
    return { ...fresh, replaced };
  }

  /** The team of a live key, or null (unknown, revoked, or past its rotation overlap). Two Redis reads. */
  async authenticate(key: string): Promise<KeyAuth | null> {
    const sha = hashApiKey(key);
    const h = await this.redis.hgetall(keys.apiKey(sha));
    if (!h.team || h.revoked_at) return null;
    const expiresAt = h.expires_at ? Date.parse(h.expires_at) : null;
    if (expiresAt !== null && expiresAt <= Date.now()) return null;
    const team = await this.getTeam(h.team);
    // Keys stored before keys had ids are still valid; they count under a digest instead.
    return team ? { team, keyId: h.id ?? sha.slice(0, 32), sha256: sha, expiresAt } : null;
  }

  /** Records when keys were last used: called in batches by the server, never per request. */
  async touchKeys(lastUsed: ReadonlyMap<string, number>): Promise<void> {
    if (!lastUsed.size) return;
    const shas = [...lastUsed.keys()];
    await this.redis.eval(TOUCH_KEYS, shas.length, ...shas.map((s) => keys.apiKey(s)), ...shas.map((s) => new Date(lastUsed.get(s)!).toISOString()));
  }

  private async keyRecord(sha: string): Promise<ApiKey | null> {
    return toKey(await this.redis.hgetall(keys.apiKey(sha)));
  }

  private toTeam(id: string, h: Record<string, string>): Team | null {
    if (!h.name || !h.webhook_secret) return null;
    return { id, name: h.name, webhookSecret: h.webhook_secret, settings: applySettings(this.defaults, parseOverrides(h.settings)), createdAt: h.created_at ?? null };
  }
}

/** A team's stored overrides; a record that does not parse counts as none (the defaults apply). */
function parseOverrides(json: string | undefined): TeamSettingsPatch {
  if (!json) return {};
  try {
    const parsed = TeamSettingsPatch.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

function toKey(h: Record<string, string>): ApiKey | null {
  if (!h.id || !h.team) return null;
  const expired = h.expires_at !== undefined && Date.parse(h.expires_at) <= Date.now();
  return {
    id: h.id,
    object: 'api_key',
    team: h.team,
    name: h.name ?? 'default',
    prefix: h.prefix ?? '',
    status: h.revoked_at || expired ? 'revoked' : h.expires_at ? 'expiring' : 'active',
    created_at: h.created_at ?? '',
    last_used_at: h.last_used_at ?? null,
    expires_at: h.expires_at ?? null,
    revoked_at: h.revoked_at ?? (expired ? h.expires_at! : null),
  };
}
