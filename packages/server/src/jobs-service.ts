import { randomInt } from 'node:crypto';
import { Metadata, METADATA_MAX_KEYS, type EffectiveParams, type GenerateRequest, type Job, type Quality } from '@clickvid/contracts';
import {
  contentKey, creditsThisMonth, type CostEstimator, dailyQuotaSeconds, keys, laneFor, liveWorkers, modelDigest, newId, RECORD_TTL_MARGIN_S, round,
  type AssetStore, type Config, type JobLifecycle, type JobStore, type ModelRegistry, type ModelVersions, type OutputCache, type Queues, type Redis,
  type Storage, type StoredJob, type Team, type TraceParent, type UsageLedger,
} from '@clickvid/core';
import { ApiError } from './errors.js';
import { Claim } from './internal/claim.js';
import { JobWriter } from './internal/job-writer.js';
import { moderatePrompt } from './internal/moderation.js';
import type { WebhookTargets } from './internal/webhook-url.js';
import type { Metrics } from './metrics.js';

const QUALITY_RANK: Record<Quality, number> = { draft: 0, standard: 1, final: 2 };

export interface JobsServiceDeps {
  config: Config;
  redis: Redis;
  store: JobStore;
  lifecycle: JobLifecycle;
  /** The versions served: a new job is routed among them, a derived one pinned to its parent's. */
  models: ModelVersions;
  estimator: CostEstimator;
  queues: Queues;
  cache: OutputCache;
  storage: Storage;
  metrics: Metrics;
  webhookTargets: WebhookTargets;
  /** Read for the monthly credit budget (billing itself is the lifecycle scripts'). */
  ledger: UsageLedger;
  /** Read to sign a succeeded job's asset URLs. */
  assets: AssetStore;
}

/**
 * Everything that creates or changes a job on behalf of a caller: generate, iterate,
 * promote and cancel. Routes stay thin; this is where the rules live.
 */
export class JobsService {
  private readonly writer: JobWriter;
  /** The draft tier's defaults, whose estimate the predicted wait counts per queued job. */
  private readonly draftDefaults: EffectiveParams;

  constructor(private readonly d: JobsServiceDeps) {
    this.writer = new JobWriter(d);
    this.draftDefaults = d.models.stable.resolveParams('draft', {}, () => 0);
  }

  /** A team's job, or 404 (another team's job is indistinguishable from none). */
  async get(team: Team, id: string): Promise<StoredJob> {
    const s = await this.d.store.get(id);
    if (!s || s.team !== team.id) throw new ApiError('job_not_found', `No job ${id}.`, { param: 'id' });
    return s;
  }

  /** The job as the API shows it, with its live queue position and, once it succeeded, signed asset URLs. */
  async present(s: StoredJob): Promise<Job> {
    return (await this.presentMany([s]))[0]!;
  }

  /**
   * Jobs as the API shows them. The asset records of a whole page are read in one MGET and
   * signed here (an HMAC, or an S3 presign: no request either way), so a page of posters
   * costs its reader no request per job.
   */
  async presentMany(list: StoredJob[]): Promise<Job[]> {
    const ids = list.flatMap((s) => (s.job.assets ? [s.job.assets.video, s.job.assets.poster] : []));
    const records = await this.d.assets.getMany(ids);
    const byId = new Map(records.flatMap((r) => (r ? [[r.id, r] as const] : [])));
    const ttlS = this.d.config.storage.urlTtlS;
    return Promise.all(
      list.map(async (s) => {
        if (s.job.status === 'queued') return { ...s.job, queue_position: await this.d.store.queuePosition(s.lane, s.job.id) };
        const video = s.job.assets && byId.get(s.job.assets.video);
        const poster = s.job.assets && byId.get(s.job.assets.poster);
        if (!video || !poster) return s.job;
        const [v, p] = await Promise.all([video, poster].map((r) => this.d.storage.signedUrl(r.storage_key, r, ttlS)));
        const expires = Math.min(v!.expiresAt.getTime(), p!.expiresAt.getTime());
        return { ...s.job, urls: { video: v!.url, poster: p!.url, expires_at: new Date(expires).toISOString() } };
      }),
    );
  }

