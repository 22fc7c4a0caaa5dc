/**
 * The Redis key layout, in one place. docs/design.md documents it.
 * Everything clickvid writes lives under `cv:`; BullMQ's own keys live under `bull:`.
 */
export const keys = {
  /** Hash: one field per Job property, JSON-encoded, plus `team`. */
  job: (id: string) => `cv:job:${id}`,
  /** Sorted set of a team's job ids, all scored 0: ordered by id, which sorts by creation. */
  teamJobs: (team: string) => `cv:team:${team}:jobs`,
  /** Hash: team name, webhook secret. */
  team: (team: string) => `cv:team:${team}`,
  /** Hash: team and name of an API key, keyed by the key's sha256. */
  apiKey: (sha256: string) => `cv:apikey:${sha256}`,
  /** String (JSON): the first response to an Idempotency-Key; 24 h TTL. */
  idempotency: (team: string, keyHash: string) => `cv:idem:${team}:${keyHash}`,
  /** String: the child job id of a promotion, per (job, quality). */
  promotion: (jobId: string, quality: string) => `cv:promote:${jobId}:${quality}`,
  /** Sorted set of queued job ids per lane, scored by enqueue time: queue positions. */
  laneQueued: (lane: string) => `cv:lane:${lane}:queued`,
  /** Sorted set of running job ids per lane, scored by start time (ms): what the reconciler checks. */
  laneRunning: (lane: string) => `cv:lane:${lane}:running`,
  /** Stream: webhook events written by the lifecycle scripts, drained into the webhooks queue (consumer group `senders`). */
  webhookOutbox: () => 'cv:outbox:webhooks',
  /** String (JSON): an asset record. */
  asset: (id: string) => `cv:asset:${id}`,
  /** Hash: usage counters for a team and UTC day, in integer micro-units; `reserved_us` holds open quota reservations. */
  usage: (team: string, day: string) => `cv:usage:${team}:${day}`,
  /** String (JSON): the output of a content key, for the output cache. */
  outputCache: (contentKey: string) => `cv:cache:${contentKey}`,
  /** Sorted set of live workers, scored by last heartbeat (ms). */
  workers: () => 'cv:workers',
  /** Pub/sub channel carrying job updates for SSE. */
  jobEvents: () => 'cv:events:jobs',
  /** Hash: cluster-wide counters and histogram buckets (see ClusterMetrics). */
  metrics: () => 'cv:metrics',
} as const;

/** BullMQ queue names. */
export const QUEUE_NAMES = { draft: 'clickvid-draft', final: 'clickvid-final', webhooks: 'clickvid-webhooks' } as const;
