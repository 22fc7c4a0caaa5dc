/**
 * The `--json` output each command documents in its `--help` (the JSON OUTPUT section, drawn by
 * ../help.ts). A test parses every one with the contract's schema, so help cannot show a shape
 * the API no longer has. Plain data: command modules import it without cost.
 */
const job = {
  id: 'job_8f2kq4m1xz',
  object: 'job',
  status: 'succeeded',
  quality: 'draft',
  prompt: 'two red circles moving right on a blue background',
  params: { duration_s: 1, fps: 8, frames: 8, width: 64, height: 64, aspect_ratio: '1:1', seed: 7 },
  model: { id: 'clickvid-shapes', version: '2.2.0', variant: 'int8', sha256: '3b1f0c9a'.repeat(8) },
  progress: 1,
  queue_position: null,
  estimate: { gpu_seconds: 0.052, credits: 0.052 },
  usage: { gpu_seconds: 0.049, credits: 0.049, batch_size: 2, breakdown: { inference_s: 0.011, encode_s: 0.038 } },
  assets: { video: 'asset_v8f2kq4m1xz', poster: 'asset_p8f2kq4m1xz' },
  error: null,
  warnings: [],
  metadata: { campaign: 'spring' },
  parent_job_id: null,
  webhook_url: null,
  cache_hit: false,
  degraded: false,
  attempts: 1,
  created_at: '2026-11-29T16:20:00.000Z',
  started_at: '2026-11-29T16:20:00.120Z',
  finished_at: '2026-11-29T16:20:00.310Z',
  expires_at: '2026-12-06T16:20:00.310Z',
} as const;

const queued = {
  ...job, status: 'queued', progress: 0, queue_position: 0, usage: null, assets: null, attempts: 0, started_at: null, finished_at: null, expires_at: null,
} as const;

const output = { path: '/home/me/clip.mp4', bytes: 18734, asset_id: 'asset_v8f2kq4m1xz' } as const;

const asset = {
  id: 'asset_v8f2kq4m1xz', object: 'asset', job_id: 'job_8f2kq4m1xz', kind: 'video', content_type: 'video/mp4', bytes: 18734,
  width: 64, height: 64, frames: 8, duration_s: 1, sha256: 'e3b0c442'.repeat(8),
  url: 'http://127.0.0.1:8080/v1/assets/asset_v8f2kq4m1xz/content?expires=1764433500&sig=7Qm…',
  expires_at: '2026-11-29T16:25:00.000Z', created_at: '2026-11-29T16:20:00.310Z',
} as const;

const team = {
  id: 'acme', object: 'team', name: 'Acme Studio',
  settings: { daily_gpu_seconds: 3600, monthly_credits: null, rate_limits: { creates_per_min: 120, reads_per_min: 1200 }, allowed_qualities: ['draft', 'standard', 'final'] },
  webhook_secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', created_at: '2026-11-29T09:00:00.000Z',
} as const;

const apiKey = {
  id: 'key_4k2m9x7q1z', object: 'api_key', team: 'acme', name: 'ci', prefix: 'cv_live_4k2m', status: 'active',
  created_at: '2026-11-29T09:05:00.000Z', last_used_at: '2026-11-29T16:20:00.000Z', expires_at: null, revoked_at: null,
} as const;

const delivery = {
  id: 'dlv_3f9c2a7e1b0d4c8a9e6f5a4b3c', object: 'webhook_delivery', event_id: 'evt_8f2kq4m1xz_succeeded', job_id: job.id, type: 'job.succeeded',
  url: 'https://example.com/hooks/clickvid', status: 'pending', attempts: 1, last_status_code: 500, last_error: 'https://example.com/hooks/clickvid answered 500',
  next_retry_at: '2026-11-29T16:20:02.310Z', created_at: '2026-11-29T16:20:00.320Z', delivered_at: null, replay_of: null,
} as const;