  /**
   * POST /v1/generate, with or without from_job.
   * @param trace - the submit's span: the job's worker and webhook spans are its children
   */
  async generate(team: Team, req: GenerateRequest, trace: TraceParent | null = null): Promise<Job> {
    const parent = req.from_job ? (await this.get(team, req.from_job)).job : null;
    const quality = req.quality ?? parent?.quality ?? 'draft';
    const prompt = req.prompt ?? parent?.prompt;
    if (!prompt) throw new ApiError('validation_failed', 'prompt is required (or from_job to iterate on).', { param: 'prompt' });
    // Iterating keeps the framing and seed; the fps carries over only within the same tier.
    const inherit = parent
      ? {
          duration_s: parent.params.duration_s,
          aspect_ratio: parent.params.aspect_ratio,
          seed: parent.params.seed,
          ...(parent.quality === quality ? { fps: parent.params.fps } : {}),
        }
      : {};
    return this.create(team, {
      prompt,
      quality,
      params: { ...inherit, ...pick(req, ['duration_s', 'fps', 'aspect_ratio', 'seed']) },
      metadata: parent ? mergedMetadata(parent, req.metadata) : (req.metadata ?? {}),
      webhookUrl: req.webhook_url ?? null,
      parentId: parent?.id ?? null,
      pinVersion: parent?.model.version ?? null,
      allowDegrade: true,
      deadlineS: req.deadline_s,
      trace,
    });
  }

  /**
   * POST /v1/jobs/{id}/promote: a new job at a higher tier with the same prompt, seed and
   * framing. Idempotent per (job, quality): the first call creates it, later ones return it.
   */
  async promote(team: Team, id: string, quality: Quality, webhookUrl: string | undefined, trace: TraceParent | null = null): Promise<{ job: Job; created: boolean }> {
    const parent = (await this.get(team, id)).job;
    if (parent.status === 'failed' || parent.status === 'canceled') {
      throw new ApiError('job_not_promotable', `Job ${id} is ${parent.status}; only queued, running or succeeded jobs can be promoted.`);
    }
    if (QUALITY_RANK[quality] <= QUALITY_RANK[parent.quality]) {
      throw new ApiError('unsupported_parameter', `Job ${id} is already ${parent.quality}; promote to a higher quality.`, { param: 'quality' });
    }
    const key = keys.promotion(id, quality);
    const childId = newId('job');
    // A short claim, renewed while the job is created, that becomes the lasting (job, quality)
    // record only once the job exists: a server dying in between blocks the promotion for
    // seconds, not for the record's 30 days.
    const claim = await Claim.take(this.d.redis, key, childId);
    if (!claim) {
      const existing = await this.waitForPromotion(key);
      if (!existing) return this.promote(team, id, quality, webhookUrl, trace); // the claimant gave up: take it now
      return { job: await this.present(existing), created: false };
    }
    try {
      const job = await this.create(
        team,
        {
          prompt: parent.prompt,
          quality,
          params: { duration_s: parent.params.duration_s, aspect_ratio: parent.params.aspect_ratio, seed: parent.params.seed },
          metadata: parent.metadata,
          webhookUrl: webhookUrl ?? parent.webhook_url,
          parentId: parent.id,
          pinVersion: parent.model.version,
          allowDegrade: false,
          promoted: true,
          trace,
        },
        childId,
      );
      // As long as the child's record may live (its files' lifetime and the grace after it).
      const { filesS, graceS } = this.d.config.retention;
      await claim.commit(childId, filesS[quality] + graceS + RECORD_TTL_MARGIN_S).catch(() => claim.abandon());
      return { job, created: true };
    } catch (err) {
      await claim.release().catch(() => claim.abandon());
      throw err;
    }
  }

