import type { EffectiveParams, ModelRef, Quality } from '@clickvid/contracts';
import { keys } from './keys.js';
import type { ModelRegistry } from './model-registry.js';
import type { Redis } from './redis.js';

/** How much one job's meter moves the calibration: about the last ten jobs count. */
const ALPHA = 0.2;
/** A single odd meter reading (a paused VM, a cold file cache) moves the ratio this far at most. */
const RATIO_BOUNDS = [0.05, 20] as const;

/** Moves the stored ratio toward one observation, atomically: several workers write the same field. */
const OBSERVE = `
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
local x = tonumber(ARGV[2])
local v = x
if cur then v = cur + tonumber(ARGV[3]) * (x - cur) end
redis.call('HSET', KEYS[1], ARGV[1], string.format('%.6f', v))
return string.format('%.6f', v)`;

/**
 * GPU-second estimates that follow the meter. The manifest's `ms_per_video` was measured
 * once, on one machine; what a job is billed is what it took here (wall-clock inference
 * and encode, on this hardware, under this load). Workers write an average of
 * metered ÷ estimated per model version and quality; servers read it every few seconds
 * (one Redis call per refresh, none per request) and scale the manifest's estimate by it.
 *
 * Quota reservations are these estimates, so a burst admitted against a quota ends within
 * about one job's estimate of it, whatever the hardware (measured in bench/tenants.mjs).
 */
export class CostEstimator {
  private factors = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly redis: Redis) {}

  /**
   * Estimated GPU-seconds of one job of this quality and these parameters on `model`: the
   * version the job runs on (a canary's jobs are estimated with the canary's manifest and factor).
   */
  seconds(model: ModelRegistry, quality: Quality, params: EffectiveParams): number {
    return model.estimateSeconds(quality, params) * this.factor(model.modelRef(quality), quality);
  }

  /** The calibration factor in use for a model version and quality (1 until a job of it was metered). */
  factor(model: Pick<ModelRef, 'id' | 'version'>, quality: Quality): number {
    return this.factors.get(field(model, quality)) ?? 1;
  }

  /** Records one metered job of `model` (the version that ran it). Called by the worker after a rendered (not cached) job succeeded. */
  async observe(model: ModelRegistry, quality: Quality, params: EffectiveParams, meteredS: number): Promise<void> {
    const estimated = model.estimateSeconds(quality, params);
    if (!(estimated > 0) || !(meteredS > 0)) return;
    const ratio = Math.min(RATIO_BOUNDS[1], Math.max(RATIO_BOUNDS[0], meteredS / estimated));
    const f = field(model.modelRef(quality), quality);
    const v = Number(await this.redis.eval(OBSERVE, 1, keys.costCalibration(), f, ratio, ALPHA));
    this.factors.set(f, v);
  }

  /** Reads every factor now. */
  async refresh(): Promise<void> {
    const all = await this.redis.hgetall(keys.costCalibration());
    const next = new Map<string, number>();
    for (const [f, v] of Object.entries(all)) {
      const n = Number(v);
      if (Number.isFinite(n) && n > 0) next.set(f, n);
    }
    this.factors = next;
  }

  /** Reads now, then every `everyMs`; a failed read keeps the last factors (a Redis outage refuses submits anyway). */
  async start(everyMs = 5000): Promise<void> {
    await this.refresh().catch(() => undefined);
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

function field(model: Pick<ModelRef, 'id' | 'version'>, quality: Quality): string {
  return `${model.id}@${model.version}/${quality}`;
}
