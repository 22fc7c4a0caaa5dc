import { z } from 'zod';
import { Quality } from './jobs.js';

/**
 * The admin API (/v1/admin): teams, their settings and their API keys. Called with an
 * admin key, never a team key.
 */

export const TeamId = z.string().regex(/^[a-z0-9_-]{1,40}$/, 'a team id is 1-40 of a-z, 0-9, _ and -');
export const ApiKeyId = z.string().regex(/^key_[0-9a-z]{10,40}$/, 'an API key id looks like key_…');

export const RateLimits = z.object({
  /** POST requests (submit, promote, cancel) per minute, per key, across all replicas. */
  creates_per_min: z.number().int().min(1).max(1_000_000),
  /** GET requests per minute, per key, across all replicas. */
  reads_per_min: z.number().int().min(1).max(1_000_000),
});
export type RateLimits = z.infer<typeof RateLimits>;

/** What a team may spend and do. Effective values: overrides on the team over the deployment's defaults. */
export const TeamSettings = z.object({
  /** GPU-seconds per UTC day; null is unlimited. */
  daily_gpu_seconds: z.number().positive().nullable(),
  /** Credits per UTC calendar month; null is unlimited. */
  monthly_credits: z.number().positive().nullable(),
  rate_limits: RateLimits,
  /** Qualities the team may submit or promote to (a free tier: ["draft", "standard"]). */
  allowed_qualities: z.array(Quality).min(1),
});
export type TeamSettings = z.infer<typeof TeamSettings>;

/** A partial change of settings: only the fields given change. */
export const TeamSettingsPatch = z.strictObject({
  daily_gpu_seconds: z.number().positive().nullable().optional(),
  monthly_credits: z.number().positive().nullable().optional(),
  rate_limits: RateLimits.partial().strict().optional(),
  allowed_qualities: z.array(Quality).min(1).optional(),
});
export type TeamSettingsPatch = z.infer<typeof TeamSettingsPatch>;

export const Team = z.object({
  id: TeamId,
  object: z.literal('team'),
  name: z.string(),
  settings: TeamSettings,
  /** Standard Webhooks secret the team verifies its webhooks with. */
  webhook_secret: z.string(),
  created_at: z.string(),
});
export type Team = z.infer<typeof Team>;

/** POST /v1/admin/teams */
export const TeamCreateRequest = z.strictObject({
  id: TeamId,
  name: z.string().trim().min(1).max(100).optional(),
  settings: TeamSettingsPatch.optional(),
});
export type TeamCreateRequest = z.infer<typeof TeamCreateRequest>;

/** POST /v1/admin/teams/{id} */
export const TeamUpdateRequest = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  settings: TeamSettingsPatch.optional(),
});
export type TeamUpdateRequest = z.infer<typeof TeamUpdateRequest>;

export const TeamList = z.object({ object: z.literal('list'), data: z.array(Team) });
export type TeamList = z.infer<typeof TeamList>;

/** `expiring`: replaced by a rotation, still accepted until `expires_at`. */
export const ApiKeyStatus = z.enum(['active', 'expiring', 'revoked']);
export type ApiKeyStatus = z.infer<typeof ApiKeyStatus>;

export const ApiKey = z.object({
  id: ApiKeyId,
  object: z.literal('api_key'),
  team: TeamId,
  name: z.string(),
  /** The first characters of the key, to recognise it; the key itself is shown once, at creation. */
  prefix: z.string(),
  status: ApiKeyStatus,
  created_at: z.string(),
  /** Updated in batches (every few seconds), not on every request. */
  last_used_at: z.string().nullable(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
export type ApiKey = z.infer<typeof ApiKey>;

/** A new key, with its secret: the only time the secret is shown. */
export const ApiKeyWithSecret = ApiKey.extend({ key: z.string() });
export type ApiKeyWithSecret = z.infer<typeof ApiKeyWithSecret>;

/** POST /v1/admin/teams/{id}/keys */
export const ApiKeyCreateRequest = z.strictObject({
  name: z.string().trim().min(1).max(100).default('default'),
});
export type ApiKeyCreateRequest = z.input<typeof ApiKeyCreateRequest>;

export const ApiKeyList = z.object({ object: z.literal('list'), data: z.array(ApiKey) });
export type ApiKeyList = z.infer<typeof ApiKeyList>;

/** POST /v1/admin/keys/{id}/rotate */
export const ApiKeyRotateRequest = z.strictObject({
  /** Seconds the old key keeps working after the new one is issued; 0 revokes it at once. */
  overlap_s: z.number().int().min(0).max(30 * 86_400).default(0),
  /** Name of the new key. @defaultValue the old key's name */
  name: z.string().trim().min(1).max(100).optional(),
});
export type ApiKeyRotateRequest = z.input<typeof ApiKeyRotateRequest>;

export const ApiKeyRotation = z.object({
  object: z.literal('api_key_rotation'),
  key: ApiKeyWithSecret,
  replaced: ApiKey,
});
export type ApiKeyRotation = z.infer<typeof ApiKeyRotation>;