  /** POST /v1/jobs/{id}/cancel: idempotent for canceled jobs; 409 for finished ones. */
  async cancel(team: Team, id: string): Promise<Job> {
    const s = await this.get(team, id);
    if (s.job.status === 'canceled') return s.job;
    // One script: the record, the reservation released, the counters, the webhook in the outbox.
    const { verdict, stored } = await this.d.lifecycle.cancel(id);
    if (verdict === 'missing' || !stored) throw new ApiError('job_not_found', `No job ${id}.`, { param: 'id' });
    if (verdict === 'refused') throw new ApiError('job_not_cancelable', `Job ${id} has already ${stored.job.status}.`);
    // A queued job leaves the queue now; a running one stops at its next step (the worker checks).
    if (verdict === 'done') await this.d.queues[s.lane].remove(id).catch(() => 0);
    return stored.job;
  }

  private async create(
    team: Team,
    spec: {
      prompt: string;
      quality: Quality;
      params: { duration_s?: number; fps?: number; aspect_ratio?: Job['params']['aspect_ratio']; seed?: number };
      metadata: Record<string, string>;
      webhookUrl: string | null;
      parentId: string | null;
      /** The parent's model version (from_job, promote): the job renders with it, not with whichever version routing picks. */
      pinVersion: string | null;
      allowDegrade: boolean;
      /** A promotion starts from its parent's latents (the worker's StartLatents): its cache key is the worker's to make. */
      promoted?: boolean;
      /** Seconds from now until the job must have started (`deadline_s`); none by default. */
      deadlineS?: number | undefined;
      /** The submit's span context, carried in the queue entry and kept on the record. */
      trace: TraceParent | null;
    },
    id = newId('job'),
  ): Promise<Job> {
    const { models, config } = this.d;
    const allowed = team.settings.allowed_qualities;
    if (!allowed.includes(spec.quality)) {
      throw new ApiError('quality_not_allowed', `Team ${team.id}'s plan does not include ${spec.quality} renders; it can use ${allowed.join(', ')}.`, {
        param: 'quality', details: { allowed_qualities: allowed },
      });
    }
    const blocked = moderatePrompt(spec.prompt);
    if (blocked) throw new ApiError('prompt_rejected', `The prompt was refused by moderation ("${blocked}").`, { param: 'prompt' });
    // The seed is drawn first: it and the prompt decide the version (a canary's share of new jobs).
    const seed = spec.params.seed ?? randomInt(0, 2 ** 31);
    const pinned = spec.pinVersion === null ? null : models.pinned(spec.pinVersion);
    const registry: ModelRegistry = pinned?.registry ?? models.route(spec.prompt, seed);
    const encoded = registry.encodePrompt(spec.prompt);
    if (spec.webhookUrl) await this.d.webhookTargets.check(spec.webhookUrl);

    const warnings = registry.promptWarnings(encoded);
    if (pinned?.warning) warnings.push(pinned.warning);

    let params = registry.resolveParams(spec.quality, { ...spec.params, seed }, () => seed);
    const lane = laneFor(spec.quality);
    let degraded = false;
    if (spec.allowDegrade && lane === 'draft' && spec.params.fps === undefined) {
      const wait = await this.predictedWaitMs(lane);
      if (wait > config.draftWaitBudgetMs) {
        // Half the frames: the same clip, choppier, at half the compute.
        const fps = Math.max(1, Math.floor(params.fps / 2));
        params = registry.resolveParams(spec.quality, { ...spec.params, fps, seed: params.seed }, () => params.seed);
        degraded = true;
        warnings.push(`The draft queue is busy (about ${Math.round(wait / 1000)} s); rendered at ${fps} fps to keep it fast.`);
      }
    }

    // The quota is checked, and the estimate reserved against it, by the accept script.
    const estimateS = this.d.estimator.seconds(registry, spec.quality, params);

    const budget = team.settings.monthly_credits;
    if (budget !== null && (await creditsThisMonth(this.d.ledger, team.id)) + estimateS * config.creditsPerGpuSecond > budget) {
      throw new ApiError('budget_exceeded', `The team's monthly budget of ${budget} credits would be exceeded by this job.`, { headers: { 'retry-after': String(secondsToNextUtcMonth()) } });
    }

    const model = registry.modelRef(spec.quality);
    const now = new Date().toISOString();
    const job: Job = {
      id,
      object: 'job',
      status: 'queued',
      quality: spec.quality,
      prompt: spec.prompt,
      params,
      model,
      progress: 0,
      queue_position: null,
      estimate: { gpu_seconds: round(estimateS), credits: round(estimateS * config.creditsPerGpuSecond) },
      usage: null,
      assets: null,
      error: null,
      warnings,
      metadata: spec.metadata,
      parent_job_id: spec.parentId,
      webhook_url: spec.webhookUrl,
      cache_hit: false,
      degraded,
      attempts: 0,
      created_at: now,
      started_at: null,
      finished_at: null,
      expires_at: null,
      ...(spec.deadlineS !== undefined ? { deadline_at: new Date(Date.parse(now) + spec.deadlineS * 1000).toISOString() } : {}),
    };

    const key = spec.promoted ? null : contentKey(team.id, modelDigest(registry), model, encoded.normalized, params);
    return this.writer.write({ job, team: team.id, lane, contentKey: key, quotaS: dailyQuotaSeconds(team), trace: spec.trace });
  }