export const JSON_EXAMPLES = {
  /** generate, promote, jobs wait: the job, plus `output` when a video was downloaded. */
  jobResult: { ...job, output },
  /** jobs get, jobs cancel. */
  job: queued,
  jobList: { object: 'list', data: [job], next_cursor: 'job_7d1a0c3b2e' },
  /** webhooks replay: the new delivery, as queued. */
  delivery: {
    ...delivery, id: 'dlv_9a1b2c3d4e5f60718293a4b5c6', status: 'pending', attempts: 0, last_status_code: null, last_error: null, next_retry_at: null,
    created_at: '2026-11-29T16:30:00.000Z', replay_of: delivery.id,
  },
  deliveryList: { object: 'list', data: [delivery], next_cursor: null },
  /** jobs watch: one event a line (NDJSON). */
  jobEvents: [
    { type: 'status', job: queued },
    { type: 'progress', job: { ...queued, status: 'running', queue_position: null, progress: 0.5, started_at: job.started_at } },
    { type: 'done', job },
  ],
  /** listen: one line per event forwarded (NDJSON). */
  listen: [
    { id: '1764433200120-0', type: 'job.running', job_id: job.id, status: 200, attempts: 1 },
    { id: '1764433200310-0', type: 'job.succeeded', job_id: job.id, status: 200, attempts: 1 },
  ],
  asset,
  download: output,
  models: {
    object: 'list',
    data: [{
      id: 'clickvid-shapes', object: 'model', version: '2.2.0', channel: 'stable', traffic_share: 0.8, description: 'Coloured shapes moving on a plain background.',
      variants: [{ name: 'int8', precision: 'int8', sha256: '3b1f0c9a'.repeat(8), bytes: 1_204_224, width: 64, height: 64 }],
      tiers: [{
        quality: 'draft', variant: 'int8', precision: 'int8', width: 64, height: 64, fps: 8, duration_s: 1, max_duration_s: 4,
        max_batch: 8, ms_per_video: { '1': 6.1, '8': 2.4 }, credits_per_gpu_second: 1, estimate_gpu_seconds: 0.052,
      }],
      vocabulary: ['circle', 'square', 'triangle', 'red', 'blue', 'moving', 'right'],
      aspect_ratios: ['1:1', '16:9', '9:16', '4:5'],
    }],
  },
  usage: {
    object: 'usage', team: 'team_default', from: '2026-11-29', to: '2026-11-29',
    data: [{ day: '2026-11-29', quality: 'draft', model_version: '2.0.0', campaign: 'spring', jobs: 12, gpu_seconds: 0.61, credits: 0.61 }],
    totals: { jobs: 12, gpu_seconds: 0.61, credits: 0.61 },
    quota: { gpu_seconds_per_day: null, used_today: 0.61 },
  },
  batch: {
    object: 'batch', manifest: { path: '/ci/campaign.jsonl', sha256: '9f86d081'.repeat(8) }, out_dir: '/ci/renders',
    state_file: '/ci/renders/.clickvid-batch.json', total: 1, ok: 1, failed: 0, skipped: 0, gpu_seconds: 0.049, credits: 0.049,
    estimate_gpu_seconds: 0.052, budget_gpu_seconds: null,
    rows: [{
      index: 0, name: 'shot-0', file: 'shot-0.mp4', idempotency_key: `cvb-${'5e884898'.repeat(8)}`, status: 'downloaded',
      job_id: job.id, bytes: 18734, gpu_seconds: 0.049, credits: 0.049, seconds: 1.2, error: null,
    }],
  },
  /** prompts check: how the model reads a prompt; `error` is set when a submit would be refused. */
  promptCheck: {
    object: 'prompt_check', prompt: '2 red balls rising on a black backdrop', normalized: 'two red circles moving up on a black background',
    known: ['two', 'red', 'circles', 'moving', 'up', 'black', 'background'], unknown: [], warnings: [], refused: false, error: null,
    quality: 'draft', params: { duration_s: 1, fps: 8, frames: 8, width: 64, height: 64, aspect_ratio: '1:1', seed: null },
    model: job.model, estimate: { gpu_seconds: 0.052, credits: 0.052 },
  },
  configList: {
    profile: 'default', url: 'https://api.clickvid.example', url_source: 'profile', api_key: 'cv_liv…9QzA', api_key_source: 'profile',
    refused: [], files: { dev_json: null, profile: '/home/me/.config/clickvid/config.json' },
    profiles: [{ name: 'default', url: 'https://api.clickvid.example', api_key: 'cv_liv…9QzA' }],
  },
  configGet: { profile: 'default', key: 'url', value: 'https://api.clickvid.example' },
  configSet: { profile: 'default', url: 'https://api.clickvid.example', api_key: 'cv_liv…9QzA', path: '/home/me/.config/clickvid/config.json' },
  login: { profile: 'default', url: 'https://api.clickvid.example', team: 'team_default', api_key: 'cv_liv…9QzA', path: '/home/me/.config/clickvid/config.json' },
  team,
  teamList: { object: 'list', data: [team] },
  apiKey,
  apiKeyWithSecret: { ...apiKey, last_used_at: null, key: 'cv_live_4k2m9x7q1zT0pS3cr3tT0pS3cr3t' },
  apiKeyList: { object: 'list', data: [apiKey] },
  apiKeyRevoked: { ...apiKey, status: 'revoked', revoked_at: '2026-11-29T16:30:00.000Z' },
  apiKeyRotation: {
    object: 'api_key_rotation',
    key: { ...apiKey, id: 'key_8p3n5v2w6y', created_at: '2026-11-29T16:30:00.000Z', last_used_at: null, key: 'cv_live_8p3n5v2w6yN3wS3cr3tN3wS3cr3t' },
    replaced: { ...apiKey, status: 'expiring', expires_at: '2026-11-29T17:30:00.000Z' },
  },
} as const;
