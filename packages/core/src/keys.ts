/**
 * The Redis key layout, in one place. docs/design.md documents it.
 * Everything clickvid writes lives under `cv:`; BullMQ's own keys live under `bull:`.
 */
export const keys = {
  /** Hash: one field per Job property, JSON-encoded, plus `team`. */
  job: (id: string) => `cv:job:${id}`,
  /**
   * Sorted set of a team's job ids, all scored 0: ordered by id, which sorts by creation.
   * Ids older than the job TTL are trimmed on every add, and the key expires with its newest job.
   */
  teamJobs: (team: string) => `cv:team:${team}:jobs`,
  /** Sorted set of a team's open event streams (request id), scored by lease expiry (ms): the SSE cap. */
  teamStreams: (team: string) => `cv:team:${team}:streams`,
  /**
   * Stream: every job event of a team (`type`, `data` = the TeamEvent JSON without its id),
   * written by the lifecycle scripts with each state change; the entry id is the SSE `id:`.
   * Trimmed to the events window (MINID) and a count (MAXLEN), and expires when idle that long.
   */
  teamEvents: (team: string) => `cv:team:${team}:events`,
  /** Hash: team name, webhook secret, created_at, settings (JSON: the team's overrides of the defaults). */
  team: (team: string) => `cv:team:${team}`,
  /** Sorted set of team ids, scored by creation time (ms). */
  teams: () => 'cv:teams',
  /** Sorted set of a team's API key ids, scored by creation time (ms). */
  teamKeys: (team: string) => `cv:team:${team}:keys`,
  /**
   * Hash: one API key, keyed by the key's sha256: id, team, name, prefix, created_at,
   * last_used_at, expires_at, revoked_at. Never deleted: a revoked key stays as a tombstone
   * so no bootstrap or restart can bring it back.
   */
  apiKey: (sha256: string) => `cv:apikey:${sha256}`,
  /** String: the sha256 of the API key with this id. */
  apiKeyById: (id: string) => `cv:apikey-id:${id}`,
  /** Pub/sub channel: `key:<sha256>` or `team:<id>`, telling every server to drop cached authentications. */
  authEvents: () => 'cv:events:auth',
  /** String (JSON): a pending claim (10 s, renewed) and then the first response to an Idempotency-Key (24 h). */
  idempotency: (team: string, keyHash: string) => `cv:idem:${team}:${keyHash}`,
  /** String: the child job id of a promotion, per (job, quality): a 10 s claim until the job exists, then the job TTL. */
  promotion: (jobId: string, quality: string) => `cv:promote:${jobId}:${quality}`,
  /** Sorted set of queued job ids per lane, scored by enqueue time: queue positions. */
  laneQueued: (lane: string) => `cv:lane:${lane}:queued`,
  /** Sorted set of queued job ids with a deadline, scored by it (ms): what the servers' deadline sweepers read. */
  deadlines: () => 'cv:deadlines',
  /** Sorted set of running job ids per lane, scored by start time (ms): what the reconciler checks. */
  laneRunning: (lane: string) => `cv:lane:${lane}:running`,
  /** Stream: webhook events written by the lifecycle scripts, drained into the webhooks queue (consumer group `senders`). */
  webhookOutbox: () => 'cv:outbox:webhooks',
  /**
   * Hash: one webhook delivery (see DeliveryStore): the public WebhookDelivery fields as
   * strings ('' for null), plus `team`, `payload` (the exact bytes sent) and `trace`.
   * Expires DELIVERY_TTL_S after it was queued, as a failed delivery job does.
   */
  webhookDelivery: (id: string) => `cv:dlv:${id}`,
  /**
   * Sorted set of a team's delivery ids, scored by when they were queued (ms): GET
   * /v1/webhooks/deliveries. Trimmed on every add to DELIVERY_TTL_S and to
   * DELIVERY_INDEX_MAX entries, and expires with its newest delivery.
   */
  teamDeliveries: (team: string) => `cv:team:${team}:deliveries`,
  /** String (JSON): an asset record. */
  asset: (id: string) => `cv:asset:${id}`,
  /** Hash: usage counters for a team and UTC day, in integer micro-units; `reserved_us` holds open quota reservations. */
  usage: (team: string, day: string) => `cv:usage:${team}:${day}`,
  /** String (JSON): the output of a content key, for the output cache. */
  /** Hash: per `<model id>@<version>/<quality>`, the running average of metered ÷ estimated GPU-seconds (CostEstimator). */
  costCalibration: () => 'cv:cost-calibration',
  outputCache: (contentKey: string) => `cv:cache:${contentKey}`,
  /**
   * Sorted set of stored file sets (`<tier>/jobs/<id>/<token>/`), scored by when they may go (ms):
   * the latest expiry of the jobs that point at them (a cache hit raises it). The sweeper claims due ones.
   */
  retentionFiles: () => 'cv:retention:files',
  /** Sorted set of file sets a sweeper is deleting, scored by its lease's end (ms): a dead sweeper's are claimed again. */
  retentionDeleting: () => 'cv:retention:deleting',
  /** Sorted set of `<team> <job id>`, scored by when the record, its asset records and its index entry go (ms). */
  retentionJobs: () => 'cv:retention:jobs',
  /** Sorted set of live workers, scored by last heartbeat (ms). */
  workers: () => 'cv:workers',
  /** Pub/sub channel carrying job updates for SSE. */
  jobEvents: () => 'cv:events:jobs',
  /** Hash: cluster-wide counters and histogram buckets (see ClusterMetrics). */
  metrics: () => 'cv:metrics',
} as const;

/** BullMQ queue names. */
export const QUEUE_NAMES = { draft: 'clickvid-draft', final: 'clickvid-final', webhooks: 'clickvid-webhooks' } as const;