  /**
   * A queued job waits for the jobs ahead of it, in batches, shared among live workers.
   * Read from a snapshot refreshed at most every 250 ms: the submit path must not pay
   * three Redis round trips for a prediction.
   */
  private async predictedWaitMs(lane: 'draft' | 'final'): Promise<number> {
    const { depth, workers } = await this.laneSnapshot(lane);
    return (depth * this.d.estimator.seconds(this.d.models.stable, 'draft', this.draftDefaults) * 1000) / workers;
  }

  private readonly snapshots = new Map<string, { at: number; value: Promise<{ depth: number; workers: number }> }>();

  private laneSnapshot(lane: 'draft' | 'final'): Promise<{ depth: number; workers: number }> {
    const now = Date.now();
    let snap = this.snapshots.get(lane);
    if (!snap || now - snap.at > 250) {
      const value = Promise.all([this.d.store.queueDepth(lane), liveWorkers(this.d.redis)]).then(([depth, w]) => ({ depth, workers: Math.max(1, w) }));
      snap = { at: now, value };
      this.snapshots.set(lane, snap);
      value.catch(() => this.snapshots.delete(lane));
    }
    return snap.value;
  }

  /**
   * Another request is creating this promotion right now: wait briefly for its job. Null
   * when its claim went away without a job (it failed, or its server died).
   */
  private async waitForPromotion(key: string): Promise<StoredJob | null> {
    for (let i = 0; i < 50; i++) {
      const childId = await this.d.redis.get(key);
      if (!childId) return null;
      const s = await this.d.store.get(childId);
      if (s) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new ApiError('idempotency_key_in_use', 'This promotion is still being created; retry shortly.', { headers: { 'retry-after': '1' } });
  }
}

/**
 * An iteration's metadata: the parent's, overridden by the request's. The limits apply to
 * the result, or a chain of from_job calls would add 16 keys a step without end.
 */
function mergedMetadata(parent: Job, own: Record<string, string> | undefined): Record<string, string> {
  const merged = { ...parent.metadata, ...own };
  const n = Object.keys(merged).length;
  if (n > METADATA_MAX_KEYS) {
    throw new ApiError(
      'validation_failed',
      `metadata: with the ${Object.keys(parent.metadata).length} keys inherited from ${parent.id}, the job would have ${n} keys; at most ${METADATA_MAX_KEYS}.`,
      { param: 'metadata' },
    );
  }
  // The parent may predate a rule (control characters): refuse with the rule, not a 500.
  const checked = Metadata.safeParse(merged);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new ApiError('validation_failed', `metadata (with what ${parent.id} passes on): ${issue.message}`, { param: ['metadata', ...issue.path].join('.') });
  }
  return checked.data;
}

function pick<T extends object, K extends keyof T>(o: T, ks: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of ks) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

function secondsToNextUtcMonth(): number {
  const now = new Date();
  return Math.ceil((Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - now.getTime()) / 1000);
}
